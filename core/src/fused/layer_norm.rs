//! LayerNorm over the last axis of an `f32` buffer, forward and backward, rows in parallel.
//!
//! y = (x - mean) / sqrt(var + eps) * gamma + beta, with the biased variance (burn's and PyTorch's).

use rayon::prelude::*;

/// Rows per parallel task.
const ROWS: usize = 64;

/// What the backward pass needs from the forward one: each row's mean and 1 / sqrt(var + eps).
#[derive(Debug, Clone)]
pub struct Stats {
    /// Per-row mean.
    pub mean: Vec<f32>,
    /// Per-row reciprocal standard deviation.
    pub rstd: Vec<f32>,
}

/// Normalises each row of `x` (`x.len() / gamma.len()` rows of `gamma.len()`).
pub fn forward(x: &[f32], gamma: &[f32], beta: &[f32], eps: f32) -> (Vec<f32>, Stats) {
    let d = gamma.len();
    let rows = x.len() / d.max(1);
    let mut y = vec![0.0; x.len()];
    let mut mean = vec![0.0; rows];
    let mut rstd = vec![0.0; rows];
    y.par_chunks_mut(ROWS * d)
        .zip(x.par_chunks(ROWS * d))
        .zip(mean.par_chunks_mut(ROWS).zip(rstd.par_chunks_mut(ROWS)))
        .for_each(|((y, x), (mean, rstd))| {
            for (((y, x), m), r) in y.chunks_mut(d).zip(x.chunks(d)).zip(mean).zip(rstd) {
                let mu = x.iter().sum::<f32>() / d as f32;
                let var = x.iter().map(|v| (v - mu) * (v - mu)).sum::<f32>() / d as f32;
                let rs = 1.0 / (var + eps).sqrt();
                for (((y, &x), &g), &b) in y.iter_mut().zip(x).zip(gamma).zip(beta) {
                    *y = (x - mu) * rs * g + b;
                }
                (*m, *r) = (mu, rs);
            }
        });
    (y, Stats { mean, rstd })
}

/// Gradients of the input, gamma and beta for the output gradient `dy`.
pub fn backward(x: &[f32], gamma: &[f32], stats: &Stats, dy: &[f32]) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let d = gamma.len();
    let mut dx = vec![0.0; x.len()];
    let zero = || (vec![0.0f32; d], vec![0.0f32; d]);
    let (dgamma, dbeta) = dx
        .par_chunks_mut(ROWS * d)
        .zip(x.par_chunks(ROWS * d).zip(dy.par_chunks(ROWS * d)))
        .zip(stats.mean.par_chunks(ROWS).zip(stats.rstd.par_chunks(ROWS)))
        .fold(zero, |(mut dgamma, mut dbeta), ((dx, (x, dy)), (mean, rstd))| {
            for ((((dx, x), dy), &mu), &rs) in dx.chunks_mut(d).zip(x.chunks(d)).zip(dy.chunks(d)).zip(mean).zip(rstd) {
                // dx = rs * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * gamma.
                let (mut sum_g, mut sum_gx) = (0.0f32, 0.0f32);
                for (j, (&x, &dy)) in x.iter().zip(dy).enumerate() {
                    let xhat = (x - mu) * rs;
                    let g = dy * gamma[j];
                    sum_g += g;
                    sum_gx += g * xhat;
                    dgamma[j] += dy * xhat;
                    dbeta[j] += dy;
                }
                let (mean_g, mean_gx) = (sum_g / d as f32, sum_gx / d as f32);
                for (j, (dx, (&x, &dy))) in dx.iter_mut().zip(x.iter().zip(dy)).enumerate() {
                    let xhat = (x - mu) * rs;
                    *dx = rs * (dy * gamma[j] - mean_g - xhat * mean_gx);
                }
            }
            (dgamma, dbeta)
        })
        .reduce(zero, |(mut ga, mut ba), (gb, bb)| {
            ga.iter_mut().zip(gb).for_each(|(a, b)| *a += b);
            ba.iter_mut().zip(bb).for_each(|(a, b)| *a += b);
            (ga, ba)
        });
    (dx, dgamma, dbeta)
}
