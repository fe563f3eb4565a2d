//! Body-part mixing for classifier training: a clip takes the two arms' or the two legs' movement from
//! another clip of its batch, and its target shares the two labels by how much of the mixed clip's
//! movement each source carries.
//!
//! The limbs an action does not use still look like the training subjects' (a kick's arm swing); a
//! test subject who holds them otherwise (arms down) is then read as another class. Mixing shows the
//! classifier a kick with a standing subject's arms, still mostly a kick by its movement, and a kick
//! with a throw's arms, half of each. Not part of the published protocols.

use super::Sequence;
use crate::rng::SeededRng;
use crate::skeleton::{BodyPart, Layout};

/// Below this summed path length (metres) a mixed clip counts as still, and the joints' share decides
/// the target.
const STILL: f64 = 1e-3;

/// What happened to one clip of a batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PartMix {
    /// The clip of the batch whose limbs it took.
    pub partner: usize,
    /// The weight its own label keeps in the target, in [0, 1]; the partner's label has the rest.
    pub own: f64,
}

/// The joints of one limb pair, each with the joint its limb hangs from.
#[derive(Debug, Clone, PartialEq)]
struct Limbs {
    /// (joint, anchor) pairs.
    joints: Vec<(usize, usize)>,
}

impl Limbs {
    /// The two limbs of `parts`, or `None` when a limb is missing or does not hang from a joint of
    /// another part.
    fn of(layout: &Layout, parts: [BodyPart; 2]) -> Option<Self> {
        let mut joints = Vec::new();
        for part in parts {
            let anchor = layout.parents[layout.top_of(part)?]?;
            joints.extend(layout.joints_of(part).into_iter().map(|j| (j, anchor)));
        }
        Some(Self { joints })
    }
}

/// The limb pairs a layout can exchange: the arms, the legs, or both.
#[derive(Debug, Clone, PartialEq)]
pub struct PartMixer {
    pairs: Vec<Limbs>,
    /// The top joints of the two legs, which give a body's heading.
    hips: Option<[usize; 2]>,
}

impl PartMixer {
    /// The mixer of a layout; it mixes nothing when the layout names neither two arms nor two legs.
    pub fn new(layout: &Layout) -> Self {
        let pairs = [[BodyPart::LeftArm, BodyPart::RightArm], [BodyPart::LeftLeg, BodyPart::RightLeg]]
            .into_iter()
            .filter_map(|parts| Limbs::of(layout, parts))
            .collect();
        let hips = layout.top_of(BodyPart::LeftLeg).zip(layout.top_of(BodyPart::RightLeg)).map(|(l, r)| [l, r]);
        Self { pairs, hips }
    }

    /// Whether the layout has a limb pair to exchange.
    pub fn can_mix(&self) -> bool {
        !self.pairs.is_empty()
    }

    /// Mixes each clip with probability `prob`: its arms or its legs (one pair, drawn uniformly from
    /// those the layout has) are replaced by another clip's (drawn uniformly from the rest of the
    /// batch), each limb relative to the joint it hangs from and turned about the vertical (Y) axis
    /// by the difference of the two bodies' headings (the hips' direction over the clip), then
    /// carried by this clip's joint. Only frames and persons present in both clips change. The own
    /// label keeps the share of the mixed clip's movement (path length of the root-relative joints)
    /// carried by the joints it kept (the share of joints kept when the mixed clip is still).
    /// Partners are read unmixed.
    pub fn mix(&self, clips: &mut [Sequence], prob: f64, rng: &mut SeededRng) -> Vec<Option<PartMix>> {
        let n = clips.len();
        if prob <= 0.0 || n < 2 || !self.can_mix() {
            return vec![None; n];
        }
        let sources: Vec<Sequence> = clips.to_vec();
        (0..n)
            .map(|i| {
                if rng.uniform() >= prob {
                    return None;
                }
                let partner = (i + 1 + rng.below(n as u64 - 1) as usize) % n;
                let limbs = &self.pairs[rng.below(self.pairs.len() as u64) as usize];
                let own = self.mix_one(&mut clips[i], &sources[partner], limbs);
                Some(PartMix { partner, own })
            })
            .collect()
    }

    fn mix_one(&self, clip: &mut Sequence, source: &Sequence, limbs: &Limbs) -> f64 {
        if clip.joints != source.joints || clip.persons != source.persons {
            return 1.0;
        }
        let turn = self.heading(clip) - self.heading(source);
        let (sin, cos) = turn.sin_cos();
        let frames = clip.frames.min(source.frames);
        for t in 0..frames {
            for m in 0..clip.persons {
                if !clip.person_present(t, m) || !source.person_present(t, m) {
                    continue;
                }
                for &(j, anchor) in &limbs.joints {
                    let d = sub(at(source, t, m, j), at(source, t, m, anchor));
                    let d = [d[0] * cos - d[2] * sin, d[1], d[0] * sin + d[2] * cos];
                    let a = at(clip, t, m, anchor);
                    let i = clip.index(t, m, j, 0);
                    for c in 0..3 {
                        clip.positions[i + c] = (a[c] + d[c]) as f32;
                    }
                }
            }
        }
        let energy = path_lengths(clip);
        let total: f64 = energy.iter().sum();
        let taken: f64 = limbs.joints.iter().map(|&(j, _)| energy[j]).sum();
        if total > STILL { (total - taken) / total } else { 1.0 - limbs.joints.len() as f64 / clip.joints as f64 }
    }

    /// The heading of a clip's first person: the angle in the X-Z plane of the left-minus-right hip
    /// direction, summed over the frames where the person is present; 0 without hips.
    fn heading(&self, clip: &Sequence) -> f64 {
        let Some([l, r]) = self.hips else { return 0.0 };
        let (mut x, mut z) = (0.0, 0.0);
        for t in (0..clip.frames).filter(|&t| clip.person_present(t, 0)) {
            let d = sub(at(clip, t, 0, l), at(clip, t, 0, r));
            (x, z) = (x + d[0], z + d[2]);
        }
        if x == 0.0 && z == 0.0 { 0.0 } else { z.atan2(x) }
    }
}

/// One joint's position in f64.
fn at(s: &Sequence, t: usize, m: usize, j: usize) -> [f64; 3] {
    s.joint(t, m, j).map(f64::from)
}

fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

/// Per joint, the path length of its position relative to the root (joint 0) over consecutive frames
/// where the person is present, summed over persons.
fn path_lengths(s: &Sequence) -> Vec<f64> {
    let mut out = vec![0.0; s.joints];
    for m in 0..s.persons {
        for t in 1..s.frames {
            if !s.person_present(t - 1, m) || !s.person_present(t, m) {
                continue;
            }
            let (r0, r1) = (at(s, t - 1, m, 0), at(s, t, m, 0));
            for (j, e) in out.iter_mut().enumerate() {
                let d = sub(sub(at(s, t, m, j), r1), sub(at(s, t - 1, m, j), r0));
                *e += (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Root, two hips, two feet, a chest, two hands: parts Trunk, LeftLeg x2, RightLeg x2, Trunk,
    /// LeftArm, RightArm.
    fn layout() -> Layout {
        let names = ["root", "lhip", "lfoot", "rhip", "rfoot", "chest", "lhand", "rhand"];
        let parents = [None, Some(0), Some(1), Some(0), Some(3), Some(0), Some(5), Some(5)];
        let parts = [
            BodyPart::Trunk,
            BodyPart::LeftLeg,
            BodyPart::LeftLeg,
            BodyPart::RightLeg,
            BodyPart::RightLeg,
            BodyPart::Trunk,
            BodyPart::LeftArm,
            BodyPart::RightArm,
        ];
        Layout {
            name: "toy8".into(),
            joint_names: names.iter().map(|s| (*s).to_owned()).collect(),
            parents: parents.to_vec(),
            parts: parts.to_vec(),
        }
    }

    /// A body facing +Z (left hip at +X) with its positions from `pose(t, j)`, rotated by `yaw` about Y.
    fn body(frames: usize, yaw: f64, pose: impl Fn(usize, usize) -> [f64; 3]) -> Sequence {
        let (s, c) = yaw.sin_cos();
        let mut positions = Vec::new();
        for t in 0..frames {
            for j in 0..8 {
                let p = pose(t, j);
                positions.extend([p[0] * c - p[2] * s, p[1], p[0] * s + p[2] * c].map(|x| x as f32));
            }
        }
        Sequence {
            name: String::new(),
            label: 0,
            frames,
            persons: 1,
            joints: 8,
            positions,
            attributes: Default::default(),
        }
    }

    fn rest(j: usize) -> [f64; 3] {
        [
            [0.0, 1.0, 0.0],
            [0.1, 1.0, 0.0],
            [0.1, 0.0, 0.0],
            [-0.1, 1.0, 0.0],
            [-0.1, 0.0, 0.0],
            [0.0, 1.5, 0.0],
            [0.3, 1.5, 0.0],
            [-0.3, 1.5, 0.0],
        ][j]
    }

    #[test]
    fn limbs_hang_from_the_joint_above_their_part() {
        let mixer = PartMixer::new(&layout());
        assert_eq!(mixer.pairs.len(), 2);
        assert_eq!(mixer.pairs[0].joints, vec![(6, 5), (7, 5)]);
        assert_eq!(mixer.pairs[1].joints, vec![(1, 0), (2, 0), (3, 0), (4, 0)]);
        assert_eq!(mixer.hips, Some([1, 3]));
        let mut no_limbs = layout();
        no_limbs.parts = vec![BodyPart::Trunk; 8];
        assert!(!PartMixer::new(&no_limbs).can_mix());
    }

    #[test]
    fn arms_carried_over_turn_with_the_body_and_the_label_follows_the_movement() {
        // A: still legs and trunk, hands still, facing +Z, shifted by (2, 0, 0) and walking along X.
        // B: turned by 90 degrees, its left hand waves up and down by 0.2 m per frame.
        let a = body(3, 0.0, |t, j| {
            let p = rest(j);
            [p[0] + 2.0 + 0.5 * t as f64, p[1], p[2]]
        });
        let b = body(3, std::f64::consts::FRAC_PI_2, |t, j| {
            let p = rest(j);
            if j == 6 { [p[0], p[1] + 0.2 * (t % 2) as f64, p[2]] } else { p }
        });
        let mixer = PartMixer::new(&layout());
        let mut clip = a.clone();
        let own = mixer.mix_one(&mut clip, &b, &mixer.pairs[0]);
        for t in 0..3 {
            // The left hand hangs 0.3 m to the chest's +X (B's pose turned back to A's heading),
            // raised as B raises it; legs and trunk are A's.
            let chest = at(&a, t, 0, 5);
            let want = [chest[0] + 0.3, chest[1] + 0.2 * (t % 2) as f64, chest[2]];
            let got = at(&clip, t, 0, 6);
            for c in 0..3 {
                assert!((got[c] - want[c]).abs() < 1e-5, "frame {t}: {got:?} vs {want:?}");
            }
            for j in 0..6 {
                assert_eq!(clip.joint(t, 0, j), a.joint(t, 0, j));
            }
            // The right hand is B's too, still, so turned back it sits where A's was.
            let (got, want) = (at(&clip, t, 0, 7), at(&a, t, 0, 7));
            assert!((0..3).all(|c| (got[c] - want[c]).abs() < 1e-5), "frame {t}: {got:?} vs {want:?}");
        }
        // A's kept joints do not move relative to the root; all the movement is B's hand: 0 own.
        assert!(own.abs() < 1e-5, "{own}");
        // The other way round: B's waving hand is replaced by A's still one, so nothing moves and
        // the joint share decides: 6 of 8 joints kept.
        let mut clip = b.clone();
        let own = mixer.mix_one(&mut clip, &a, &mixer.pairs[0]);
        assert!((own - 0.75).abs() < 1e-9, "{own}");
    }

    #[test]
    fn the_own_share_is_the_kept_joints_path_length() {
        // A's left foot moves 0.1 m a frame (kept when arms are mixed); B's left hand 0.3 m a frame.
        let a = body(4, 0.0, |t, j| {
            let p = rest(j);
            if j == 2 { [p[0], p[1], p[2] + 0.1 * t as f64] } else { p }
        });
        let b = body(4, 0.0, |t, j| {
            let p = rest(j);
            if j == 6 { [p[0], p[1] - 0.3 * t as f64, p[2]] } else { p }
        });
        let mixer = PartMixer::new(&layout());
        let mut clip = a.clone();
        let own = mixer.mix_one(&mut clip, &b, &mixer.pairs[0]);
        assert!((own - 0.3 / (0.3 + 0.9)).abs() < 1e-6, "{own}");
    }

    #[test]
    fn mixing_draws_other_clips_at_the_given_rate() {
        let mixer = PartMixer::new(&layout());
        let clips: Vec<Sequence> = (0..8).map(|k| body(2, 0.1 * k as f64, |_, j| rest(j))).collect();
        let mut rng = SeededRng::new(3);
        let (mut mixed, mut total) = (0usize, 0usize);
        for _ in 0..200 {
            let mut batch = clips.clone();
            for (i, m) in mixer.mix(&mut batch, 0.4, &mut rng).into_iter().enumerate() {
                total += 1;
                if let Some(m) = m {
                    mixed += 1;
                    assert_ne!(m.partner, i);
                    assert!(m.partner < 8 && (0.0..=1.0).contains(&m.own));
                } else {
                    assert_eq!(batch[i], clips[i]);
                }
            }
        }
        let rate = mixed as f64 / total as f64;
        assert!((rate - 0.4).abs() < 0.04, "{rate}");
        let mut batch = clips.clone();
        assert!(mixer.mix(&mut batch, 0.0, &mut rng).iter().all(Option::is_none));
        assert_eq!(batch, clips);
        let mut one = clips[..1].to_vec();
        assert_eq!(mixer.mix(&mut one, 1.0, &mut rng), vec![None]);
    }
}
