//! Reconstruction targets, computed on the CPU in the batcher.
//!
//! - NAT targets (AMR default): the clip normalised per person, joint and axis over time
//!   ([`crate::data::clip::nat_normalize`]), in the AMR target-patch layout.
//! - Motion targets (MAMP): x[t + 1] - x[t] with the last frame 0, in l-frame patches, each patch
//!   z-scored with its unbiased variance and eps 1e-6 (reference spec 1.7).

use crate::data::Sequence;
use crate::data::clip::nat_normalize;
use crate::model::patch_layout;

/// NAT-normalised coordinates (per joint and axis divided by sqrt(variance + `eps`)) in the AMR
/// target layout [M, (T / (r l)) V, r l 3].
pub fn nat_targets(clip: &Sequence, l: usize, r: usize, eps: f64) -> Option<Vec<f32>> {
    let n = nat_normalize(clip, eps);
    patch_layout(&n.positions, n.frames, n.persons, n.joints, 3, r * l)
}

/// MAMP motion targets [M, (T / l) V, l 3], each patch z-scored (unbiased variance, eps 1e-6).
pub fn motion_targets(clip: &Sequence, l: usize) -> Option<Vec<f32>> {
    let fl = clip.frame_len();
    let mut motion = vec![0.0f32; clip.positions.len()];
    for t in 0..clip.frames.saturating_sub(1) {
        for k in 0..fl {
            motion[t * fl + k] = clip.positions[(t + 1) * fl + k] - clip.positions[t * fl + k];
        }
    }
    let mut p = patch_layout(&motion, clip.frames, clip.persons, clip.joints, 3, l)?;
    let n = l * 3;
    for patch in p.chunks_exact_mut(n) {
        let mean = patch.iter().map(|&x| f64::from(x)).sum::<f64>() / n as f64;
        let var = patch.iter().map(|&x| (f64::from(x) - mean).powi(2)).sum::<f64>() / (n.max(2) - 1) as f64;
        let inv = 1.0 / (var + 1e-6).sqrt();
        for x in patch.iter_mut() {
            *x = ((f64::from(*x) - mean) * inv) as f32;
        }
    }
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_layout_matches_the_focal_weight_layout() {
        // Same layout as the focal weights' patches (channel = 1 there, broadcast to 3).
        let per_frame: Vec<f32> = (0..8).flat_map(|t| [t as f32, 10.0 + t as f32]).collect();
        let p = patch_layout(&per_frame, 8, 1, 2, 1, 4).unwrap();
        assert_eq!(p, vec![0.0, 1.0, 2.0, 3.0, 10.0, 11.0, 12.0, 13.0, 4.0, 5.0, 6.0, 7.0, 14.0, 15.0, 16.0, 17.0]);
        assert!(patch_layout(&per_frame, 8, 1, 2, 1, 3).is_none());
    }

    #[test]
    fn motion_target_has_a_zero_last_frame_and_unbiased_zscores() {
        // One joint, 4 frames, l = 4: x = 0, 1, 3, 6 -> motion x = 1, 2, 3, 0 (last frame 0); y = z = 0.
        let pos: Vec<f32> = [0.0, 1.0, 3.0, 6.0].iter().flat_map(|&x| [x, 0.0, 0.0]).collect();
        let clip = Sequence::new("m", 0, 4, 1, 1, pos);
        let t = motion_targets(&clip, 4).unwrap();
        // Patch values [1,0,0, 2,0,0, 3,0,0, 0,0,0]: mean 0.5; squared deviations 0.25, 2.25, 6.25 and
        // nine zeros at 0.25 each: unbiased var = 11 / 11 = 1.
        let var = (0.25 + 2.25 + 6.25 + 9.0 * 0.25) / 11.0;
        let z = |x: f64| ((x - 0.5) / (var + 1e-6f64).sqrt()) as f32;
        assert!((t[0] - z(1.0)).abs() < 1e-6 && (t[6] - z(3.0)).abs() < 1e-6 && (t[9] - z(0.0)).abs() < 1e-6);
        // An absent (zero) person gives a zero target: var 0 -> 0 / sqrt(1e-6).
        let zero = Sequence::new("z", 0, 4, 1, 1, vec![0.0; 12]);
        assert!(motion_targets(&zero, 4).unwrap().iter().all(|&x| x == 0.0));
    }

    #[test]
    fn nat_targets_are_normalised_per_joint_and_axis() {
        let pos: Vec<f32> = (0..12).flat_map(|t| [t as f32, 2.0, (t % 3) as f32]).collect();
        let clip = Sequence::new("n", 0, 12, 1, 1, pos);
        let t = nat_targets(&clip, 2, 3, 1e-6).unwrap();
        assert_eq!(t.len(), 36);
        let xs: Vec<f32> = t.chunks_exact(3).map(|c| c[0]).collect();
        let mean = xs.iter().sum::<f32>() / 12.0;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / 12.0;
        assert!(mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-4);
        assert!(t.chunks_exact(3).all(|c| c[1] == 0.0), "a constant axis becomes 0");
    }

    #[test]
    fn a_larger_nat_eps_keeps_the_amplitude_of_small_movements() {
        // Joint 0 moves +-1 m along x, joint 1 +-0.01 m: population sd 1 and 0.01. With eps 0.01 the
        // target's sd is sd / sqrt(sd^2 + 0.01): 0.995 for the large movement, 0.0995 for the small one
        // (with the paper's 1e-6 both would be about 1).
        let pos: Vec<f32> = (0..12)
            .flat_map(|t| if t % 2 == 0 { [1.0, 0.0, 0.0, 0.01, 0.0, 0.0] } else { [-1.0, 0.0, 0.0, -0.01, 0.0, 0.0] })
            .collect();
        let clip = Sequence::new("a", 0, 12, 1, 2, pos);
        let sd_of = |eps: f64, v: usize| {
            let t = nat_targets(&clip, 2, 3, eps).unwrap();
            // Layout [(T / 6) V, 6, 3]: rows alternate between the joints.
            let xs: Vec<f64> = t
                .chunks_exact(18)
                .skip(v)
                .step_by(2)
                .flat_map(|row| row.chunks_exact(3).map(|c| f64::from(c[0])).collect::<Vec<_>>())
                .collect();
            assert_eq!(xs.len(), 12);
            (xs.iter().map(|x| x * x).sum::<f64>() / 12.0).sqrt()
        };
        assert!((sd_of(0.01, 0) - 1.0 / 1.01f64.sqrt()).abs() < 1e-5);
        assert!((sd_of(0.01, 1) - 0.01 / 0.0101f64.sqrt()).abs() < 1e-5);
        assert!((sd_of(1e-6, 1) - 0.01 / (1e-4f64 + 1e-6).sqrt()).abs() < 1e-4);
    }
}
