//! A clamd of the test's own (issue 20): a private config and signature database under
//! target/clamd/, whose only signature is the EICAR test file's MD5 made with `sigtool --md5`
//! (the official database needs the internet), listening on a Unix socket. clamd must be
//! installed (`make test` installs clamav-daemon); without it the tests fail.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::manifest_dir;

/// The EICAR anti-virus test file (in two pieces, so this source is not itself a detection).
pub fn eicar() -> Vec<u8> {
    let mut v = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR".to_vec();
    v.extend_from_slice(b"-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*");
    v
}

pub struct Clamd {
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Clamd {
    /// Writes the database and config, starts clamd and waits for its socket to answer PING.
    pub fn start() -> Clamd {
        let root = manifest_dir().join("target").join("clamd");
        std::fs::create_dir_all(&root).expect("target/clamd");
        let dir = tempfile::Builder::new()
            .prefix("c")
            .tempdir_in(&root)
            .expect("clamd dir");
        let db = dir.path().join("db");
        std::fs::create_dir_all(&db).expect("db dir");
        write_database(&db);
        let conf = dir.path().join("clamd.conf");
        std::fs::write(
            &conf,
            format!(
                "LocalSocket {}\nDatabaseDirectory {}\nForeground yes\nLogFile {}\n\
                 StreamMaxLength 64M\nMaxThreads 4\n",
                dir.path().join("clamd.sock").display(),
                db.display(),
                dir.path().join("clamd.log").display()
            ),
        )
        .expect("clamd.conf");
        let child = Command::new("clamd")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "clamd must be installed (make test installs it: apt-get install -y clamav-daemon)",
            );
        let mut c = Clamd {
            dir,
            child: Some(child),
        };
        c.wait_ready();
        c
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("clamd.sock")
    }

    /// `uploads.clamd` for this daemon.
    pub fn address(&self) -> String {
        format!("unix:{}", self.socket().display())
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if ping(&self.socket()) {
                return;
            }
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(status)) = c.try_wait() {
                    let log = std::fs::read_to_string(self.dir.path().join("clamd.log"));
                    panic!("clamd exited ({status}): {}", log.unwrap_or_default());
                }
            }
            assert!(Instant::now() < deadline, "clamd did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the daemon (its socket then refuses connections).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_file(self.socket());
    }
}

impl Drop for Clamd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `db/eicar.hdb`: `sigtool --md5` of the EICAR file, as clamd's hash-signature format.
fn write_database(db: &Path) {
    let sample = db.join("eicar.com");
    std::fs::write(&sample, eicar()).expect("write the sample");
    let out = Command::new("sigtool")
        .arg("--md5")
        .arg("eicar.com")
        .current_dir(db)
        .output()
        .expect("sigtool must be installed (it comes with clamav)");
    assert!(out.status.success(), "sigtool failed: {out:?}");
    std::fs::remove_file(&sample).expect("remove the sample");
    std::fs::write(db.join("eicar.hdb"), out.stdout).expect("write eicar.hdb");
}

fn ping(socket: &Path) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::os::unix::net::UnixStream::connect(socket) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let mut reply = [0u8; 5];
    s.write_all(b"zPING\0").is_ok() && s.read_exact(&mut reply).is_ok() && &reply == b"PONG\0"
}
