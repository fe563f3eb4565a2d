//! MaskCLR's attention-guided probabilistic masking (AGPM, reference spec 6.2) on the token encoder:
//! a token's importance is the attention it receives in the last encoder block (head-averaged,
//! summed over the queries); per sample the importances are divided by their maximum times the
//! temperature, turned into probabilities by a softmax, Gumbel-perturbed, and the `ratio` share of
//! tokens with the highest perturbed scores is masked, so important tokens are masked more often.

use burn::prelude::*;

use crate::rng::SeededRng;

/// Attention received per token: the head-averaged weights summed over the queries (no gradient).
///
/// # Shapes
/// `weights`: [B, H, L (query), L (key)] -> [B, L]
pub fn attention_importance(weights: Tensor<4>) -> Tensor<2> {
    let [b, _, _, l] = weights.dims();
    weights.detach().mean_dim(1).sum_dim(2).reshape([b, l])
}

/// Masking probabilities of one sample: softmax(importance / (max importance x tau)).
pub fn masking_probabilities(importance: &[f32], tau: f64) -> Vec<f64> {
    let max = importance.iter().copied().fold(f32::MIN, f32::max).max(f32::MIN_POSITIVE);
    let z: Vec<f64> = importance.iter().map(|&v| f64::from(v) / (f64::from(max) * tau)).collect();
    let zmax = z.iter().copied().fold(f64::MIN, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - zmax).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

/// The AGPM mask (1 = masked) of every sample: `round(ratio L)` tokens per sample.
///
/// `importance`: [B, L] -> [B, L]
pub fn agpm_mask(importance: &[f32], l: usize, tau: f64, ratio: f64, rng: &mut SeededRng) -> Vec<f32> {
    let mut out = vec![0.0f32; importance.len()];
    let hide = ((l as f64) * ratio).round() as usize;
    for (s, imp) in importance.chunks_exact(l).enumerate() {
        let p = masking_probabilities(imp, tau);
        let mut scored: Vec<(f64, usize)> = p
            .iter()
            .enumerate()
            .map(|(j, &pj)| {
                let u = rng.uniform().clamp(1e-12, 1.0 - 1e-12);
                (pj.max(1e-300).ln() - (-u.ln()).ln(), j)
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        for &(_, j) in scored.iter().take(hide) {
            out[s * l + j] = 1.0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn importance_is_the_head_mean_of_received_attention() {
        // One sample, 2 heads, 2 tokens: head 0 rows [0.9 0.1; 0.8 0.2], head 1 [0.5 0.5; 0.3 0.7].
        let dev = crate::backend::cpu_device();
        let w = Tensor::<1>::from_floats([0.9, 0.1, 0.8, 0.2, 0.5, 0.5, 0.3, 0.7], &dev).reshape([1, 2, 2, 2]);
        let imp: Vec<f32> = attention_importance(w).into_data().try_to_vec::<f32>().unwrap();
        assert!((imp[0] - (1.7 + 0.8) / 2.0).abs() < 1e-6 && (imp[1] - (0.3 + 1.2) / 2.0).abs() < 1e-6, "{imp:?}");
        let p = masking_probabilities(&imp, 0.75);
        // z = imp / (1.25 * 0.75): [1.3333, 0.8]; softmax.
        let want0 = 1.0 / (1.0 + (0.8f64 - 4.0 / 3.0).exp());
        assert!((p[0] - want0).abs() < 1e-6, "{p:?}");
    }

    #[test]
    fn masks_half_the_tokens_and_prefers_important_ones() {
        let l = 20;
        let importance: Vec<f32> = (0..l).map(|j| if j < 5 { 10.0 } else { 1.0 }).collect();
        let mut rng = SeededRng::new(1);
        let mut hits = [0usize; 2];
        for _ in 0..200 {
            let m = agpm_mask(&importance, l, 0.2, 0.5, &mut rng);
            assert_eq!(m.iter().filter(|&&v| v == 1.0).count(), 10);
            hits[0] += m[..5].iter().filter(|&&v| v == 1.0).count();
            hits[1] += m[5..].iter().filter(|&&v| v == 1.0).count();
        }
        let (important, other) = (hits[0] as f64 / 1000.0, hits[1] as f64 / 3000.0);
        assert!(important > 0.9 && other < 0.5, "masking rate important {important}, other {other}");
        let a = agpm_mask(&importance, l, 0.75, 0.5, &mut SeededRng::new(7));
        assert_eq!(a, agpm_mask(&importance, l, 0.75, 0.5, &mut SeededRng::new(7)), "seeded");
    }
}
