//! Token masking made on the CPU from the batch's seeded generator and uploaded as indices.
//!
//! Motion-aware masking follows MAMP (reference spec 1.5): per person, patchify the raw clip into
//! segments of l frames x 1 joint, take the elementwise |difference| between consecutive segments of the
//! same joint (the first segment copies the second's), average over the l x 3 values, divide by
//! `max * tau + 1e-10`, softmax over the tokens, add Gumbel noise to the log-probabilities and keep the
//! tokens with the lowest scores: high-motion tokens are the likelier to be masked. Random masking
//! keeps a uniformly random subset. Tokens are time-major: index = t * V + v.

use crate::data::Sequence;
use crate::rng::SeededRng;

/// Which tokens of one person stay visible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenMask {
    /// Visible token indices, ascending.
    pub keep: Vec<usize>,
    /// Per token: true if masked (hidden from the encoder).
    pub masked: Vec<bool>,
}

impl TokenMask {
    fn from_scores(scores: &[f64], keep_count: usize) -> Self {
        let mut order: Vec<usize> = (0..scores.len()).collect();
        order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(a.cmp(&b)));
        let mut keep: Vec<usize> = order[..keep_count.min(scores.len())].to_vec();
        keep.sort_unstable();
        let mut masked = vec![true; scores.len()];
        for &k in &keep {
            masked[k] = false;
        }
        Self { keep, masked }
    }
}

/// Number of visible tokens for `tokens` and a mask ratio: floor(tokens * (1 - ratio)), at least 1.
///
/// The floor is taken with a 1e-9 guard, so 750 tokens at 90 % keep 75 (10 %). The published MAMP code
/// computes `int(750 * (1 - 0.9))`, which floating point makes 74.99999999999999 and so keeps 74.
pub fn visible_count(tokens: usize, ratio: f64) -> usize {
    ((tokens as f64 * (1.0 - ratio) + 1e-9).floor() as usize).clamp(1, tokens.max(1))
}

/// Per-token motion of person `m` of a clip [T, M, V, 3] with segments of `l` frames: the mean over
/// the l x 3 values of |segment(t) - segment(t - 1)|, segment 0 copying segment 1. Laid out [T/l * V].
pub fn token_motion(clip: &Sequence, m: usize, l: usize) -> Vec<f64> {
    let (tp, v_len) = (clip.frames / l, clip.joints);
    let mut motion = vec![0.0f64; tp * v_len];
    for t in 1..tp {
        for v in 0..v_len {
            let mut sum = 0.0;
            for u in 0..l {
                let a = clip.joint(t * l + u, m, v);
                let b = clip.joint((t - 1) * l + u, m, v);
                sum += (0..3).map(|c| f64::from((a[c] - b[c]).abs())).sum::<f64>();
            }
            motion[t * v_len + v] = sum / (l * 3) as f64;
        }
    }
    if tp > 1 {
        let (first, rest) = motion.split_at_mut(v_len);
        first.copy_from_slice(&rest[..v_len]);
    }
    motion
}

/// Motion-aware masking of one person (MAMP): keeps `visible_count(tokens, ratio)` tokens.
pub fn motion_aware_mask(motion: &[f64], ratio: f64, tau: f64, rng: &mut SeededRng) -> TokenMask {
    let max = motion.iter().copied().fold(f64::MIN, f64::max);
    let scaled: Vec<f64> = motion.iter().map(|&x| x / (max * tau + 1e-10)).collect();
    let top = scaled.iter().copied().fold(f64::MIN, f64::max);
    let z: f64 = scaled.iter().map(|&x| (x - top).exp()).sum();
    let scores: Vec<f64> = scaled
        .iter()
        .map(|&x| {
            let log_p = (x - top) - z.ln();
            let u = rng.uniform();
            log_p - (-(u + 1e-10).ln() + 1e-10).ln()
        })
        .collect();
    TokenMask::from_scores(&scores, visible_count(motion.len(), ratio))
}

/// Uniform random masking of `tokens` tokens.
pub fn random_mask(tokens: usize, ratio: f64, rng: &mut SeededRng) -> TokenMask {
    let scores: Vec<f64> = (0..tokens).map(|_| rng.uniform()).collect();
    TokenMask::from_scores(&scores, visible_count(tokens, ratio))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paper_configuration_keeps_75_of_750() {
        assert_eq!(visible_count(750, 0.9), 75);
        assert_eq!(visible_count(30, 0.75), 7);
        assert_eq!(visible_count(10, 0.99), 1, "at least one token stays visible");
        let mut rng = SeededRng::new(0);
        let motion: Vec<f64> = (0..750).map(|i| (i % 25) as f64).collect();
        let m = motion_aware_mask(&motion, 0.9, 0.8, &mut rng);
        assert_eq!(m.keep.len(), 75);
        assert_eq!(m.masked.iter().filter(|&&x| x).count(), 675);
        assert!(m.keep.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(random_mask(750, 0.9, &mut rng).keep.len(), 75);
    }

    #[test]
    fn high_motion_tokens_are_masked_more_often() {
        // Two halves: still tokens and moving tokens. Over many draws the moving ones stay visible less.
        let motion: Vec<f64> = (0..100).map(|i| if i < 50 { 0.0 } else { 1.0 }).collect();
        let mut rng = SeededRng::new(1);
        let (mut still, mut moving) = (0, 0);
        for _ in 0..200 {
            for k in motion_aware_mask(&motion, 0.5, 0.8, &mut rng).keep {
                if k < 50 { still += 1 } else { moving += 1 }
            }
        }
        // p(moving) / p(still) = e^(1/0.8) = 3.5: the kept set leans strongly to still tokens.
        assert!(still > 2 * moving, "still {still} moving {moving}");
        // A seed reproduces a mask.
        let a = motion_aware_mask(&motion, 0.9, 0.8, &mut SeededRng::new(9));
        let b = motion_aware_mask(&motion, 0.9, 0.8, &mut SeededRng::new(9));
        assert_eq!(a, b);
    }

    #[test]
    fn token_motion_by_hand() {
        // 8 frames, l = 4: 2 segments of one joint. x moves by 1 per frame: segment 1 - segment 0 = 4
        // in x for every frame, so the mean over 4 frames x 3 axes is 4 / 3; segment 0 copies it.
        let pos: Vec<f32> = (0..8).flat_map(|t| [t as f32, 0.0, 5.0]).collect();
        let clip = Sequence::new("m", 0, 8, 1, 1, pos);
        let m = token_motion(&clip, 0, 4);
        assert_eq!(m.len(), 2);
        assert!((m[1] - 4.0 / 3.0).abs() < 1e-12 && m[0] == m[1]);
    }
}
