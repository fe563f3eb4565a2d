//! What a pretrained model makes of one clip: the input, the tokens the masking hid, the target, the
//! model's reconstruction (in the target space and, where the target allows, back in metres) and the
//! error per joint. The desktop and web apps draw it; nothing here blocks on a readback.

use burn::prelude::*;

use super::Checkpoint;
use super::batch::{Masking, make_batch};
use super::trainer::{PretrainConfig, TrainError, forward_batch};
use crate::data::clip::{ClipConfig, nat_stats, test_clip};
use crate::data::{Dataset, Sequence};
use crate::error::DeviceError;
use crate::model::{AmrModel, DecoderKind, load_params};
use crate::rng::SeededRng;

/// A pretrained model ready to reconstruct clips (no autodiff).
pub struct Reconstructor {
    /// The run's config (model shapes, clip length, masking, target).
    pub config: PretrainConfig,
    model: AmrModel,
    device: Device,
}

/// One reconstructed clip of one person.
#[derive(Debug, Clone, PartialEq)]
pub struct Reconstruction {
    /// The model's input: the centre clip of the person, [T, 1, V, 3] in metres.
    pub clip: Sequence,
    /// Patch length l of the encoder tokens.
    pub patch: usize,
    /// Hidden encoder tokens, [(T / l) V], index = s V + v (frames s l .. (s + 1) l of joint v).
    pub masked: Vec<bool>,
    /// The reconstruction target per frame, [T, V, 3] (NAT coordinates, raw metres, or MAMP's
    /// z-scored motion, as the run's config says).
    pub target: Vec<f32>,
    /// The model's output in the same layout as `target`.
    pub prediction: Vec<f32>,
    /// The output in metres, [T, 1, V, 3]: NAT predictions mapped back with the clip's own mean and
    /// deviation per joint and axis, raw ones as they are; none for MAMP's motion targets.
    pub predicted_clip: Option<Sequence>,
    /// Mean squared error per joint over frames and axes, [V].
    pub joint_error: Vec<f32>,
}

impl Reconstruction {
    /// Whether the token holding frame `t` of joint `v` was hidden from the encoder.
    pub fn is_masked(&self, t: usize, v: usize) -> bool {
        let joints = self.clip.joints;
        self.masked.get((t / self.patch.max(1)) * joints + v).copied().unwrap_or(false)
    }
}

/// Re-lays target patches of `span` frames, [(T / span) V, span 3], as frames [T, V, 3]: the inverse
/// of [`crate::model::patch_layout`] for one person.
///
/// # Shapes
/// `patches`: [(T / span) V, span 3] -> [T, V, 3]
pub fn frames_from_patches(patches: &[f32], frames: usize, joints: usize, span: usize) -> Vec<f32> {
    let mut out = vec![0.0; frames * joints * 3];
    for s in 0..frames / span.max(1) {
        for v in 0..joints {
            for u in 0..span {
                for c in 0..3 {
                    let src = ((s * joints + v) * span + u) * 3 + c;
                    out[((s * span + u) * joints + v) * 3 + c] = patches.get(src).copied().unwrap_or(0.0);
                }
            }
        }
    }
    out
}

/// Maps NAT coordinates of `clip`'s person 0 back to metres: value x sqrt(var + eps) + mean with the
/// clip's own statistics per joint and axis (population variance over T, `eps` as in the target).
///
/// # Shapes
/// `nat`: [T, V, 3] -> [T, 1, V, 3]
pub fn denormalize_nat(clip: &Sequence, nat: &[f32], eps: f64) -> Sequence {
    let (t_len, joints) = (clip.frames, clip.joints);
    let mut out = vec![0.0f32; t_len * joints * 3];
    for v in 0..joints {
        for c in 0..3 {
            let (mean, sd) = nat_stats(clip, 0, v, c, eps);
            for t in 0..t_len {
                let i = (t * joints + v) * 3 + c;
                out[i] = (f64::from(nat.get(i).copied().unwrap_or(0.0)) * sd + mean) as f32;
            }
        }
    }
    Sequence::new(clip.name.clone(), clip.label, t_len, 1, joints, out)
}

impl Reconstructor {
    /// Builds the model of `ckpt` on `device`; fails when the parameters do not fit the config.
    pub fn new(ckpt: &Checkpoint, device: &Device) -> Result<Self, TrainError> {
        if ckpt.config.model.decoder == DecoderKind::DecoderMasking {
            return Err(TrainError::Config(
                "the decoder-masking baseline predicts a random subset of patches; \
                 the reconstruction view shows the AMR, downsampling and MAMP decoders"
                    .into(),
            ));
        }
        ckpt.config.model.check_fits(&ckpt.model, true)?;
        let model = ckpt.config.model.init(device);
        let model = load_params(model, &ckpt.model)
            .map_err(|(_, e)| TrainError::Config(format!("the checkpoint does not fit its config: {e}")))?;
        Ok(Self { config: ckpt.config.clone(), model, device: device.clone() })
    }

    /// Reconstructs person `person` of sequence `index` of `ds`: the centre test clip, a mask drawn
    /// from `seed` with the run's masking (`masking` overrides it), one forward pass.
    pub async fn reconstruct(
        &self,
        ds: &Dataset,
        index: usize,
        person: usize,
        masking: Option<Masking>,
        seed: u64,
    ) -> Result<Reconstruction, TrainError> {
        self.start(ds, index, person, masking, seed)?.finish().await
    }

    /// The forward pass of [`Self::reconstruct`], queued on the device; the returned value owns
    /// everything its read-back needs, so a frame loop can keep its future and poll it later.
    pub fn start(
        &self,
        ds: &Dataset,
        index: usize,
        person: usize,
        masking: Option<Masking>,
        seed: u64,
    ) -> Result<PendingReconstruction, TrainError> {
        let seq = ds
            .sequences
            .get(index)
            .ok_or_else(|| TrainError::Data(format!("sequence {index} is not in the dataset")))?;
        let m = &self.config.model;
        let clip = test_clip(seq, &self.config.clip);
        // The batcher draws the mask and the targets; a full crop without rotation keeps the clip as is.
        let mut one = ds.subset(&[]);
        one.sequences.push(clip.clone());
        let keep_clip =
            ClipConfig { crop_min: 1.0, crop_max: 1.0, rotation: 0.0, scale: 0.0, ..self.config.clip.clone() };
        let mut batch_cfg = self.config.batch.clone();
        if let Some(mk) = masking {
            batch_cfg.masking = mk;
        }
        let b = make_batch(&one, &[0], &keep_clip, &batch_cfg, m, &mut SeededRng::new(seed))?;
        let pred = forward_batch(&self.model, &self.config, b.clone(), &self.device).map_err(TrainError::Config)?;
        let [_, rows, per] = pred.dims();
        let p = person.min(b.persons.saturating_sub(1));
        let (t_len, joints, tokens) = (m.frames, m.joints, m.tokens());
        let clip = Sequence::new(
            clip.name.clone(),
            clip.label,
            t_len,
            1,
            joints,
            b.x[p * t_len * joints * 3..(p + 1) * t_len * joints * 3].to_vec(),
        );
        Ok(PendingReconstruction {
            pred,
            rows: rows * per,
            person: p,
            span: per / 3,
            target: b.target[p * rows * per..(p + 1) * rows * per].to_vec(),
            masked: b.masked[p * tokens..(p + 1) * tokens].iter().map(|&x| x > 0.5).collect(),
            clip,
            patch: m.patch,
            decoder: m.decoder,
            target_kind: self.config.batch.target,
            nat_eps: self.config.batch.nat_eps,
        })
    }
}

/// A reconstruction whose forward pass is queued on the device: [`Self::finish`] reads the output
/// back without blocking and lays it out.
pub struct PendingReconstruction {
    pred: Tensor<3>,
    /// Values per person in `pred`.
    rows: usize,
    person: usize,
    span: usize,
    target: Vec<f32>,
    masked: Vec<bool>,
    clip: Sequence,
    patch: usize,
    decoder: DecoderKind,
    target_kind: super::TargetKind,
    nat_eps: f64,
}

impl PendingReconstruction {
    /// Reads the model's output back and builds the [`Reconstruction`].
    pub async fn finish(self) -> Result<Reconstruction, TrainError> {
        let values = self
            .pred
            .into_data_async()
            .await
            .map_err(|e| DeviceError(format!("reading the reconstruction back: {e:?}")))?
            .try_into_vec::<f32>()
            .map_err(|e| DeviceError(format!("reading the reconstruction back: {e:?}")))?;
        let (p, rows) = (self.person, self.rows);
        let pred_rows = values
            .get(p * rows..(p + 1) * rows)
            .ok_or_else(|| DeviceError("the model's output has too few rows".into()))?;
        let clip = self.clip;
        let (t_len, joints) = (clip.frames, clip.joints);
        let prediction = frames_from_patches(pred_rows, t_len, joints, self.span);
        let target = frames_from_patches(&self.target, t_len, joints, self.span);
        let joint_error = (0..joints)
            .map(|v| {
                let mut sum = 0.0f64;
                for t in 0..t_len {
                    for c in 0..3 {
                        let i = (t * joints + v) * 3 + c;
                        sum += f64::from(prediction[i] - target[i]).powi(2);
                    }
                }
                (sum / (t_len * 3) as f64) as f32
            })
            .collect();
        let predicted_clip = match (self.decoder, self.target_kind) {
            (DecoderKind::Mamp, _) => None,
            (_, super::TargetKind::Nat) => Some(denormalize_nat(&clip, &prediction, self.nat_eps)),
            (_, super::TargetKind::Raw) => {
                Some(Sequence::new(clip.name.clone(), clip.label, t_len, 1, joints, prediction.clone()))
            }
        };
        Ok(Reconstruction {
            clip,
            patch: self.patch,
            masked: self.masked,
            target,
            prediction,
            predicted_clip,
            joint_error,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::clip::nat_normalize;
    use crate::masking::visible_count;
    use crate::model::AmrConfig;
    use crate::test_data::web_demo as demo;

    fn small() -> PretrainConfig {
        PretrainConfig {
            model: AmrConfig::new()
                .with_joints(21)
                .with_dim(32)
                .with_heads(2)
                .with_mlp(64)
                .with_encoder_depth(1)
                .with_decoder_depth(1),
            ..PretrainConfig::default()
        }
    }

    #[test]
    fn reconstruction_has_the_target_of_the_clip_and_its_error() {
        let ds = demo();
        let cfg = small();
        let device = crate::backend::cpu_device();
        let model = cfg.model.init_seeded(&device, 3);
        let ckpt = Checkpoint {
            config: cfg.clone(),
            model: crate::model::named_params(&model),
            optimizer: Default::default(),
            state: None,
        };
        let r = Reconstructor::new(&ckpt, &device).unwrap();
        let rec = pollster::block_on(r.reconstruct(&ds, 5, 0, None, 11)).unwrap();
        let (t_len, v_len) = (cfg.model.frames, cfg.model.joints);
        assert_eq!(rec.clip.frames, t_len);
        assert_eq!(rec.prediction.len(), t_len * v_len * 3);
        // The target is the NAT-normalised input clip, frame by frame.
        let nat = nat_normalize(&rec.clip, 1e-6);
        for (a, b) in rec.target.iter().zip(&nat.positions) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
        // The input is the centre test clip of the sequence.
        let clip = test_clip(&ds.sequences[5], &cfg.clip);
        assert_eq!(rec.clip.positions, clip.positions);
        // Mapping the target back gives the clip in metres.
        let back = denormalize_nat(&rec.clip, &rec.target, crate::pretrain::NAT_EPS);
        for (a, b) in back.positions.iter().zip(&rec.clip.positions) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
        // Error per joint, written out.
        for v in [0, 7, 20] {
            let mut e = 0.0f64;
            for t in 0..t_len {
                for c in 0..3 {
                    let i = (t * v_len + v) * 3 + c;
                    e += f64::from(rec.prediction[i] - rec.target[i]).powi(2);
                }
            }
            let e = (e / (t_len * 3) as f64) as f32;
            assert!((rec.joint_error[v] - e).abs() <= 1e-6 * e.max(1.0), "{} vs {e}", rec.joint_error[v]);
        }
        // The mask hides the configured share of tokens; the same seed gives the same mask.
        let tokens = cfg.model.tokens();
        let hidden = rec.masked.iter().filter(|&&m| m).count();
        assert_eq!(hidden, tokens - visible_count(tokens, cfg.batch.mask_ratio));
        let again = pollster::block_on(r.reconstruct(&ds, 5, 0, None, 11)).unwrap();
        assert_eq!(again.masked, rec.masked);
        let other = pollster::block_on(r.reconstruct(&ds, 5, 0, Some(Masking::Random), 11)).unwrap();
        assert_ne!(other.masked, rec.masked);
        assert!(rec.predicted_clip.is_some());

        // A checkpoint whose config claims a model its tensors cannot fill, or one that does not
        // validate, is refused before a model is built from it.
        let mut hostile = ckpt.clone();
        hostile.config.model = hostile.config.model.with_dim(1 << 24).with_heads(1);
        let e = Reconstructor::new(&hostile, &device).err().unwrap().to_string();
        assert!(e.contains("values the checkpoint holds"), "{e}");
        hostile.config.model = cfg.model.clone().with_heads(0);
        assert!(Reconstructor::new(&hostile, &device).err().unwrap().to_string().contains("model.heads"));
    }

    #[test]
    fn frames_from_patches_inverts_the_patch_layout() {
        let (t_len, v_len, span) = (8, 3, 4);
        let values: Vec<f32> = (0..t_len * v_len * 3).map(|i| i as f32).collect();
        let patches = crate::model::patch_layout(&values, t_len, 1, v_len, 3, span).unwrap();
        assert_eq!(frames_from_patches(&patches, t_len, v_len, span), values);
    }
}
