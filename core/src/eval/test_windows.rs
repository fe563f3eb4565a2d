//! Multi-window testing: a test sequence is classified from several windows of its valid frames
//! (`[clip] test_windows`), the mean of their class logits; with none configured, from the one centre
//! crop of the published protocols.

use crate::data::Dataset;
use crate::data::clip::{ClipConfig, window_clip};
use crate::features::pack_clips;

/// Test clips of the sequences `idx` of `ds`, one per window of [`ClipConfig::test_views`], the
/// windows of each sequence together (sequence 0's windows, then sequence 1's, ...), in the model
/// layout.
///
/// # Shapes
/// -> values of [idx.len() * windows, M, T, V, 3] and that shape
pub fn window_clips(ds: &Dataset, idx: &[usize], cfg: &ClipConfig) -> (Vec<f32>, [usize; 5]) {
    let (m, t, v) = (ds.persons, cfg.frames, ds.layout.joint_count());
    let windows = cfg.test_views();
    let clips: Vec<_> =
        idx.iter().flat_map(|&i| windows.iter().map(move |w| window_clip(&ds.sequences[i], cfg, w))).collect();
    (pack_clips(&clips, m, t, v), [clips.len(), m, t, v, 3])
}

/// The mean over each sequence's `windows` consecutive rows of class scores (as [`window_clips`]
/// orders them); one window returns the scores as they are.
///
/// # Shapes
/// `scores`: [N * windows, classes] -> [N, classes] (row-major values)
pub fn mean_over_windows(scores: Vec<f32>, windows: usize, classes: usize) -> Vec<f32> {
    if windows <= 1 || classes == 0 {
        return scores;
    }
    let scale = 1.0 / windows as f32;
    scores
        .chunks(windows * classes)
        .flat_map(|rows| (0..classes).map(move |c| rows.chunks(classes).map(|row| row[c]).sum::<f32>() * scale))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::clip::{TestWindow, test_clip};
    use crate::data::synthetic_dataset;
    use crate::skeleton::ntu25;

    #[test]
    fn the_mean_over_windows_averages_each_sequences_rows() {
        // Two sequences, two windows, three classes.
        let scores = vec![1.0, 2.0, 3.0, 3.0, 0.0, -1.0, 0.5, 0.5, 0.5, 1.5, 2.5, -0.5];
        assert_eq!(mean_over_windows(scores.clone(), 2, 3), vec![2.0, 1.0, 1.0, 1.0, 1.5, 0.0]);
        assert_eq!(mean_over_windows(scores.clone(), 1, 3), scores);
    }

    #[test]
    fn window_clips_hold_each_sequences_windows_in_order() {
        let ds = synthetic_dataset(&ntu25(), 3, 50, 1, 4);
        let windows = vec![TestWindow { share: 0.95, at: 0.5 }, TestWindow { share: 0.5, at: 0.0 }];
        let cfg = ClipConfig { frames: 8, test_windows: windows.clone(), ..Default::default() };
        let idx = [2, 0];
        let (x, shape) = window_clips(&ds, &idx, &cfg);
        assert_eq!(shape, [4, ds.persons, 8, ds.layout.joint_count(), 3]);
        let plain = ClipConfig { test_windows: Vec::new(), ..cfg.clone() };
        let expected: Vec<_> = idx
            .iter()
            .flat_map(|&i| [test_clip(&ds.sequences[i], &plain), window_clip(&ds.sequences[i], &cfg, &windows[1])])
            .collect();
        assert_eq!(x, pack_clips(&expected, shape[1], 8, shape[3]));
        assert_ne!(x[..x.len() / 4], x[x.len() / 4..x.len() / 2], "the two windows differ");
    }
}
