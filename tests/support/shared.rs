//! The switch for tests on the data in `../shared` (HDM05, the whole Bandai-2 file, the MAMP fixture),
//! which a bare clone does not have and whose licenses keep out of the repository: set `AMR_SHARED` to
//! that folder (`.ci/run` does when it is there). Without it such a test says loudly that it checked
//! nothing and returns.

use std::path::PathBuf;

/// The shared folder, or `None` (after a loud line on stderr) when `AMR_SHARED` is not set.
pub fn shared(test: &str) -> Option<PathBuf> {
    match std::env::var_os("AMR_SHARED") {
        Some(d) if !d.is_empty() => Some(PathBuf::from(d)),
        _ => {
            eprintln!(
                "SKIPPED {test}: it needs AMR_SHARED=<the ../shared folder>, which is not set; it checked nothing"
            );
            None
        }
    }
}
