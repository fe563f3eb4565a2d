//! The trivial predictor: the loss a model would have if it explained nothing about the clip's time
//! course, computed on the CPU from the same batch, weights and targets as the model's loss. A model
//! that learns drives `loss / trivial` well below 1; a ratio that stays near 1 says that the
//! prediction barely depends on what the encoder saw.
//!
//! - NAT targets are zero-mean per person, joint and axis over the clip, so the trivial prediction is 0
//!   (the per-joint mean).
//! - Motion targets (MAMP) are z-scored per patch, so the trivial prediction is 0 (the per-patch mean).
//! - Raw targets: the per-person, joint and axis mean of the target values of the clip.

use super::{PretrainBatch, TargetKind};
use crate::model::{AmrConfig, DecoderKind};

/// The loss of the trivial predictor on `b`, in the same form as the model's loss: the weighted mean
/// over all target values (focal objective) or the mean over masked tokens (MAMP's objective).
pub fn trivial_loss(b: &PretrainBatch, model: &AmrConfig, target: TargetKind) -> f32 {
    let persons = b.persons.max(1);
    let per_person = b.target.len() / persons;
    let mut sum = 0.0f64;
    let mut weight_sum = 0.0f64;
    for p in 0..b.persons {
        let rows = p * per_person..(p + 1) * per_person;
        let (t, w) = (&b.target[rows.clone()], &b.weight[rows]);
        // None: the trivial prediction is 0 everywhere.
        let guess = match (model.decoder, target) {
            (DecoderKind::Mamp, _) | (_, TargetKind::Nat) => None,
            (_, TargetKind::Raw) => Some(joint_means(t, &joints_of_rows(b, p, model))),
        };
        for (i, (&t, &w)) in t.iter().zip(w).enumerate() {
            let g = guess.as_ref().map_or(0.0, |g| f64::from(g[i]));
            sum += f64::from(w) * (f64::from(t) - g).powi(2);
            weight_sum += f64::from(w);
        }
    }
    let denominator = match model.decoder {
        DecoderKind::Mamp => weight_sum,
        _ => b.target.len() as f64,
    };
    if denominator > 0.0 { (sum / denominator) as f32 } else { 0.0 }
}

/// The joint of every target row of person `p` (a row is one patch of one joint).
fn joints_of_rows(b: &PretrainBatch, p: usize, model: &AmrConfig) -> Vec<usize> {
    let v = model.joints.max(1);
    match model.decoder {
        DecoderKind::DecoderMasking => {
            let nq = b.select.len() / b.persons.max(1);
            b.select[p * nq..(p + 1) * nq].iter().map(|&j| j as usize % v).collect()
        }
        DecoderKind::Amr | DecoderKind::Downsampling => (0..model.queries()).map(|q| q % v).collect(),
        DecoderKind::Mamp => (0..model.tokens()).map(|q| q % v).collect(),
    }
}

/// Every value replaced by the mean of its (joint, axis) over the rows of that joint.
///
/// # Shapes
/// `t`: [rows, span 3] with `joints[row]` the joint of each row -> [rows, span 3]
fn joint_means(t: &[f32], joints: &[usize]) -> Vec<f32> {
    let rows = joints.len().max(1);
    let width = t.len() / rows;
    let v = joints.iter().copied().max().map_or(0, |m| m + 1);
    let mut sums = vec![[0.0f64; 3]; v];
    let mut counts = vec![0usize; v];
    for (row, &j) in t.chunks_exact(width.max(1)).zip(joints) {
        for (k, &x) in row.iter().enumerate() {
            sums[j][k % 3] += f64::from(x);
        }
        counts[j] += width / 3;
    }
    let mut out = Vec::with_capacity(t.len());
    for &j in joints {
        let n = counts[j].max(1) as f64;
        for k in 0..width {
            out.push((sums[j][k % 3] / n) as f32);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(target: Vec<f32>, weight: Vec<f32>) -> PretrainBatch {
        PretrainBatch {
            persons: 1,
            x: vec![],
            keep: vec![],
            restore: vec![],
            masked: vec![],
            select: vec![],
            target,
            weight,
        }
    }

    #[test]
    fn nat_and_motion_targets_are_compared_with_zero() {
        // AMR layout with T 8, l 2, r 2, V 1: 2 patches of 4 frames x 3 axes = 24 values.
        let m = AmrConfig::new().with_frames(8).with_joints(1).with_patch(2).with_r(2);
        let t: Vec<f32> = (0..24).map(|i| if i % 2 == 0 { 1.0 } else { -2.0 }).collect();
        let w: Vec<f32> = (0..24).map(|i| if i < 12 { 1.0 } else { 0.5 }).collect();
        // Weighted squares: 12 values with weight 1 (6 of 1, 6 of 4) = 30; 12 with weight 0.5 = 15.
        let got = trivial_loss(&batch(t.clone(), w.clone()), &m, TargetKind::Nat);
        assert!((got - 45.0 / 24.0).abs() < 1e-6, "{got}");
        // MAMP: the mean over masked tokens (weight 1 on the masked values, 0 elsewhere).
        let m = m.with_decoder(DecoderKind::Mamp).with_r(1);
        let w: Vec<f32> = (0..24).map(|i| if i < 6 { 1.0 } else { 0.0 }).collect();
        let got = trivial_loss(&batch(t, w), &m, TargetKind::Nat);
        assert!((got - 15.0 / 6.0).abs() < 1e-6, "{got}");
    }

    #[test]
    fn raw_targets_are_compared_with_the_joint_mean() {
        // T 4, l 2, r 1, V 2: rows (slot, joint) = (0,0), (0,1), (1,0), (1,1), each 2 frames x 3 axes.
        let m = AmrConfig::new().with_frames(4).with_joints(2).with_patch(2).with_r(1);
        // Joint 0's x is 0, 1, 2, 3 over the frames (mean 1.5); every other value is 7 (its own mean).
        let mut t = vec![7.0f32; 24];
        for (row, xs) in [(0, [0.0, 1.0]), (2, [2.0, 3.0])] {
            for (u, x) in xs.into_iter().enumerate() {
                t[row * 6 + u * 3] = x;
            }
        }
        let got = trivial_loss(&batch(t, vec![1.0; 24]), &m, TargetKind::Raw);
        // Squared deviations of joint 0's x from 1.5: 2.25 + 0.25 + 0.25 + 2.25 = 5, over 24 values.
        assert!((got - 5.0 / 24.0).abs() < 1e-6, "{got}");
    }
}
