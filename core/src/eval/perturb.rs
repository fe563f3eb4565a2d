//! The robustness suite's perturbations (MaskCLR paper 4.3), applied to test clips in the model's
//! input layout [N, M, T, V, 3]. Coordinates are the model's input: metres, as the dataset stores them.
//! An occluded joint or frame is set to 0, the value of an absent person.

use crate::rng::SeededRng;

/// One perturbation of the suite.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Perturbation {
    /// Gaussian noise of standard deviation `sigma` (metres) on every coordinate of every joint.
    Noise {
        /// Standard deviation in metres.
        sigma: f64,
    },
    /// The listed joints set to 0 in every frame, for every person.
    Joints {
        /// What the set is called (a body part's name).
        name: String,
        /// Joint indices.
        joints: Vec<usize>,
    },
    /// A random `share` of the joints of each sequence set to 0 in every frame.
    RandomJoints {
        /// Share of joints, e.g. 0.15.
        share: f64,
    },
    /// A random `share` of the frames of each sequence set to 0, then noise of `sigma`.
    Frames {
        /// Share of frames.
        share: f64,
        /// Noise standard deviation in metres afterwards.
        sigma: f64,
    },
}

impl Perturbation {
    /// A short label for tables and plots.
    pub fn label(&self) -> String {
        match self {
            Self::Noise { sigma } => format!("noise sigma {sigma}"),
            Self::Joints { name, .. } => format!("occlude {name}"),
            Self::RandomJoints { share } => format!("occlude {:.0}% joints", share * 100.0),
            Self::Frames { share, sigma } => format!("mask {:.0}% frames + noise {sigma}", share * 100.0),
        }
    }

    /// Applies the perturbation in place to `x` of `shape` [N, M, T, V, 3], drawing from `rng`.
    pub fn apply(&self, x: &mut [f32], shape: [usize; 5], rng: &mut SeededRng) {
        self.apply_per_sequence(x, shape, 1, rng);
    }

    /// As [`Self::apply`], with every `clips` consecutive clips the windows of one sequence (as
    /// multi-window testing lays them out): the random joints and the random frame positions are
    /// drawn once per sequence and hidden in all its windows, so averaging over windows does not
    /// average over occlusion draws. One clip per sequence is [`Self::apply`].
    pub fn apply_per_sequence(&self, x: &mut [f32], shape: [usize; 5], clips: usize, rng: &mut SeededRng) {
        let [n, m, t, v, _] = shape;
        let clips = clips.max(1);
        let at = |s: usize, p: usize, f: usize, j: usize| (((s * m + p) * t + f) * v + j) * 3;
        let noise = |x: &mut [f32], sigma: f64, rng: &mut SeededRng| {
            if sigma > 0.0 {
                x.iter_mut().for_each(|c| *c += (sigma * rng.normal()) as f32);
            }
        };
        // A fresh random order of 0..len at the first clip of each sequence, kept for its other windows.
        let redraw = |s: usize, order: &mut Vec<usize>, len: usize, rng: &mut SeededRng| {
            if s.is_multiple_of(clips) {
                *order = (0..len).collect();
                rng.shuffle(order);
            }
        };
        match self {
            Self::Noise { sigma } => noise(x, *sigma, rng),
            Self::Joints { joints, .. } => {
                for s in 0..n {
                    zero_joints(x, s, joints, m, t, &at);
                }
            }
            Self::RandomJoints { share } => {
                let k = ((v as f64) * share).round() as usize;
                let mut js = Vec::new();
                for s in 0..n {
                    redraw(s, &mut js, v, rng);
                    zero_joints(x, s, &js[..k.min(v)], m, t, &at);
                }
            }
            Self::Frames { share, sigma } => {
                let k = ((t as f64) * share).round() as usize;
                let mut fs = Vec::new();
                for s in 0..n {
                    redraw(s, &mut fs, t, rng);
                    for &f in &fs[..k.min(t)] {
                        for p in 0..m {
                            let i = at(s, p, f, 0);
                            x[i..i + v * 3].fill(0.0);
                        }
                    }
                }
                noise(x, *sigma, rng);
            }
        }
    }
}

fn zero_joints(
    x: &mut [f32],
    s: usize,
    joints: &[usize],
    m: usize,
    t: usize,
    at: &dyn Fn(usize, usize, usize, usize) -> usize,
) {
    for p in 0..m {
        for f in 0..t {
            for &j in joints {
                let i = at(s, p, f, j);
                x[i..i + 3].fill(0.0);
            }
        }
    }
}

/// The suite of MaskCLR's paper: noise sigma 0 to `max_sigma` in `steps` steps, each body part
/// occluded alone, 15/30/45/60 % random joints, and 50 % frames masked with noise `frame_sigma`.
pub fn robustness_suite(
    parts: &[(String, Vec<usize>)],
    max_sigma: f64,
    steps: usize,
    frame_sigma: f64,
) -> Vec<Perturbation> {
    let mut out: Vec<Perturbation> = (0..=steps)
        .map(|i| Perturbation::Noise { sigma: (max_sigma * i as f64 / steps.max(1) as f64 * 1e9).round() / 1e9 })
        .collect();
    out.extend(parts.iter().map(|(name, joints)| Perturbation::Joints { name: name.clone(), joints: joints.clone() }));
    out.extend([0.15, 0.30, 0.45, 0.60].map(|share| Perturbation::RandomJoints { share }));
    out.push(Perturbation::Frames { share: 0.5, sigma: frame_sigma });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clip(n: usize, m: usize, t: usize, v: usize) -> Vec<f32> {
        (0..n * m * t * v * 3).map(|i| 1.0 + i as f32).collect()
    }

    #[test]
    fn occlusion_touches_exactly_the_stated_joints_and_frames() {
        let shape = [2, 2, 4, 5, 3];
        let mut x = clip(2, 2, 4, 5);
        Perturbation::Joints { name: "left-arm".into(), joints: vec![1, 3] }.apply(
            &mut x,
            shape,
            &mut SeededRng::new(0),
        );
        for (i, c) in x.iter().enumerate() {
            let j = (i / 3) % 5;
            assert_eq!(*c == 0.0, j == 1 || j == 3, "value {i} (joint {j})");
        }
        let mut x = clip(2, 2, 4, 5);
        Perturbation::RandomJoints { share: 0.4 }.apply(&mut x, shape, &mut SeededRng::new(3));
        for s in 0..2 {
            let zero: Vec<usize> = (0..5).filter(|&j| x[((s * 2) * 4) * 15 + j * 3] == 0.0).collect();
            assert_eq!(zero.len(), 2, "2 of 5 joints in sample {s}");
            for p in 0..2 {
                for f in 0..4 {
                    for j in 0..5 {
                        let i = (((s * 2 + p) * 4 + f) * 5 + j) * 3;
                        assert_eq!(x[i] == 0.0, zero.contains(&j), "the same joints in every frame and person");
                    }
                }
            }
        }
        let mut x = clip(2, 2, 4, 5);
        Perturbation::Frames { share: 0.5, sigma: 0.0 }.apply(&mut x, shape, &mut SeededRng::new(3));
        for s in 0..2 {
            let frames: Vec<usize> = (0..4).filter(|&f| x[((s * 2) * 4 + f) * 15] == 0.0).collect();
            assert_eq!(frames.len(), 2, "2 of 4 frames in sample {s}");
            for p in 0..2 {
                for f in 0..4 {
                    let i = ((s * 2 + p) * 4 + f) * 15;
                    assert!(x[i..i + 15].iter().all(|&c| (c == 0.0) == frames.contains(&f)));
                }
            }
        }
    }

    #[test]
    fn a_sequences_windows_share_their_occlusion_draw() {
        // 6 clips: 3 sequences of 2 windows each.
        let shape = [6, 1, 8, 10, 3];
        let zeros = |x: &[f32], s: usize, per: usize, stride: usize| -> Vec<usize> {
            (0..per).filter(|&k| x[s * 8 * 30 + k * stride] == 0.0).collect()
        };
        let mut x = clip(6, 1, 8, 10);
        Perturbation::RandomJoints { share: 0.4 }.apply_per_sequence(&mut x, shape, 2, &mut SeededRng::new(5));
        let joints: Vec<Vec<usize>> = (0..6).map(|s| zeros(&x, s, 10, 3)).collect();
        let mut x = clip(6, 1, 8, 10);
        Perturbation::Frames { share: 0.5, sigma: 0.0 }.apply_per_sequence(&mut x, shape, 2, &mut SeededRng::new(5));
        let frames: Vec<Vec<usize>> = (0..6).map(|s| zeros(&x, s, 8, 30)).collect();
        for (draws, per) in [(&joints, 4), (&frames, 4)] {
            assert!(draws.iter().all(|d| d.len() == per), "{draws:?}");
            for q in 0..3 {
                assert_eq!(draws[2 * q], draws[2 * q + 1], "sequence {q}: {draws:?}");
            }
            assert!((1..3).any(|q| draws[2 * q] != draws[0]), "sequences draw apart: {draws:?}");
        }
        // One clip per sequence is `apply`.
        let (mut a, mut b) = (clip(6, 1, 8, 10), clip(6, 1, 8, 10));
        Perturbation::RandomJoints { share: 0.4 }.apply(&mut a, shape, &mut SeededRng::new(5));
        Perturbation::RandomJoints { share: 0.4 }.apply_per_sequence(&mut b, shape, 1, &mut SeededRng::new(5));
        assert_eq!(a, b);
    }

    #[test]
    fn noise_has_the_stated_deviation_and_the_suite_its_entries() {
        let shape = [10, 1, 50, 20, 3];
        let base = vec![0.5f32; 10 * 50 * 20 * 3];
        let mut x = base.clone();
        Perturbation::Noise { sigma: 0.01 }.apply(&mut x, shape, &mut SeededRng::new(1));
        let d: Vec<f64> = x.iter().zip(&base).map(|(a, b)| f64::from(a - b)).collect();
        let mean = d.iter().sum::<f64>() / d.len() as f64;
        let sd = (d.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / d.len() as f64).sqrt();
        assert!(mean.abs() < 5e-4 && (sd - 0.01).abs() < 5e-4, "mean {mean} sd {sd}");
        let suite = robustness_suite(&[("head".into(), vec![0])], 0.01, 10, 0.002);
        assert_eq!(suite.len(), 11 + 1 + 4 + 1);
        assert_eq!(suite[3], Perturbation::Noise { sigma: 0.003 });
        assert_eq!(suite[16], Perturbation::Frames { share: 0.5, sigma: 0.002 });
    }
}
