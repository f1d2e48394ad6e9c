//! Real `confab serve` processes (so they can really be killed or signalled) and a real
//! redis-server, for the tests of several nodes, start-up and shutdown.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use crate::helpers::*;

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A redis-server of the test's own, on a free port; stop and start it to cut the link.
pub struct Redis {
    port: u16,
    child: Option<Child>,
}

impl Redis {
    pub fn start() -> Redis {
        let mut r = Redis {
            port: free_port(),
            child: None,
        };
        r.up();
        r
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn up(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (make test installs it: apt-get install -y redis-server)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn down(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.down();
    }
}

/// A Confab node running as its own process.
pub struct Node {
    pub http: Http,
    pub child: Child,
}

impl std::ops::Deref for Node {
    type Target = Http;
    fn deref(&self) -> &Http {
        &self.http
    }
}

/// A node process that was started and has not said its port yet.
pub struct Launching {
    child: Child,
    port: Receiver<Result<u16, String>>,
}

impl Launching {
    /// Waits for the node's port; panics with the node's last error line when it exits instead.
    pub fn ready(self) -> Node {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut last = String::from("(nothing)");
        let port = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.port.recv_timeout(left) {
                Ok(Ok(port)) => break port,
                Ok(Err(line)) => last = line,
                Err(e) => panic!("the node did not report its port ({e}); last error: {last}"),
            }
        };
        Node {
            http: Http::new(port),
            child: self.child,
        }
    }

    /// Waits for the process to exit (it is expected to refuse to start); answers its stderr's
    /// error lines.
    pub fn failure(mut self) -> String {
        let status = self.child.wait().unwrap();
        assert!(!status.success(), "the node was expected to fail");
        let mut lines = Vec::new();
        while let Ok(Err(line)) = self.port.recv_timeout(Duration::from_secs(5)) {
            lines.push(line);
        }
        lines.join("\n")
    }
}

impl Node {
    /// A node on `redis` (empty: a single node with the in-process broker).
    pub fn start(db_url: &str, secret: &str, redis: &str) -> Node {
        Node::launch(db_url, secret, redis, &[]).ready()
    }

    /// Starts the process with extra `CONFAB__…` settings and returns at once.
    pub fn launch(db_url: &str, secret: &str, redis: &str, env: &[(&str, &str)]) -> Launching {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_confab"));
        cmd.arg("serve")
            .env("CONFAB_CONFIG_DIR", manifest_dir().join("config"))
            .env("DATABASE_URL", db_url)
            .env("CONFAB__DATABASE__URL", db_url)
            .env("CONFAB__AUTH__JWT_SECRET", secret)
            .env("CONFAB__SERVER__PORT", "0")
            .env("CONFAB__SERVER__WORKERS", "1")
            .env("CONFAB__DATABASE__POOL_SIZE", "6")
            .env("CONFAB__WEBHOOKS__IDLE_PRIORITY", "false")
            .env("CONFAB__BROKER__REDIS_URL", redis)
            .env("CONFAB__BROKER__PRESENCE_TTL_SECS", "3")
            .env("CONFAB__REALTIME__PRESENCE_GRACE_SECS", "1")
            .env("RUST_LOG", "info");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start a confab node");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        // The node says its port in its log; the rest of the log is drained so it never blocks.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("ERROR") || line.contains("WARN") || line.contains("redis") {
                    eprintln!("node: {line}");
                }
                if let Some(port) = line.split("listening on port ").nth(1) {
                    let _ = tx.send(port.trim().parse::<u16>().map_err(|e| e.to_string()));
                } else if line.starts_with("confab: ") || line.contains("ERROR") {
                    let _ = tx.send(Err(line));
                }
            }
        });
        Launching { child, port: rx }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A PostgreSQL cluster of the test's own (found and run the way `scripts/pg.sh` does: as the
/// `postgres` user when the tests run as root), so a test can stop and start it.
pub struct OwnPostgres {
    dir: std::path::PathBuf,
    bin: std::path::PathBuf,
    pub port: u16,
}

fn pg_bin() -> std::path::PathBuf {
    let on_path = Command::new("sh")
        .args(["-c", "command -v initdb"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| std::path::PathBuf::from(s.trim()))
        .and_then(|p| p.parent().map(|d| d.to_path_buf()));
    let mut versions: Vec<std::path::PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    versions.sort();
    versions.reverse();
    on_path
        .into_iter()
        .chain(versions)
        .find(|d| {
            ["initdb", "pg_ctl", "postgres"]
                .iter()
                .all(|b| d.join(b).exists())
        })
        .expect("PostgreSQL server binaries (initdb, pg_ctl, postgres)")
}

fn as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

impl OwnPostgres {
    pub fn start() -> OwnPostgres {
        let dir =
            std::env::temp_dir().join(format!("confab-own-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let pg = OwnPostgres {
            bin: pg_bin(),
            port: free_port(),
            dir,
        };
        if as_root() {
            let ok = Command::new("chown")
                .arg("postgres:")
                .arg(&pg.dir)
                .status()
                .unwrap();
            assert!(ok.success());
        }
        let data = pg.dir.join("data");
        pg.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
            ],
        );
        pg.up();
        pg
    }

    /// `bin` of the cluster's binaries, run as `postgres` when the tests run as root.
    fn command(&self, bin: &str) -> Command {
        let exe = self.bin.join(bin);
        if as_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    fn run(&self, bin: &str, args: &[&str]) {
        let out = self.command(bin).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{bin} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn up(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.display()
        );
        let data = self.dir.join("data");
        let log = self.dir.join("server.log");
        self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-o",
                &opts,
                "start",
            ],
        );
    }

    /// Stops it at once (`-m fast`: open connections are terminated).
    pub fn down(&self) {
        let data = self.dir.join("data");
        self.run(
            "pg_ctl",
            &["-D", data.to_str().unwrap(), "-m", "fast", "-w", "stop"],
        );
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let args = ["-D", data.to_str().unwrap_or(""), "-m", "immediate", "stop"];
        let _ = self.command("pg_ctl").args(args).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
