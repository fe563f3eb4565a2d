//! Focal weights in the AMR target-patch layout.
//!
//! A target patch is r * l consecutive frames of one joint; patches are ordered time-major
//! (index = s * V + v for time slot s), and the values inside a patch are [frame u][xyz], so a patch
//! holds r * l * 3 values, exactly as the decoder predicts them.

use super::FocalWeights;

/// Broadcasts per-frame weights [T, M, V] into the target-patch layout [M, (T / (r l)) * V, r * l * 3].
/// Returns None if r * l does not divide T.
///
/// # Shapes
/// `per_frame`: [T, M, V] -> [M, (T / (r l)) * V, r * l * 3]
pub fn window_weights_to_patches(
    per_frame: &[f32],
    frames: usize,
    persons: usize,
    joints: usize,
    l: usize,
    r: usize,
) -> Option<Vec<f32>> {
    let span = r * l;
    if span == 0 || !frames.is_multiple_of(span) || per_frame.len() != frames * persons * joints {
        return None;
    }
    let slots = frames / span;
    let mut out = Vec::with_capacity(persons * slots * joints * span * 3);
    for m in 0..persons {
        for s in 0..slots {
            for v in 0..joints {
                for u in 0..span {
                    let w = per_frame[((s * span + u) * persons + m) * joints + v];
                    out.extend_from_slice(&[w, w, w]);
                }
            }
        }
    }
    Some(out)
}

/// The fused focal weights of a clip in the target-patch layout of encoder patch length `l` and
/// target patch factor `r` (None if r * l does not divide T).
pub fn focal_patch_weights(w: &FocalWeights, l: usize, r: usize) -> Option<Vec<f32>> {
    window_weights_to_patches(&w.fused, w.frames, w.persons, w.joints, l, r)
}
