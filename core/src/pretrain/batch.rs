//! The pretraining batcher: sequences -> augmented clips -> masks, targets and focal weights, all on
//! the CPU from one seeded generator, as flat arrays ready to upload (persons folded into the batch).

use crate::data::clip::{ClipConfig, train_clip};
use crate::data::{Dataset, Sequence};
use crate::focal::{FocalConfig, focal_patch_weights, focal_weights};
use crate::masking::{motion_aware_mask, random_mask, token_motion, visible_count};
use crate::model::{AmrConfig, DecoderKind};
use crate::rng::SeededRng;

use super::TrainError;
use super::targets::{motion_targets, nat_targets};
use crate::model::patch_layout;

/// Which tokens are hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Masking {
    /// MAMP's motion-aware masking (default).
    #[default]
    Motion,
    /// Uniform random masking.
    Random,
}

/// What the AMR decoder reconstructs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    /// NAT-normalised coordinates (default).
    #[default]
    Nat,
    /// The raw clip coordinates.
    Raw,
}

/// The paper's eps of NAT targets (squared metres).
pub const NAT_EPS: f64 = 1e-6;

/// Which target patches the AMR loss covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LossRegion {
    /// Every target patch, visible ones included (paper Table 9).
    #[default]
    All,
    /// Only target patches that contain a masked encoder token.
    Masked,
}

/// Batcher settings.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatchConfig {
    /// Share of tokens hidden (paper: 0.9).
    pub mask_ratio: f64,
    /// Temperature of motion-aware masking (0.8 for NTU-60).
    pub tau: f64,
    /// Masking strategy.
    pub masking: Masking,
    /// AMR target.
    pub target: TargetKind,
    /// The eps of NAT targets, in squared metres: each joint's trajectory is divided by
    /// sqrt(variance + eps). The paper's 1e-6 scales every joint that moves at all to unit variance, so
    /// the target no longer says which joint moves how much; a larger eps (0.01: 10 cm) keeps the
    /// amplitude of small movements (`docs/experiments.md`, section 12).
    pub nat_eps: f64,
    /// Focal reconstruction (paper Eq. 5); off gives weight 1 everywhere (plain MSE).
    pub focal_reconstruction: bool,
    /// Parameters of the focal weights.
    pub focal: FocalConfig,
    /// Loss region of the AMR objective.
    pub loss_region: LossRegion,
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self {
            mask_ratio: 0.9,
            tau: 0.8,
            masking: Masking::Motion,
            target: TargetKind::Nat,
            nat_eps: NAT_EPS,
            focal_reconstruction: true,
            focal: FocalConfig::default(),
            loss_region: LossRegion::All,
        }
    }
}

/// One batch, persons folded into the batch dimension (P = B * M).
#[derive(Debug, Clone, PartialEq)]
pub struct PretrainBatch {
    /// P = sequences x persons.
    pub persons: usize,
    /// Model input [P, T, V, 3]: the augmented clip in metres.
    pub x: Vec<f32>,
    /// Visible token indices [P, Nv], ascending.
    pub keep: Vec<i64>,
    /// For the MAMP decoder: position of token j in `keep ++ masked` [P, L].
    pub restore: Vec<i64>,
    /// 1 for masked tokens [P, L].
    pub masked: Vec<f32>,
    /// Decoder-masking baseline: the masked tokens whose patches are predicted [P, Nq], ascending.
    pub select: Vec<i64>,
    /// Targets: AMR [P, Nq, r l 3]; MAMP [P, L, l 3] (motion, z-scored per patch).
    pub target: Vec<f32>,
    /// Loss weights in the target layout (focal weights, 1 where focal reconstruction is off, 0 outside
    /// the loss region).
    pub weight: Vec<f32>,
}

impl PretrainBatch {
    /// Visible tokens per person.
    pub fn visible(&self) -> usize {
        self.keep.len() / self.persons.max(1)
    }

    /// The persons `range` of the batch.
    fn persons_range(&self, range: std::ops::Range<usize>) -> Self {
        fn rows<T: Clone>(v: &[T], persons: usize, range: &std::ops::Range<usize>) -> Vec<T> {
            let per = v.len() / persons.max(1);
            v[range.start * per..range.end * per].to_vec()
        }
        let p = self.persons;
        Self {
            persons: range.len(),
            x: rows(&self.x, p, &range),
            keep: rows(&self.keep, p, &range),
            restore: rows(&self.restore, p, &range),
            masked: rows(&self.masked, p, &range),
            select: rows(&self.select, p, &range),
            target: rows(&self.target, p, &range),
            weight: rows(&self.weight, p, &range),
        }
    }

    /// The batch split by persons into `parts` consecutive parts as equal as they can be (the first
    /// ones a person larger); fewer when there are fewer persons than parts, never an empty one.
    pub fn split(self, parts: usize) -> Vec<Self> {
        let p = self.persons;
        let parts = parts.clamp(1, p.max(1));
        if parts == 1 {
            return vec![self];
        }
        let (base, extra) = (p / parts, p % parts);
        let mut start = 0;
        (0..parts)
            .map(|i| {
                let len = base + usize::from(i < extra);
                let part = self.persons_range(start..start + len);
                start += len;
                part
            })
            .collect()
    }
}

/// One person's clip as [T, 1, V, 3].
fn person(clip: &Sequence, m: usize) -> Sequence {
    let mut pos = Vec::with_capacity(clip.frames * clip.joints * 3);
    for t in 0..clip.frames {
        let i = clip.index(t, m, 0, 0);
        pos.extend_from_slice(&clip.positions[i..i + clip.joints * 3]);
    }
    Sequence::new(clip.name.clone(), clip.label, clip.frames, 1, clip.joints, pos)
}

/// Sets to 0 the weights of the target patches (r l frames of one joint) that hold no masked encoder
/// token: the `masked`-only loss region.
///
/// # Shapes
/// `weight`: [(T / (r l)) V, r l 3] of one person, `masked`: [L]
pub fn zero_unmasked_patches(weight: &mut [f32], masked: &[bool], model: &AmrConfig) {
    let (l, r, v_len) = (model.patch, model.r, model.joints);
    // A target patch (slot s, joint v) covers encoder tokens (s r + k, v), k < r.
    for (q, w) in weight.chunks_exact_mut(r * l * 3).enumerate() {
        let (s, v) = (q / v_len, q % v_len);
        if !(0..r).any(|k| masked[(s * r + k) * v_len + v]) {
            w.fill(0.0);
        }
    }
}

/// Builds the batch of the sequences `indices` of `ds`. Fails (naming the setting) when the data does
/// not fit the model: wrong joint count or clip length.
pub fn make_batch(
    ds: &Dataset,
    indices: &[usize],
    clip_cfg: &ClipConfig,
    cfg: &BatchConfig,
    model: &AmrConfig,
    rng: &mut SeededRng,
) -> Result<PretrainBatch, TrainError> {
    if ds.layout.joint_count() != model.joints {
        return Err(TrainError::Config(format!(
            "model.joints = {} but the dataset has {} joints",
            model.joints,
            ds.layout.joint_count()
        )));
    }
    if clip_cfg.frames != model.frames {
        return Err(TrainError::Config(format!(
            "clip.frames = {} but model.frames = {}",
            clip_cfg.frames, model.frames
        )));
    }
    model.validate()?;
    // The divisibility validate() checks, named where a layout needs it.
    let patch_divides = || TrainError::Config("model.patch: l must divide T".into());
    let span_divides = || TrainError::Config("model.r: r * l must divide T".into());
    let (l, r) = (model.patch, model.r);
    let tokens = model.tokens();
    let nv = visible_count(tokens, cfg.mask_ratio);
    let mut b = PretrainBatch {
        persons: 0,
        x: vec![],
        keep: vec![],
        restore: vec![],
        masked: vec![],
        select: vec![],
        target: vec![],
        weight: vec![],
    };
    for &i in indices {
        let seq = ds
            .sequences
            .get(i)
            .ok_or_else(|| TrainError::Data(format!("sequence {i} is not in the dataset ({} sequences)", ds.len())))?;
        let mut sample_rng = rng.fork();
        let clip = train_clip(seq, clip_cfg, &mut sample_rng);
        for m in 0..clip.persons {
            let p = person(&clip, m);
            let mask = match cfg.masking {
                Masking::Motion => motion_aware_mask(&token_motion(&p, 0, l), cfg.mask_ratio, cfg.tau, &mut sample_rng),
                Masking::Random => random_mask(tokens, cfg.mask_ratio, &mut sample_rng),
            };
            debug_assert_eq!(mask.keep.len(), nv);
            let order: Vec<usize> = mask.keep.iter().copied().chain((0..tokens).filter(|j| mask.masked[*j])).collect();
            let mut restore = vec![0i64; tokens];
            for (pos, &j) in order.iter().enumerate() {
                restore[j] = pos as i64;
            }
            let (target, weight) = match model.decoder {
                DecoderKind::DecoderMasking => {
                    // N/r of the masked tokens, drawn uniformly; their l-frame patches are the targets.
                    let mut masked: Vec<usize> = (0..tokens).filter(|&j| mask.masked[j]).collect();
                    let nq = model.queries();
                    if masked.len() < nq {
                        return Err(TrainError::Config(format!(
                            "decoder masking predicts {nq} patches but only {} tokens are masked; raise batch.mask_ratio",
                            masked.len()
                        )));
                    }
                    sample_rng.shuffle(&mut masked);
                    let mut chosen = masked[..nq].to_vec();
                    chosen.sort_unstable();
                    let all = match cfg.target {
                        TargetKind::Nat => nat_targets(&p, l, 1, cfg.nat_eps),
                        TargetKind::Raw => patch_layout(&p.positions, p.frames, 1, p.joints, 3, l),
                    }
                    .ok_or_else(patch_divides)?;
                    let all_w = if cfg.focal_reconstruction {
                        focal_patch_weights(&focal_weights(&p, &cfg.focal), l, 1).ok_or_else(patch_divides)?
                    } else {
                        vec![1.0; all.len()]
                    };
                    let per = l * 3;
                    let pick = |v: &[f32]| chosen.iter().flat_map(|&j| v[j * per..(j + 1) * per].to_vec()).collect();
                    b.select.extend(chosen.iter().map(|&j| j as i64));
                    (pick(&all), pick(&all_w))
                }
                DecoderKind::Amr | DecoderKind::Downsampling => {
                    let target = match cfg.target {
                        TargetKind::Nat => nat_targets(&p, l, r, cfg.nat_eps),
                        TargetKind::Raw => patch_layout(&p.positions, p.frames, 1, p.joints, 3, r * l),
                    }
                    .ok_or_else(span_divides)?;
                    let mut weight = if cfg.focal_reconstruction {
                        focal_patch_weights(&focal_weights(&p, &cfg.focal), l, r).ok_or_else(span_divides)?
                    } else {
                        vec![1.0; target.len()]
                    };
                    if cfg.loss_region == LossRegion::Masked {
                        zero_unmasked_patches(&mut weight, &mask.masked, model);
                    }
                    (target, weight)
                }
                DecoderKind::Mamp => {
                    let target = motion_targets(&p, l).ok_or_else(patch_divides)?;
                    let weight = mask
                        .masked
                        .iter()
                        .flat_map(|&mk| std::iter::repeat_n(if mk { 1.0 } else { 0.0 }, l * 3))
                        .collect();
                    (target, weight)
                }
            };
            b.x.extend_from_slice(&p.positions);
            b.keep.extend(mask.keep.iter().map(|&k| k as i64));
            b.restore.extend(restore);
            b.masked.extend(mask.masked.iter().map(|&mk| if mk { 1.0 } else { 0.0 }));
            b.target.extend(target);
            b.weight.extend(weight);
            b.persons += 1;
        }
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_data::web_demo as demo;

    #[test]
    fn decoder_masking_targets_are_the_chosen_masked_patches() {
        let ds = demo();
        let model = AmrConfig::new().with_joints(21).with_decoder(DecoderKind::DecoderMasking);
        let cfg = BatchConfig { focal_reconstruction: false, ..Default::default() };
        let b = make_batch(&ds, &[3, 4], &ClipConfig::default(), &cfg, &model, &mut SeededRng::new(2)).unwrap();
        let (nq, l_all, per) = (model.queries(), model.tokens(), model.patch * 3);
        assert_eq!((b.select.len(), b.target.len()), (2 * nq, 2 * nq * per));
        for p in 0..2 {
            let sel = &b.select[p * nq..(p + 1) * nq];
            assert!(sel.windows(2).all(|w| w[0] < w[1]), "ascending, no repeats");
            assert!(sel.iter().all(|&j| b.masked[p * l_all + j as usize] == 1.0), "only masked tokens");
        }
        // The targets are the NAT patches of exactly the chosen tokens.
        let one = make_batch(&ds, &[3], &ClipConfig::default(), &cfg, &model, &mut SeededRng::new(2)).unwrap();
        let p0 = Sequence::new("", 0, 120, 1, 21, one.x.clone());
        let all = nat_targets(&p0, model.patch, 1, NAT_EPS).unwrap();
        for (k, &j) in one.select.iter().enumerate() {
            let j = j as usize;
            assert_eq!(&one.target[k * per..(k + 1) * per], &all[j * per..(j + 1) * per]);
        }
        assert!(one.weight.iter().all(|&w| w == 1.0));
    }

    #[test]
    fn paper_shapes_on_real_clips_and_seeded_reproduction() {
        let ds = demo();
        let model = AmrConfig::new().with_joints(21);
        let clip = ClipConfig::default();
        let cfg = BatchConfig::default();
        let b = make_batch(&ds, &[0, 5, 17], &clip, &cfg, &model, &mut SeededRng::new(4)).unwrap();
        assert_eq!(b.persons, 3);
        assert_eq!(b.visible(), 63, "10 % of 30 x 21 = 630 tokens");
        assert_eq!(b.x.len(), 3 * 120 * 21 * 3);
        assert_eq!(b.target.len(), 3 * (5 * 21) * 72);
        assert_eq!(b.weight.len(), b.target.len());
        assert!(b.weight.iter().all(|w| (0.0..1.0).contains(w)));
        assert_eq!(b.masked.iter().filter(|&&m| m == 1.0).count(), 3 * (630 - 63));
        // restore is a permutation of 0..L per person, and keep[k] sits at position k.
        let l = 630;
        for p in 0..3 {
            let r = &b.restore[p * l..(p + 1) * l];
            let mut sorted = r.to_vec();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..l as i64).collect::<Vec<_>>());
            for (k, &j) in b.keep[p * 63..(p + 1) * 63].iter().enumerate() {
                assert_eq!(r[j as usize], k as i64);
            }
        }
        assert_eq!(b, make_batch(&ds, &[0, 5, 17], &clip, &cfg, &model, &mut SeededRng::new(4)).unwrap());
        assert_ne!(b.keep, make_batch(&ds, &[0, 5, 17], &clip, &cfg, &model, &mut SeededRng::new(5)).unwrap().keep);
    }

    #[test]
    fn loss_region_focal_off_and_mamp_targets() {
        let ds = demo();
        let model = AmrConfig::new().with_joints(21);
        let clip = ClipConfig::default();
        let off = BatchConfig { focal_reconstruction: false, ..Default::default() };
        let b = make_batch(&ds, &[1], &clip, &off, &model, &mut SeededRng::new(1)).unwrap();
        assert!(b.weight.iter().all(|&w| w == 1.0));
        let masked_only =
            BatchConfig { focal_reconstruction: false, loss_region: LossRegion::Masked, ..Default::default() };
        let b = make_batch(&ds, &[1], &clip, &masked_only, &model, &mut SeededRng::new(1)).unwrap();
        // With 90 % masking almost every 6-token target patch holds a masked token.
        let zero_patches = b.weight.chunks_exact(72).filter(|w| w[0] == 0.0).count();
        assert!(zero_patches < 105 && b.weight.chunks_exact(72).all(|w| w.iter().all(|&x| x == w[0])));

        let mamp = model.clone().with_decoder(DecoderKind::Mamp);
        let b = make_batch(&ds, &[1], &clip, &BatchConfig::default(), &mamp, &mut SeededRng::new(1)).unwrap();
        assert_eq!(b.target.len(), 630 * 12);
        assert_eq!(b.weight.iter().filter(|&&w| w == 1.0).count(), (630 - 63) * 12);
        let e = make_batch(&ds, &[1], &clip, &BatchConfig::default(), &AmrConfig::new(), &mut SeededRng::new(1))
            .unwrap_err()
            .to_string();
        assert!(e.contains("model.joints = 25"), "{e}");
    }

    #[test]
    fn a_batch_splits_by_persons_into_its_parts() {
        let ds = crate::test_data::web_demo();
        let model = AmrConfig::new().with_joints(ds.layout.joint_count()).with_decoder(DecoderKind::DecoderMasking);
        let b = make_batch(
            &ds,
            &[0, 1, 2],
            &ClipConfig::default(),
            &BatchConfig::default(),
            &model,
            &mut SeededRng::new(4),
        )
        .unwrap();
        let p = b.persons;
        let parts = b.clone().split(2);
        assert_eq!(parts.iter().map(|q| q.persons).collect::<Vec<_>>(), [p - p / 2, p / 2]);
        // Joined again, the parts are the batch.
        let (mut joined, second) = (parts[0].clone(), &parts[1]);
        joined.persons += second.persons;
        joined.x.extend_from_slice(&second.x);
        joined.keep.extend_from_slice(&second.keep);
        joined.restore.extend_from_slice(&second.restore);
        joined.masked.extend_from_slice(&second.masked);
        joined.select.extend_from_slice(&second.select);
        joined.target.extend_from_slice(&second.target);
        joined.weight.extend_from_slice(&second.weight);
        assert_eq!(joined, b);
        assert!(!parts[1].select.is_empty() && parts[1].visible() == b.visible());
        assert_eq!(b.clone().split(1), vec![b.clone()]);
        assert_eq!(b.clone().split(100).len(), p, "never an empty part");
    }
}
