//! Focal weights, the heart of AMR (paper Eq. 3-4): motion energy per joint and window, the adaptive
//! threshold, the weight function, multi-scale fusion and the reshaping into target patches.
//!
//! This is the CPU reference every other implementation (the WGSL kernel in `shaders/`) is tested against.
//!
//! Rules where the paper is silent (all configurable through [`FocalConfig`]):
//! - Energy is computed per person; the threshold e_t of a person is the mean of e_s over all its
//!   windows and joints.
//! - A window with e_s = 0 (a static joint, or an absent all-zero person) gets weight exactly 0: the
//!   limit of Eq. 4 as e_s -> 0, with no division by zero even when e_t = 0.
//! - When n does not divide T, the last window holds the remaining T mod n frames, and its energy is
//!   the mean over those frames (a 1-frame window has energy 0).
//! - Deviations are taken from the window's first frame before the mean is removed, which changes
//!   nothing mathematically (e_s is translation invariant) but makes a constant joint give exactly 0
//!   and keeps f32 implementations accurate.

mod patches;

pub use patches::{focal_patch_weights, window_weights_to_patches};

use crate::data::Sequence;
use crate::error::ConfigError;

/// How per-scale weights are fused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fusion {
    /// Mean over window sizes (default).
    #[default]
    Mean,
    /// Maximum over window sizes.
    Max,
}

/// Parameters of the focal weights.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FocalConfig {
    /// Window sizes n (frames).
    pub windows: Vec<usize>,
    /// Curvature k of Eq. 4 (paper: 0.01).
    pub k: f32,
    /// Stabiliser eps of Eq. 4 (in the squared units of the input, m^2 for raw clips).
    pub eps: f32,
    /// How the scales are fused.
    pub fusion: Fusion,
}

impl Default for FocalConfig {
    fn default() -> Self {
        Self { windows: vec![4, 8, 12], k: 0.01, eps: 1e-8, fusion: Fusion::Mean }
    }
}

/// The most window sizes a weighting may have.
pub const MAX_WINDOWS: usize = 8;
/// The longest window, in frames.
pub const MAX_WINDOW_FRAMES: usize = 4096;

impl FocalConfig {
    /// Checks the values, naming the field that is out of range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.check_fields().map_err(ConfigError::from_message)
    }

    fn check_fields(&self) -> Result<(), String> {
        if self.windows.is_empty() || self.windows.contains(&0) {
            return Err(format!("focal.windows = {:?}: expected one or more window sizes >= 1", self.windows));
        }
        // Each window size keeps its own energies and weights of the whole clip: a few of them.
        if self.windows.len() > MAX_WINDOWS || self.windows.iter().any(|&n| n > MAX_WINDOW_FRAMES) {
            return Err(format!(
                "focal.windows = {:?}: expected at most {MAX_WINDOWS} window sizes of at most {MAX_WINDOW_FRAMES} frames",
                self.windows
            ));
        }
        if !(self.k.is_finite() && self.k > 0.0) {
            return Err(format!("focal.k = {}: expected a positive number", self.k));
        }
        if !(self.eps.is_finite() && self.eps >= 0.0) {
            return Err(format!("focal.eps = {}: expected a number >= 0", self.eps));
        }
        Ok(())
    }
}

/// Energies and weights of one window size.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowWeights {
    /// Window size n.
    pub window: usize,
    /// Number of windows ceil(T / n).
    pub windows: usize,
    /// Motion energy e_s, laid out [M, windows, V].
    pub energy: Vec<f32>,
    /// Threshold e_t of each person, [M].
    pub threshold: Vec<f32>,
    /// Weight w(e_s), laid out [M, windows, V].
    pub weight: Vec<f32>,
}

/// Focal weights of one clip: every window size and the fused per-frame weight.
#[derive(Debug, Clone, PartialEq)]
pub struct FocalWeights {
    /// Frames T.
    pub frames: usize,
    /// Persons M.
    pub persons: usize,
    /// Joints V.
    pub joints: usize,
    /// One entry per window size, in config order.
    pub scales: Vec<WindowWeights>,
    /// Fused weight per frame, laid out [T, M, V].
    pub fused: Vec<f32>,
}

impl WindowWeights {
    /// The window weight broadcast to frame `t` of person `m`, joint `v`.
    pub fn weight_at_frame(&self, t: usize, m: usize, v: usize, joints: usize) -> f32 {
        self.weight[(m * self.windows + t / self.window) * joints + v]
    }
    /// The window energy broadcast to frame `t`.
    pub fn energy_at_frame(&self, t: usize, m: usize, v: usize, joints: usize) -> f32 {
        self.energy[(m * self.windows + t / self.window) * joints + v]
    }
}

impl FocalWeights {
    /// The fused weight at frame `t`, person `m`, joint `v`.
    pub fn fused_at(&self, t: usize, m: usize, v: usize) -> f32 {
        self.fused[(t * self.persons + m) * self.joints + v]
    }
}

/// Motion energy (Eq. 3) of one joint over frames [t0, t1): mean squared distance to the window mean.
fn window_energy(seq: &Sequence, m: usize, v: usize, t0: usize, t1: usize) -> f64 {
    let n = (t1 - t0) as f64;
    let base = seq.joint(t0, m, v).map(f64::from);
    let dev = |t: usize| {
        let p = seq.joint(t, m, v);
        [0, 1, 2].map(|c| f64::from(p[c]) - base[c])
    };
    let mut mean = [0.0f64; 3];
    for t in t0..t1 {
        let d = dev(t);
        for c in 0..3 {
            mean[c] += d[c] / n;
        }
    }
    (t0..t1).map(|t| dev(t).iter().zip(&mean).map(|(d, mu)| (d - mu) * (d - mu)).sum::<f64>()).sum::<f64>() / n
}

/// The weight function of Eq. 4, with w = 0 where e_s = 0.
pub fn weight(e_s: f64, e_t: f64, k: f64, eps: f64) -> f64 {
    if e_s <= 0.0 { 0.0 } else { 1.0 / (1.0 + k * e_t / (e_s + eps)) }
}

/// Energies and weights of one window size for a clip [T, M, V, 3].
pub fn window_weights(seq: &Sequence, n: usize, cfg: &FocalConfig) -> WindowWeights {
    let (t_len, m_len, v_len) = (seq.frames, seq.persons, seq.joints);
    let n = n.max(1);
    let windows = t_len.div_ceil(n);
    let mut energy64 = vec![0.0f64; m_len * windows * v_len];
    for m in 0..m_len {
        for w in 0..windows {
            let (t0, t1) = (w * n, ((w + 1) * n).min(t_len));
            for v in 0..v_len {
                energy64[(m * windows + w) * v_len + v] = window_energy(seq, m, v, t0, t1);
            }
        }
    }
    let per_person = windows * v_len;
    let threshold: Vec<f64> = (0..m_len)
        .map(|m| energy64[m * per_person..(m + 1) * per_person].iter().sum::<f64>() / per_person.max(1) as f64)
        .collect();
    let weight = energy64
        .iter()
        .enumerate()
        .map(|(i, &e)| weight(e, threshold[i / per_person.max(1)], f64::from(cfg.k), f64::from(cfg.eps)) as f32)
        .collect();
    WindowWeights {
        window: n,
        windows,
        energy: energy64.iter().map(|&e| e as f32).collect(),
        threshold: threshold.iter().map(|&e| e as f32).collect(),
        weight,
    }
}

/// All window sizes of the config and their fusion, for a clip [T, M, V, 3].
pub fn focal_weights(seq: &Sequence, cfg: &FocalConfig) -> FocalWeights {
    let scales: Vec<WindowWeights> = cfg.windows.iter().map(|&n| window_weights(seq, n, cfg)).collect();
    let (t_len, m_len, v_len) = (seq.frames, seq.persons, seq.joints);
    let mut fused = vec![0.0f32; t_len * m_len * v_len];
    for t in 0..t_len {
        for m in 0..m_len {
            for v in 0..v_len {
                let ws = scales.iter().map(|s| f64::from(s.weight_at_frame(t, m, v, v_len)));
                let f = match cfg.fusion {
                    Fusion::Mean => ws.sum::<f64>() / scales.len().max(1) as f64,
                    Fusion::Max => ws.fold(0.0, f64::max),
                };
                fused[(t * m_len + m) * v_len + v] = f as f32;
            }
        }
    }
    FocalWeights { frames: t_len, persons: m_len, joints: v_len, scales, fused }
}

#[cfg(test)]
mod tests;
