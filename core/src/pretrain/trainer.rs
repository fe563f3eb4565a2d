//! The step-wise pretraining trainer that every front end drives: `step(&dataset) -> StepReport`.
//!
//! AdamW with betas (0.9, 0.95), eps 1e-8 and weight decay 0.05, none on biases and other 1-D
//! parameters (LayerNorm); the learning rate follows [`LrSchedule`] per iteration; gradients can be
//! accumulated over several micro-batches for an effective batch larger than memory allows.

use burn::module::{ModuleVisitor, Param, ParamId};
use burn::optim::{AdamWConfig, GradientsAccumulator, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::TensorData;

use super::{BatchConfig, LrSchedule, PretrainBatch, focal_loss, make_batch, masked_token_loss};
use crate::data::Dataset;
use crate::data::clip::ClipConfig;
use crate::model::{AmrConfig, AmrModel, DecoderKind};
use crate::rng::SeededRng;

/// Everything that defines a pretraining run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PretrainConfig {
    /// The model.
    pub model: AmrConfig,
    /// Clips and augmentation.
    pub clip: ClipConfig,
    /// Masking, targets, focal weights.
    pub batch: BatchConfig,
    /// Learning rate schedule.
    pub schedule: LrSchedule,
    /// Sequences per micro-batch.
    pub batch_size: usize,
    /// Micro-batches per optimiser step (effective batch = batch_size x accumulation).
    pub accumulation: usize,
    /// AdamW weight decay (not applied to 1-D parameters).
    pub weight_decay: f64,
    /// Seed of the whole run: initialisation, order, crops, rotations, masks.
    pub seed: u64,
}

impl Default for PretrainConfig {
    fn default() -> Self {
        Self {
            model: AmrConfig::new(),
            clip: ClipConfig::default(),
            batch: BatchConfig::default(),
            schedule: LrSchedule::default(),
            batch_size: 32,
            accumulation: 1,
            weight_decay: 0.05,
            seed: 0,
        }
    }
}

/// What one optimiser step did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StepReport {
    /// Steps done so far (1 after the first).
    pub step: usize,
    /// Fractional epoch reached.
    pub epoch: f64,
    /// Mean loss over the micro-batches of the step.
    pub loss: f32,
    /// Learning rate used.
    pub lr: f64,
    /// Sequences in the step.
    pub sequences: usize,
}

/// A training failure.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The config or the data does not fit.
    #[error("{0}")]
    Config(String),
    /// The loss became NaN or infinite.
    #[error("non-finite loss {loss} at step {step}; the last good checkpoint is kept")]
    NonFinite {
        /// The step that failed.
        step: usize,
        /// The loss value.
        loss: f32,
    },
}

struct OneDimIds(Vec<ParamId>);

impl ModuleVisitor for OneDimIds {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if D == 1 {
            self.0.push(param.id);
        }
    }
}

/// The trainer: model, optimiser, data order and generator.
pub struct Trainer {
    /// The run's configuration.
    pub config: PretrainConfig,
    model: Option<AmrModel>,
    optim: ModuleOptimizer,
    device: Device,
    rng: SeededRng,
    order: Vec<usize>,
    cursor: usize,
    steps: usize,
    dataset_len: usize,
}

impl Trainer {
    /// A fresh run over a dataset of `dataset_len` sequences on `device` (autodiff is added here).
    pub fn new(config: PretrainConfig, dataset_len: usize, device: &Device) -> Result<Self, TrainError> {
        config.model.validate().map_err(TrainError::Config)?;
        config.schedule.validate().map_err(TrainError::Config)?;
        if config.batch_size == 0 || config.accumulation == 0 {
            return Err(TrainError::Config("batch_size and accumulation must be at least 1".into()));
        }
        if dataset_len == 0 {
            return Err(TrainError::Config("the dataset has no sequences".into()));
        }
        let device = device.clone().autodiff();
        let model = config.model.init_seeded(&device, config.seed);
        let mut one_dim = OneDimIds(Vec::new());
        model.visit(&mut one_dim);
        let adamw = |wd: f64| {
            AdamWConfig::new().with_beta_1(0.9).with_beta_2(0.95).with_epsilon(1e-8).with_weight_decay(wd as f32)
        };
        let optim = adamw(config.weight_decay).init().with_group(
            burn::module::ParamGroup::from_ids(one_dim.0),
            adamw(0.0).build(),
            None,
        );
        let mut rng = SeededRng::new(config.seed);
        let mut order: Vec<usize> = (0..dataset_len).collect();
        rng.shuffle(&mut order);
        Ok(Self { config, model: Some(model), optim, device, rng, order, cursor: 0, steps: 0, dataset_len })
    }

    /// Optimiser steps per epoch (incomplete last batches are dropped, as MAMP does).
    pub fn steps_per_epoch(&self) -> usize {
        (self.dataset_len / (self.config.batch_size * self.config.accumulation)).max(1)
    }

    /// Steps done.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// The model.
    pub fn model(&self) -> Option<&AmrModel> {
        self.model.as_ref()
    }

    fn next_indices(&mut self) -> Vec<usize> {
        let bs = self.config.batch_size;
        if self.cursor + bs > self.order.len() {
            self.rng.shuffle(&mut self.order);
            self.cursor = 0;
        }
        let v = self.order[self.cursor..(self.cursor + bs).min(self.order.len())].to_vec();
        self.cursor += bs;
        v
    }

    fn loss_of(&self, model: &AmrModel, b: PretrainBatch) -> Result<Tensor<1>, TrainError> {
        let d = &self.device;
        let m = &self.config.model;
        let p = b.persons;
        let (nv, l_all) = (b.visible(), m.tokens());
        let x = Tensor::<4>::from_data(TensorData::new(b.x, [p, m.frames, m.joints, 3]), d);
        let keep = Tensor::<2, Int>::from_data(TensorData::new(b.keep, [p, nv]), d);
        let per = b.target.len() / p;
        match m.decoder {
            DecoderKind::Amr => {
                let q = m.queries();
                let pred = model.forward_pretrain(x, keep, None).map_err(|e| TrainError::Config(e.to_string()))?;
                let target = Tensor::<3>::from_data(TensorData::new(b.target, [p, q, per / q]), d);
                let weight = Tensor::<3>::from_data(TensorData::new(b.weight, [p, q, per / q]), d);
                Ok(focal_loss(pred, target, weight))
            }
            DecoderKind::Mamp => {
                let restore = Tensor::<2, Int>::from_data(TensorData::new(b.restore, [p, l_all]), d);
                let pred =
                    model.forward_pretrain(x, keep, Some(restore)).map_err(|e| TrainError::Config(e.to_string()))?;
                let target = Tensor::<3>::from_data(TensorData::new(b.target, [p, l_all, per / l_all]), d);
                let masked = Tensor::<2>::from_data(TensorData::new(b.masked, [p, l_all]), d);
                Ok(masked_token_loss(pred, target, masked))
            }
        }
    }

    /// The loss of the current model on the sequences `indices`, with clips and masks drawn from `seed`
    /// (the same seed gives the same batch at every call), without touching the optimiser.
    pub fn eval_loss(&self, ds: &Dataset, indices: &[usize], seed: u64) -> Result<f32, TrainError> {
        let model = self.model.as_ref().ok_or_else(|| TrainError::Config("no model".into()))?;
        let b = make_batch(
            ds,
            indices,
            &self.config.clip,
            &self.config.batch,
            &self.config.model,
            &mut SeededRng::new(seed),
        )
        .map_err(TrainError::Config)?;
        Ok(self.loss_of(model, b)?.into_scalar::<f32>())
    }

    /// One optimiser step over `accumulation` micro-batches drawn from `ds`.
    pub fn step(&mut self, ds: &Dataset) -> Result<StepReport, TrainError> {
        if ds.len() != self.dataset_len {
            return Err(TrainError::Config(format!(
                "the trainer was built for {} sequences, the dataset has {}",
                self.dataset_len,
                ds.len()
            )));
        }
        let Some(model) = self.model.take() else {
            return Err(TrainError::Config("the model was lost by an earlier failure".into()));
        };
        let mut acc = GradientsAccumulator::<AmrModel>::new();
        let mut total = 0.0f32;
        let mut sequences = 0;
        for _ in 0..self.config.accumulation {
            let idx = self.next_indices();
            sequences += idx.len();
            let mut batch_rng = self.rng.fork();
            let batch = make_batch(ds, &idx, &self.config.clip, &self.config.batch, &self.config.model, &mut batch_rng)
                .map_err(TrainError::Config);
            let loss = match batch.and_then(|b| self.loss_of(&model, b)) {
                Ok(l) => l,
                Err(e) => {
                    self.model = Some(model);
                    return Err(e);
                }
            };
            let value = loss.clone().into_scalar::<f32>();
            if !value.is_finite() {
                self.model = Some(model);
                return Err(TrainError::NonFinite { step: self.steps + 1, loss: value });
            }
            total += value;
            let loss = loss / self.config.accumulation as f32;
            acc.accumulate(&model, GradientsParams::from_grads(loss.backward(), &model));
        }
        let lr = self.config.schedule.at_iteration(self.steps, self.steps_per_epoch());
        let model = self.optim.step(lr, model, acc.grads());
        self.model = Some(model);
        self.steps += 1;
        Ok(StepReport {
            step: self.steps,
            epoch: self.steps as f64 / self.steps_per_epoch() as f64,
            loss: total / self.config.accumulation as f32,
            lr,
            sequences,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::read_amr_skeleton;

    fn demo() -> Dataset {
        let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/bandai2_web.safetensors")).unwrap();
        read_amr_skeleton(&bytes, std::path::Path::new("web")).unwrap()
    }

    fn small() -> PretrainConfig {
        PretrainConfig {
            model: AmrConfig::new()
                .with_joints(21)
                .with_dim(64)
                .with_heads(4)
                .with_mlp(128)
                .with_encoder_depth(2)
                .with_decoder_depth(2),
            schedule: LrSchedule { lr: 1e-3, min_lr: 5e-4, warmup_epochs: 1.0, epochs: 40.0 },
            batch_size: 8,
            ..Default::default()
        }
    }

    #[test]
    fn two_hundred_steps_on_real_clips_lower_the_loss() {
        // The default objective (NAT targets, focal weights, motion-aware 90 % masking), scored on one
        // fixed batch of all 40 clips before and after 200 steps, so batch-to-batch noise cannot pass
        // or fail the test; the seeded initialisation makes the run deterministic. Measured: 0.741 ->
        // 0.658 (11 %). Over seeds 0-2 and lr 1e-3..4e-3 every run ends at 0.657-0.658, the level of an
        // input-independent prior: this size of model needs longer runs to use the visible tokens.
        let ds = demo();
        let mut t = Trainer::new(small(), ds.len(), &crate::backend::cpu_device()).unwrap();
        let all: Vec<usize> = (0..ds.len()).collect();
        let before = t.eval_loss(&ds, &all, 99).unwrap();
        for _ in 0..200 {
            t.step(&ds).unwrap();
        }
        let after = t.eval_loss(&ds, &all, 99).unwrap();
        eprintln!("fixed-batch loss before {before}, after 200 steps {after}");
        assert!(after < 0.95 * before, "loss {before} -> {after}: expected at least a 5 % drop");
        assert_eq!(t.steps(), 200);
    }

    #[test]
    fn mamp_baseline_and_accumulation_run_and_bad_configs_are_named() {
        let ds = demo();
        let mut cfg = small();
        cfg.model = cfg.model.with_decoder(DecoderKind::Mamp);
        cfg.accumulation = 2;
        let mut t = Trainer::new(cfg, ds.len(), &crate::backend::cpu_device()).unwrap();
        let r = t.step(&ds).unwrap();
        assert!(r.loss.is_finite() && r.sequences == 16 && r.lr == 0.0, "{r:?}");
        let r = t.step(&ds).unwrap();
        assert!(r.lr > 0.0 && r.step == 2);
        let mut bad = small();
        bad.model = bad.model.with_r(7);
        assert!(
            matches!(Trainer::new(bad, 10, &crate::backend::cpu_device()), Err(TrainError::Config(m)) if m.contains("model.r"))
        );
        let mut wrong = small();
        wrong.model = wrong.model.with_joints(25);
        let mut t = Trainer::new(wrong, ds.len(), &crate::backend::cpu_device()).unwrap();
        assert!(t.step(&ds).unwrap_err().to_string().contains("model.joints = 25"));
    }
}
