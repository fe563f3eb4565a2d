//! MaskCLR's contrastive losses (reference spec 6.3): the sample contrast L_sc (NT-Xent between a
//! sample's standard and masked representations) and the class contrast L_cc (supervised contrastive
//! loss over both views). Both are the same computation with a different set of positives.
//!
//! With the 2B representations z (both views, L2-normalised), s_ij = z_i . z_j / tau and P(i) the
//! positives of anchor i: loss = mean_i [ -1/|P(i)| sum_{p in P(i)} (s_ip - log sum_{a != i} exp s_ia) ].

use burn::prelude::*;
use burn::tensor::TensorData;

/// The mean over anchors of the contrastive loss with the given positive pairs.
///
/// # Shapes
/// `a`, `b`: [B, D] (two views of the same B samples), `positive`: [2B, 2B] 0/1 (diagonal 0) -> [1]
pub fn contrastive_loss(a: Tensor<2>, b: Tensor<2>, positive: Tensor<2>, tau: f64) -> Tensor<1> {
    let z = Tensor::cat(vec![a, b], 0);
    let [n, _] = z.dims();
    let device = z.device();
    let norm = z.clone().square().sum_dim(1).sqrt().clamp_min(1e-12);
    let z = z / norm;
    let sim = z.clone().matmul(z.transpose()).div_scalar(tau);
    let eye: Vec<f32> = (0..n * n).map(|k| if k / n == k % n { 1.0 } else { 0.0 }).collect();
    let eye = Tensor::<2>::from_data(TensorData::new(eye, [n, n]), &device);
    // Exclude the anchor itself from the denominator.
    let masked = sim.clone() - eye.mul_scalar(1e9);
    let log_prob = sim - masked.exp().sum_dim(1).log();
    let count = positive.clone().sum_dim(1).clamp_min(1.0);
    let per_anchor = (positive * log_prob).sum_dim(1) / count;
    per_anchor.mean().neg()
}

/// Positive pairs of NT-Xent (SimCLR): each sample's other view.
///
/// # Shapes
/// -> [2B, 2B]
pub fn pair_positives(batch: usize, device: &Device) -> Tensor<2> {
    let n = 2 * batch;
    let v: Vec<f32> = (0..n * n).map(|k| if (k / n + batch) % n == k % n { 1.0 } else { 0.0 }).collect();
    Tensor::from_data(TensorData::new(v, [n, n]), device)
}

/// Positive pairs of the supervised contrastive loss: every other representation of the same class.
///
/// # Shapes
/// `labels`: B -> [2B, 2B]
pub fn class_positives(labels: &[usize], device: &Device) -> Tensor<2> {
    let n = 2 * labels.len();
    let y = |i: usize| labels[i % labels.len()];
    let v: Vec<f32> = (0..n * n).map(|k| if k / n != k % n && y(k / n) == y(k % n) { 1.0 } else { 0.0 }).collect();
    Tensor::from_data(TensorData::new(v, [n, n]), device)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The loss written out in f64, anchor by anchor.
    fn reference(z: &[[f64; 2]], pos: &dyn Fn(usize, usize) -> bool, tau: f64) -> f64 {
        let n = z.len();
        let unit: Vec<[f64; 2]> = z
            .iter()
            .map(|v| {
                let l = (v[0] * v[0] + v[1] * v[1]).sqrt();
                [v[0] / l, v[1] / l]
            })
            .collect();
        let s = |i: usize, j: usize| (unit[i][0] * unit[j][0] + unit[i][1] * unit[j][1]) / tau;
        let mut total = 0.0;
        for i in 0..n {
            let denom: f64 = (0..n).filter(|&a| a != i).map(|a| s(i, a).exp()).sum::<f64>().ln();
            let ps: Vec<usize> = (0..n).filter(|&p| p != i && pos(i, p)).collect();
            total += -ps.iter().map(|&p| s(i, p) - denom).sum::<f64>() / ps.len() as f64;
        }
        total / n as f64
    }

    #[test]
    fn nt_xent_and_supcon_match_the_written_out_loss() {
        let dev = crate::backend::cpu_device();
        let a = [[1.0, 0.0], [0.6, 0.8], [-1.0, 0.5]];
        let b = [[0.9, 0.1], [0.0, 1.0], [-0.8, -0.2]];
        let labels = [2usize, 0, 2];
        let t = |rows: &[[f64; 2]; 3]| {
            let v: Vec<f32> = rows.iter().flatten().map(|&x| x as f32).collect();
            Tensor::<2>::from_data(TensorData::new(v, [3, 2]), &dev)
        };
        let z: Vec<[f64; 2]> = a.iter().chain(b.iter()).copied().collect();
        for tau in [0.7, 0.07] {
            let got: f32 = contrastive_loss(t(&a), t(&b), pair_positives(3, &dev), tau).into_scalar();
            let want = reference(&z, &|i, p| i % 3 == p % 3, tau);
            assert!((f64::from(got) - want).abs() < 1e-4 * want.abs().max(1.0), "NT-Xent tau {tau}: {got} vs {want}");
            let got: f32 = contrastive_loss(t(&a), t(&b), class_positives(&labels, &dev), tau).into_scalar();
            let want = reference(&z, &|i, p| labels[i % 3] == labels[p % 3], tau);
            assert!((f64::from(got) - want).abs() < 1e-4 * want.abs().max(1.0), "SupCon tau {tau}: {got} vs {want}");
        }
        // Identical views of orthogonal samples at a low temperature: NT-Xent near 0.
        let e = [[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]];
        let got: f32 = contrastive_loss(t(&e), t(&e), pair_positives(3, &dev), 0.05).into_scalar();
        assert!(got < 1e-3, "{got}");
    }
}
