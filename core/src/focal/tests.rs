use super::*;
use crate::rng::SeededRng;

fn seq_from_x(frames: usize, joints: usize, x: impl Fn(usize, usize) -> f32) -> Sequence {
    let mut pos = Vec::with_capacity(frames * joints * 3);
    for t in 0..frames {
        for v in 0..joints {
            pos.extend_from_slice(&[x(t, v), 0.0, 0.0]);
        }
    }
    Sequence::new("h", 0, frames, 1, joints, pos)
}

fn cfg(windows: &[usize]) -> FocalConfig {
    FocalConfig { windows: windows.to_vec(), k: 0.01, eps: 0.0, fusion: Fusion::Mean }
}

#[test]
fn energy_threshold_and_weight_by_hand() {
    // One joint, 8 frames, x = 0 0 0 0 | 0 1 0 1: energies 0 and 0.25, e_t = 0.125.
    let xs = [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0];
    let s = seq_from_x(8, 1, |t, _| xs[t]);
    let w = window_weights(&s, 4, &cfg(&[4]));
    assert_eq!(w.windows, 2);
    assert_eq!(w.energy, vec![0.0, 0.25]);
    assert_eq!(w.threshold, vec![0.125]);
    assert_eq!(w.weight[0], 0.0);
    assert!((w.weight[1] - 1.0 / (1.0 + 0.01 * 0.125 / 0.25)).abs() < 1e-7);
}

#[test]
fn threshold_averages_over_joints_and_windows_and_xyz_all_count() {
    // Joint 0 moves in x by +-1 (energy 1 per window), joint 1 moves in y and z by +-2.
    let mut s = seq_from_x(4, 2, |t, v| if v == 0 { [1.0, -1.0, 1.0, -1.0][t] } else { 0.0 });
    for t in 0..4 {
        let i = s.index(t, 0, 1, 1);
        s.positions[i] = [2.0, -2.0, 2.0, -2.0][t];
        s.positions[i + 1] = [2.0, -2.0, 2.0, -2.0][t];
    }
    let w = window_weights(&s, 2, &cfg(&[2]));
    // Per window: joint 0 energy 1, joint 1 energy 4 + 4 = 8; e_t = (1 + 8 + 1 + 8) / 4 = 4.5.
    assert_eq!(w.energy, vec![1.0, 8.0, 1.0, 8.0]);
    assert_eq!(w.threshold, vec![4.5]);
    let expect = |e: f32| 1.0 / (1.0 + 0.01 * 4.5 / e);
    assert!((w.weight[0] - expect(1.0)).abs() < 1e-7 && (w.weight[1] - expect(8.0)).abs() < 1e-7);
}

#[test]
fn last_partial_window_uses_its_own_frames() {
    // 10 frames, n = 4: windows [0, 4), [4, 8), [8, 10). The last holds x = 0, 2: energy 1.
    let xs = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0];
    let w = window_weights(&seq_from_x(10, 1, |t, _| xs[t]), 4, &cfg(&[4]));
    assert_eq!(w.windows, 3);
    assert_eq!(w.energy, vec![0.0, 0.0, 1.0]);
    // A single leftover frame has energy 0.
    let w = window_weights(&seq_from_x(9, 1, |t, _| t as f32), 4, &cfg(&[4]));
    assert_eq!(w.energy[2], 0.0);
    assert_eq!(w.weight[2], 0.0);
}

#[test]
fn fusion_mean_and_max_by_hand() {
    let xs = [0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0];
    let s = seq_from_x(8, 1, |t, _| xs[t]);
    let mut c = cfg(&[2, 4]);
    let fw = focal_weights(&s, &c);
    let (w2, w4) = (&fw.scales[0], &fw.scales[1]);
    // n = 2: windows (0,1) (0,1) (0,0) (0,0): energies .25 .25 0 0, e_t = .125 -> w = 1/(1 + .01 * .5).
    // n = 4: energies .25 and 0, e_t = .125 -> same weight for the first window.
    let a = 1.0 / (1.0 + 0.01 * 0.125 / 0.25);
    assert!((w2.weight[0] - a).abs() < 1e-7 && (w4.weight[0] - a).abs() < 1e-7);
    assert!((fw.fused_at(3, 0, 0) - a).abs() < 1e-7);
    assert_eq!(fw.fused_at(6, 0, 0), 0.0);
    // Make the scales differ: n = 2 sees motion only in frames 0..2.
    let xs = [0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
    let s = seq_from_x(8, 1, |t, _| xs[t]);
    let fw = focal_weights(&s, &c);
    let (a2, a4) = (fw.scales[0].weight[0], fw.scales[1].weight[0]);
    assert!(a2 != a4);
    assert!((fw.fused_at(0, 0, 0) - (a2 + a4) / 2.0).abs() < 1e-7);
    assert_eq!(fw.fused_at(2, 0, 0), a4 / 2.0, "frame 2: n = 2 window is static, n = 4 is not");
    c.fusion = Fusion::Max;
    let fm = focal_weights(&s, &c);
    assert_eq!(fm.fused_at(0, 0, 0), a2.max(a4));
    assert_eq!(fm.fused_at(2, 0, 0), a4);
}

fn random_clip(seed: u64, frames: usize, persons: usize, joints: usize) -> Sequence {
    let mut r = SeededRng::new(seed);
    let pos = (0..frames * persons * joints * 3).map(|_| r.uniform_range(-1.0, 1.0) as f32).collect();
    Sequence::new("rand", 0, frames, persons, joints, pos)
}

#[test]
fn static_joints_and_absent_persons_get_zero_without_nan() {
    let mut s = random_clip(1, 24, 2, 3);
    // Joint 2 of person 0 is static; person 1 is absent.
    for t in 0..24 {
        let i = s.index(t, 0, 2, 0);
        s.positions[i..i + 3].copy_from_slice(&[0.3, 1.7, -0.2]);
        let j = s.index(t, 1, 0, 0);
        s.positions[j..j + 9].fill(0.0);
    }
    let fw = focal_weights(&s, &FocalConfig::default());
    assert!(fw.fused.iter().all(|w| w.is_finite()));
    for t in 0..24 {
        assert_eq!(fw.fused_at(t, 0, 2), 0.0);
        for v in 0..3 {
            assert_eq!(fw.fused_at(t, 1, v), 0.0);
        }
        assert!(fw.fused_at(t, 0, 0) > 0.0);
    }
    assert_eq!(fw.scales[0].threshold[1], 0.0);
}

#[test]
fn properties_range_monotonicity_translation() {
    let cfg = FocalConfig::default();
    for seed in 0..5 {
        let s = random_clip(seed, 120, 2, 5);
        let fw = focal_weights(&s, &cfg);
        assert!(fw.fused.iter().all(|&w| (0.0..1.0).contains(&w)));
        for sc in &fw.scales {
            assert!(sc.weight.iter().all(|&w| (0.0..1.0).contains(&w)));
        }
        // Monotone: with e_t fixed, larger energy gives a larger weight.
        let ws = &fw.scales[0];
        let mut pairs: Vec<(f32, f32)> =
            ws.energy[..ws.windows * 5].iter().copied().zip(ws.weight[..ws.windows * 5].iter().copied()).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(pairs.windows(2).all(|p| p[1].1 >= p[0].1));
        // Translation invariance, exact on a 1/256 grid translated by whole metres.
        let mut q = s.clone();
        for x in &mut q.positions {
            *x = (*x * 256.0).round() / 256.0;
        }
        let mut moved = q.clone();
        for p in moved.positions.chunks_exact_mut(3) {
            p[0] += 3.0;
            p[1] -= 7.0;
            p[2] += 1.0;
        }
        assert_eq!(focal_weights(&q, &cfg).fused, focal_weights(&moved, &cfg).fused);
    }
    // Scaling a joint's motion up raises its weights.
    let mut s = random_clip(9, 48, 1, 4);
    let before = focal_weights(&s, &cfg);
    for t in 0..48 {
        let i = s.index(t, 0, 1, 0);
        for c in 0..3 {
            s.positions[i + c] *= 3.0;
        }
    }
    let after = focal_weights(&s, &cfg);
    assert!((0..48).all(|t| after.fused_at(t, 0, 1) >= before.fused_at(t, 0, 1)));
    assert!((0..48).any(|t| after.fused_at(t, 0, 1) > before.fused_at(t, 0, 1)));
}

#[test]
fn patch_layout_by_hand() {
    // T = 8, M = 1, V = 2, l = 2, r = 2: 2 time slots x 2 joints, 4 frames x 3 values each.
    let per_frame: Vec<f32> = (0..8).flat_map(|t| [t as f32, 10.0 + t as f32]).collect();
    let p = window_weights_to_patches(&per_frame, 8, 1, 2, 2, 2).unwrap();
    assert_eq!(p.len(), 2 * 2 * 12);
    // Patch (slot 1, joint 0) = index 2: frames 4..8 of joint 0, each value 3 times.
    assert_eq!(&p[2 * 12..3 * 12], &[4.0, 4.0, 4.0, 5.0, 5.0, 5.0, 6.0, 6.0, 6.0, 7.0, 7.0, 7.0]);
    assert_eq!(p[12], 10.0, "patch 1 is slot 0, joint 1");
    assert!(window_weights_to_patches(&per_frame, 8, 1, 2, 3, 1).is_none(), "l = 3 does not divide 8");
    // The paper configuration: T 120, l 4, r 6 -> 5 x 25 = 125 patches of 72 values.
    let s = random_clip(3, 120, 2, 25);
    let fw = focal_weights(&s, &FocalConfig::default());
    let p = focal_patch_weights(&fw, 4, 6).unwrap();
    assert_eq!(p.len(), 2 * 125 * 72);
    assert_eq!(p[125 * 72 + 72 + 3], fw.fused_at(1, 1, 1), "person 1, patch 1 (slot 0, joint 1), frame 1");
}

#[test]
fn config_validation_names_the_field() {
    let mut c = FocalConfig::default();
    assert!(c.validate().is_ok());
    c.k = -1.0;
    assert!(c.validate().unwrap_err().message.contains("focal.k"));
    c = FocalConfig { windows: vec![], ..FocalConfig::default() };
    assert!(c.validate().unwrap_err().message.contains("focal.windows"));
}
