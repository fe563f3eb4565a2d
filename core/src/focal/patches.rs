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
    let p = crate::model::patch_layout(per_frame, frames, persons, joints, 1, r * l)?;
    Some(p.iter().flat_map(|&w| [w, w, w]).collect())
}

/// The fused focal weights of a clip in the target-patch layout of encoder patch length `l` and
/// target patch factor `r` (None if r * l does not divide T).
pub fn focal_patch_weights(w: &FocalWeights, l: usize, r: usize) -> Option<Vec<f32>> {
    window_weights_to_patches(&w.fused, w.frames, w.persons, w.joints, l, r)
}
