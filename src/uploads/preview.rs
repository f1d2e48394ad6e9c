//! Previews of files that are not images (issue 20): a PDF's first page by poppler's `pdftoppm`
//! and a video's poster frame by `ffmpeg`, two well-kept tools that already read every PDF and
//! video format and whose output size is set on the command line (`-scale-to`, `scale=`), so a
//! huge page or frame never becomes a huge image. Each runs as its own process under `prlimit`
//! (address space), with a deadline after which it is killed; the PNG it writes is then read
//! through the image thumbnail path (pixel cap, re-encoding) like an uploaded image. Blocking:
//! runs on the blocking pool. The original file is only read.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What kind of preview a content type gets, and how its bytes are read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Source {
    Pdf,
    /// A video read with this ffmpeg demuxer (named, never guessed by ffmpeg: a playlist posing
    /// as a video could otherwise make it open other files or URLs).
    Video(&'static str),
}

/// The preview source of a sniffed content type, if it gets one.
pub fn source_of(content_type: &str) -> Option<Source> {
    let demuxer = match content_type {
        "application/pdf" => return Some(Source::Pdf),
        "video/mp4" | "video/quicktime" | "video/x-m4v" => "mov",
        "video/webm" | "video/x-matroska" => "matroska",
        "video/x-msvideo" => "avi",
        "video/mpeg" => "mpeg",
        "video/x-flv" => "flv",
        _ => return None,
    };
    Some(Source::Video(demuxer))
}

/// Address space a preview process may use.
const MAX_ADDRESS_SPACE: u64 = 1024 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error("{tool} took longer than {limit:?}")]
    Timeout { tool: &'static str, limit: Duration },
    #[error("{tool} failed ({status})")]
    Failed { tool: &'static str, status: String },
    #[error("{0} wrote no image")]
    NoOutput(&'static str),
    #[error("running the preview tool: {0}")]
    Io(#[from] std::io::Error),
}

/// Renders the preview of `input` as a PNG at most `box_px` on its long side into `out_dir`;
/// answers its path. Blocking.
pub fn render(
    input: &Path,
    source: Source,
    out_dir: &Path,
    box_px: u32,
    limit: Duration,
) -> Result<PathBuf, PreviewError> {
    let out = out_dir.join("preview.png");
    let (tool, mut cmd) = match source {
        Source::Pdf => ("pdftoppm", pdftoppm(input, out_dir, box_px)),
        Source::Video(demuxer) => ("ffmpeg", ffmpeg(input, demuxer, &out, box_px)),
    };
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let status = wait_until(child, tool, limit)?;
    if !status.success() {
        return Err(PreviewError::Failed {
            tool,
            status: status.to_string(),
        });
    }
    if !out.is_file() {
        return Err(PreviewError::NoOutput(tool));
    }
    Ok(out)
}

/// The tool behind `prlimit`, so its memory is capped too.
fn limited(tool: &str) -> Command {
    let mut cmd = Command::new("prlimit");
    cmd.arg(format!("--as={MAX_ADDRESS_SPACE}"))
        .arg("--")
        .arg(tool);
    cmd
}

/// First page only, scaled so its long side is `box_px`: `out_dir/preview.png`.
fn pdftoppm(input: &Path, out_dir: &Path, box_px: u32) -> Command {
    let mut cmd = limited("pdftoppm");
    cmd.args(["-png", "-f", "1", "-l", "1", "-singlefile", "-scale-to"])
        .arg(box_px.to_string())
        .arg(input)
        .arg(out_dir.join("preview"));
    cmd
}

/// A representative frame of the first few (ffmpeg's `thumbnail` filter), fitted in a `box_px`
/// square, no audio, subtitles or data streams, one thread.
fn ffmpeg(input: &Path, demuxer: &str, out: &Path, box_px: u32) -> Command {
    let mut cmd = limited("ffmpeg");
    let filter =
        format!("thumbnail=30,scale=w={box_px}:h={box_px}:force_original_aspect_ratio=decrease");
    cmd.args(["-nostdin", "-v", "error", "-threads", "1", "-f", demuxer])
        .args(["-protocol_whitelist", "file"])
        .arg("-i")
        .arg(input)
        .args(["-an", "-sn", "-dn", "-vf", &filter])
        .args(["-frames:v", "1", "-f", "image2", "-c:v", "png", "-y"])
        .arg(out);
    cmd
}

/// Waits for `child`, killing it at the deadline.
fn wait_until(
    mut child: Child,
    tool: &'static str,
    limit: Duration,
) -> Result<std::process::ExitStatus, PreviewError> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(PreviewError::Timeout { tool, limit });
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pdfs_and_known_videos_get_previews() {
        assert_eq!(source_of("application/pdf"), Some(Source::Pdf));
        assert_eq!(source_of("video/mp4"), Some(Source::Video("mov")));
        assert_eq!(source_of("video/webm"), Some(Source::Video("matroska")));
        for none in [
            "image/png",
            "text/plain",
            "application/zip",
            "video/unknown",
        ] {
            assert_eq!(source_of(none), None, "{none}");
        }
    }

    #[test]
    fn a_tool_past_its_deadline_is_killed() {
        let child = Command::new("sleep").arg("5").spawn().expect("sleep");
        let started = Instant::now();
        let e = wait_until(child, "sleep", Duration::from_millis(100)).expect_err("timeout");
        assert!(matches!(e, PreviewError::Timeout { .. }), "{e}");
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
