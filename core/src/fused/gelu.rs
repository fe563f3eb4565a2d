//! Exact (erf) GELU and its derivative over `f32` slices, in parallel chunks.
//!
//! erf is the rational approximation of Abramowitz and Stegun, *Handbook of Mathematical Functions*
//! (1964), formula 7.1.26 (absolute error at most 1.5e-7): it needs exp(-z^2), which at z = x / sqrt(2)
//! is also the Gaussian density the derivative needs, so each element costs one exponential.

use rayon::prelude::*;

/// Elements per parallel task.
const CHUNK: usize = 1 << 14;

/// erf(z) and exp(-z^2).
#[inline]
fn erf_and_gaussian(z: f32) -> (f32, f32) {
    const P: f32 = 0.327_591_1;
    const A: [f32; 5] = [0.254_829_6, -0.284_496_74, 1.421_413_8, -1.453_152, 1.061_405_4];
    let a = z.abs();
    let t = 1.0 / (1.0 + P * a);
    let gaussian = (-a * a).exp();
    let poly = t * (A[0] + t * (A[1] + t * (A[2] + t * (A[3] + t * A[4]))));
    ((1.0 - poly * gaussian).copysign(z), gaussian)
}

/// GELU(x) = x Phi(x) = x (1 + erf(x / sqrt 2)) / 2.
pub fn forward(x: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0; x.len()];
    out.par_chunks_mut(CHUNK).zip(x.par_chunks(CHUNK)).for_each(|(out, x)| {
        for (o, &x) in out.iter_mut().zip(x) {
            let (erf, _) = erf_and_gaussian(x * std::f32::consts::FRAC_1_SQRT_2);
            *o = 0.5 * x * (1.0 + erf);
        }
    });
    out
}

/// The input's gradient: `grad * (Phi(x) + x phi(x))`.
pub fn backward(x: &[f32], grad: &[f32]) -> Vec<f32> {
    let inv_sqrt_2pi = 0.5 * std::f32::consts::FRAC_2_SQRT_PI * std::f32::consts::FRAC_1_SQRT_2;
    let mut out = vec![0.0; x.len()];
    out.par_chunks_mut(CHUNK).zip(x.par_chunks(CHUNK).zip(grad.par_chunks(CHUNK))).for_each(|(out, (x, g))| {
        for ((o, &x), &g) in out.iter_mut().zip(x).zip(g) {
            let (erf, gaussian) = erf_and_gaussian(x * std::f32::consts::FRAC_1_SQRT_2);
            *o = g * (0.5 * (1.0 + erf) + x * inv_sqrt_2pi * gaussian);
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// erf by its Maclaurin series in f64 (accurate to about 1e-12 for |z| <= 4).
    fn erf_series(z: f64) -> f64 {
        let (mut term, mut sum, mut n) = (z, z, 0.0);
        while term.abs() > 1e-17 * sum.abs().max(1e-300) {
            n += 1.0;
            term *= -z * z / n;
            sum += term / (2.0 * n + 1.0);
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    }

    #[test]
    fn erf_is_within_the_published_bound_of_the_series() {
        for i in -400..=400 {
            let z = i as f64 * 0.01;
            let (got, gaussian) = erf_and_gaussian(z as f32);
            assert!((got as f64 - erf_series(z)).abs() < 5e-7, "erf({z}) = {got}, series {}", erf_series(z));
            assert!((gaussian as f64 - (-z * z).exp()).abs() < 1e-7);
        }
    }

    #[test]
    fn derivative_matches_central_differences() {
        // |x| <= 4: the series stays accurate enough in f64 for differencing.
        let x: Vec<f32> = (-40..=40).map(|i| i as f32 * 0.1).collect();
        let grad: Vec<f32> = x.iter().map(|v| 1.0 + 0.1 * v).collect();
        let d = backward(&x, &grad);
        let gelu = |v: f64| 0.5 * v * (1.0 + erf_series(v / std::f64::consts::SQRT_2));
        for ((&x, &g), &d) in x.iter().zip(&grad).zip(&d) {
            let h = 1e-3;
            let want = g as f64 * (gelu(x as f64 + h) - gelu(x as f64 - h)) / (2.0 * h);
            assert!((d as f64 - want).abs() < 2e-6, "x {x}: {d} vs {want}");
        }
        let y = forward(&x);
        for (&x, &y) in x.iter().zip(&y) {
            assert!((y as f64 - gelu(x as f64)).abs() < 2e-6, "gelu({x}) = {y}");
        }
    }
}
