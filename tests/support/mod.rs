//! Helpers shared by the end-to-end tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

mod shared;
#[allow(unused_imports)]
pub use shared::shared;

/// The Bandai-2 BVH takes kept in the repository (CC BY-NC 4.0, see tests/data/NOTICE.md).
pub fn bandai_bvh() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/bandai2-bvh")
}

/// A scratch folder for one test file, emptied on its first use in this test process, so that no
/// test passes on what an earlier run left behind.
pub fn tmp_dir(name: &str) -> PathBuf {
    static FRESH: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let mut fresh = FRESH.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if !fresh.iter().any(|n| n == name) {
        let _ = std::fs::remove_dir_all(&d);
        fresh.push(name.to_string());
    }
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Number of distinct colours in a picture (ImageMagick's `identify -format %k`).
pub fn unique_colours(png: &Path) -> usize {
    let o = Command::new("identify")
        .args(["-format", "%k"])
        .arg(png)
        .output()
        .expect("ImageMagick `identify` (apt install imagemagick)");
    String::from_utf8_lossy(&o.stdout).trim().parse().unwrap_or(0)
}

/// Waits up to `secs` for `f` to return Some.
pub fn wait_for<T>(secs: u64, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < end {
        if let Some(v) = f() {
            return Some(v);
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    None
}

/// Kills a child process when dropped.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Number of pixels of a PNG for which `f(x, y, [r, g, b])` holds.
pub fn count_pixels(png: &Path, f: impl Fn(u32, u32, [u8; 3]) -> bool) -> usize {
    let img = image::open(png).unwrap_or_else(|e| panic!("{}: {e}", png.display())).to_rgb8();
    img.enumerate_pixels().filter(|(x, y, p)| f(*x, *y, p.0)).count()
}
