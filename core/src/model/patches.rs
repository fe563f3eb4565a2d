//! The token layout shared by the model's inputs and targets and by the focal weights: per-frame
//! values regrouped into patches of consecutive frames of one joint.

/// Re-lays per-frame values [T, M, V, C] as patches of `span` consecutive frames of one joint:
/// [M, (T / span) * V, span * C], patches time-major (index = s * V + v), values [frame u][channel].
/// None if `span` does not divide T.
///
/// # Shapes
/// `values`: [T, M, V, C] -> [M, (T / span) V, span C]
pub fn patch_layout(
    values: &[f32],
    frames: usize,
    persons: usize,
    joints: usize,
    channels: usize,
    span: usize,
) -> Option<Vec<f32>> {
    if span == 0 || !frames.is_multiple_of(span) || values.len() != frames * persons * joints * channels {
        return None;
    }
    let mut out = Vec::with_capacity(values.len());
    for m in 0..persons {
        for s in 0..frames / span {
            for v in 0..joints {
                for u in 0..span {
                    let i = (((s * span + u) * persons + m) * joints + v) * channels;
                    out.extend_from_slice(&values[i..i + channels]);
                }
            }
        }
    }
    Some(out)
}
