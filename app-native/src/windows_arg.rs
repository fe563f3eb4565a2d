//! The `--windows SHARE@AT,...` flag of `retest` and `robustness`: test windows that replace a
//! run's own `[clip] test_windows` for one command.

use amr_core::data::clip::TestWindow;
use amr_core::eval::EvalCheckpoint;

/// One `SHARE@AT` window (share of the valid frames, position: 0 the start, 0.5 the centre, 1 the end).
pub fn parse_window(s: &str) -> Result<TestWindow, String> {
    let expected = || format!("{s}: expected SHARE@AT, two numbers such as 0.75@0.5");
    let (share, at) = s.split_once('@').ok_or_else(expected)?;
    let (share, at) = (share.trim().parse().map_err(|_| expected())?, at.trim().parse().map_err(|_| expected())?);
    Ok(TestWindow { share, at })
}

/// Gives `ckpt` the test windows `windows` (none: it keeps its own) and checks its clip settings,
/// naming `--windows` and the window that is out of range.
pub fn set_windows(ckpt: &mut EvalCheckpoint, windows: &[TestWindow]) -> anyhow::Result<()> {
    if !windows.is_empty() {
        ckpt.config.clip.test_windows = windows.to_vec();
    }
    ckpt.config.clip.validate().map_err(|e| anyhow::anyhow!("--windows: {e}"))
}

#[cfg(test)]
mod tests {
    use super::parse_window;

    #[test]
    fn windows_parse_as_share_at_position() {
        let w = parse_window("0.75@0.25").unwrap();
        assert_eq!((w.share, w.at), (0.75, 0.25));
        for bad in ["0.75", "x@0.5", "0.5@"] {
            assert!(parse_window(bad).unwrap_err().contains("expected SHARE@AT"), "{bad}");
        }
    }
}
