//! The evaluation trainer every protocol runs through: `epoch(&dataset) -> EpochReport`, with the
//! whole run (model, optimiser, generator, labelled subset, history) in one checkpoint so an
//! interrupted run resumes where it stopped.

use burn::prelude::*;
use burn::tensor::TensorData;

use super::EvalError;
use super::classifier::{Classifier, PassOptions, Probe, load_encoder, seeded_encoder};
use super::config::{EvalConfig, Protocol};
use super::head::{LinearHead, NormStatistics};
use super::results::{Accuracy, EpochReport, EvalResults};
use super::test_windows::{mean_over_windows, window_clips};
use super::{KnnResult, knn_classify};
use crate::data::Dataset;
use crate::data::clip::train_clip;
use crate::data::{PartMix, PartMixer, SplitIndices};
use crate::error::{ConfigError, DeviceError};
use crate::features::{centre_clips, map_chunks, pack_clips, pooled_features};
use crate::model::{Encoder, NamedParams, load_params, named_params};
use crate::rng::SeededRng;
use crate::train::{AdamW, Checkpoint, Sgd, WeightAverage};

mod full_step;
mod linear_step;

/// Where an evaluation run stands between two epochs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EvalState {
    /// Epochs done.
    pub epoch: usize,
    /// Optimiser steps done.
    pub steps: usize,
    /// The run's generator.
    pub rng: SeededRng,
    /// The training sequences used (dataset indices; a per-class subset for semi-supervised runs).
    pub labelled: Vec<usize>,
    /// The test sequences.
    pub test: Vec<usize>,
    /// Per epoch so far.
    pub history: Vec<EpochReport>,
    /// The dataset's class names (empty in checkpoints written before they were recorded).
    #[serde(default)]
    pub label_names: Vec<String>,
    /// The dataset's joint names, which a file must match to be classified (empty in checkpoints
    /// written before they were recorded).
    #[serde(default)]
    pub joint_names: Vec<String>,
    /// Epochs whose weights the saved model averages so far (`average_epochs`; 0: none, the saved
    /// model is the current weights, with recomputed statistics where `recompute_norm` asks for
    /// them); written by [`EvalTrainer::checkpoint`], read when a run resumes.
    #[serde(default)]
    pub averaged: usize,
}

/// An evaluation checkpoint's keys of the current weights while `model` is not them (a weight
/// average, recomputed BatchNorm statistics).
const CURRENT_WEIGHTS: &str = "w.";

/// An evaluation checkpoint.
pub type EvalCheckpoint = Checkpoint<EvalConfig, EvalState>;

enum Learner {
    Linear { probe: Box<Probe>, sgd: Sgd },
    Full { model: Box<Classifier>, adamw: AdamW },
}

/// The trainer of the linear probe, fine-tuning (all variants) and MaskCLR.
pub struct EvalTrainer {
    learner: Learner,
    run: EvalRun,
    /// The weights of the last epochs (`average_epochs`), averaged; empty before the window.
    average: WeightAverage,
    /// The parameters of the model the run tests and saves where they are not the current weights
    /// (a weight average, recomputed BatchNorm statistics); none where they are.
    tested: Option<NamedParams>,
}

/// Everything of an evaluation run but the model and its optimiser: the step functions borrow it
/// while they update the learner.
struct EvalRun {
    config: EvalConfig,
    device: Device,
    state: EvalState,
    classes: usize,
    /// Test clips (each sequence's test windows together) and their shape [N * windows, M, T, V, 3],
    /// and labels, computed once.
    test_x: Vec<f32>,
    test_shape: [usize; 5],
    test_y: Vec<usize>,
    /// Linear probe: the frozen encoder without autodiff, its test features and the cached training
    /// views, each made once.
    frozen: Option<Encoder>,
    test_features: Option<Vec<f32>>,
    views: Vec<Vec<f32>>,
}

/// The class of each sequence of `idx` (an unlabelled one counts as class 0; splits leave those out).
pub(super) fn labels_of(ds: &Dataset, idx: &[usize]) -> Vec<usize> {
    idx.iter().map(|&i| ds.sequences[i].label.max(0) as usize).collect()
}

/// A per-class share of the training sequences drawn once from `seed`: at least one per class.
pub fn label_subset(ds: &Dataset, train: &[usize], fraction: f64, seed: u64) -> Vec<usize> {
    if fraction >= 1.0 {
        return train.to_vec();
    }
    let mut by_class: std::collections::BTreeMap<i64, Vec<usize>> = std::collections::BTreeMap::new();
    for &i in train {
        by_class.entry(ds.sequences[i].label).or_default().push(i);
    }
    let mut rng = SeededRng::new(seed ^ 0x5e31_5e31);
    let mut out = Vec::new();
    for idx in by_class.values_mut() {
        rng.shuffle(idx);
        let k = ((idx.len() as f64 * fraction).round() as usize).max(1);
        out.extend_from_slice(&idx[..k.min(idx.len())]);
    }
    out.sort_unstable();
    out
}

impl EvalTrainer {
    /// A fresh run on `ds` split as `split`, from the encoder parameters `init` (`encoder.*` keys; none
    /// for a random encoder), on `device` (autodiff is added here).
    pub fn new(
        config: EvalConfig,
        ds: &Dataset,
        split: &SplitIndices,
        init: Option<&NamedParams>,
        device: &Device,
    ) -> Result<Self, EvalError> {
        let labelled = if config.protocol == Protocol::Semi {
            label_subset(ds, &split.train, config.finetune.label_fraction, config.seed)
        } else {
            split.train.clone()
        };
        Self::build(config, ds, labelled, split.test.clone(), init, device)
    }

    /// A fresh run training on `labelled` and testing on `test`.
    fn build(
        config: EvalConfig,
        ds: &Dataset,
        labelled: Vec<usize>,
        test: Vec<usize>,
        init: Option<&NamedParams>,
        device: &Device,
    ) -> Result<Self, EvalError> {
        config.validate()?;
        if let Some(&i) = labelled.iter().chain(&test).find(|&&i| i >= ds.len()) {
            return Err(EvalError::Data(format!("sequence {i} is not in the dataset, which has {}", ds.len())));
        }
        if ds.layout.joint_count() != config.model.joints {
            return Err(ConfigError::from_message(format!(
                "model.joints = {}: the dataset has {} joints (the encoder must match the data's joint layout)",
                config.model.joints,
                ds.layout.joint_count()
            ))
            .into());
        }
        let classes = ds.label_names.len().max(1);
        let device = device.clone().autodiff();
        let learner = Self::fresh_learner(&config, classes, &device, init)?;
        let state = EvalState {
            epoch: 0,
            steps: 0,
            rng: SeededRng::new(config.seed.wrapping_add(1)),
            labelled,
            test,
            history: Vec::new(),
            label_names: ds.label_names.clone(),
            joint_names: ds.layout.joint_names.clone(),
            averaged: 0,
        };
        let mut t = Self {
            learner,
            run: EvalRun {
                config,
                device,
                state,
                classes,
                test_x: Vec::new(),
                test_shape: [0; 5],
                test_y: Vec::new(),
                frozen: None,
                test_features: None,
                views: Vec::new(),
            },
            average: WeightAverage::default(),
            tested: None,
        };
        t.run.prepare_test(ds);
        Ok(t)
    }

    fn fresh_learner(
        config: &EvalConfig,
        classes: usize,
        device: &Device,
        init: Option<&NamedParams>,
    ) -> Result<Learner, EvalError> {
        let m = &config.model;
        Ok(if config.protocol.trains_encoder() {
            let hidden =
                if config.protocol.maskclr_schedule() { config.maskclr.hidden } else { config.finetune.hidden };
            let mut model = Classifier::new(m, hidden, classes, config.seed, device);
            if let Some(p) = init {
                model = Classifier { encoder: load_encoder(model.encoder, p)?, ..model };
            }
            let adamw = if config.protocol.maskclr_schedule() {
                AdamW::new(0.9, 0.999, 1e-8, config.maskclr.weight_decay)
            } else {
                AdamW::new(0.9, 0.999, 1e-8, config.finetune.weight_decay)
            };
            Learner::Full { model: Box::new(model), adamw }
        } else {
            let mut encoder = seeded_encoder(m, config.seed, device);
            if let Some(p) = init {
                encoder = load_encoder(encoder, p)?;
            }
            let probe = Probe { encoder, head: LinearHead::new(m.dim, classes, config.seed, device) };
            Learner::Linear {
                probe: Box::new(probe),
                sgd: Sgd::new(config.linear.momentum, config.linear.weight_decay),
            }
        })
    }

    /// Continues the run saved in `ckpt` on the same data.
    pub fn resume(ckpt: &EvalCheckpoint, ds: &Dataset, device: &Device) -> Result<Self, EvalError> {
        let state = ckpt
            .state
            .clone()
            .ok_or_else(|| EvalError::Checkpoint("the checkpoint holds no evaluation state".into()))?;
        ckpt.config.model.check_fits(&ckpt.model, false)?;
        // The training subset is already drawn: the stored indices are used as they are.
        let mut t = Self::build(ckpt.config.clone(), ds, state.labelled.clone(), state.test.clone(), None, device)?;
        t.learner = match t.learner {
            Learner::Linear { probe, mut sgd } => {
                let probe = load_params(*probe, &ckpt.model).map_err(|(_, e)| e)?;
                sgd.load_state(&ckpt.optimizer, &t.run.device);
                Learner::Linear { probe: Box::new(probe), sgd }
            }
            Learner::Full { model, mut adamw } => {
                // Where the saved model is not the current weights (a weight average, recomputed
                // statistics), the current weights are kept beside the optimiser moments.
                let current: NamedParams = ckpt
                    .optimizer
                    .iter()
                    .filter_map(|(k, t)| Some((k.strip_prefix(CURRENT_WEIGHTS)?.to_string(), t.clone())))
                    .collect();
                if state.averaged > 0 {
                    if current.is_empty() {
                        return Err(EvalError::Checkpoint(format!(
                            "the saved model averages {} epochs but the checkpoint holds no current weights \
                             (`{CURRENT_WEIGHTS}` keys)",
                            state.averaged
                        )));
                    }
                    // With `recompute_norm` the average's BatchNorm statistics are the recomputed ones;
                    // they are recomputed again before they are used, so the average carries on alike.
                    t.average = WeightAverage::from_parts(ckpt.model.clone(), state.averaged);
                }
                let model = if current.is_empty() {
                    load_params(*model, &ckpt.model).map_err(|(_, e)| e)?
                } else {
                    t.tested = Some(ckpt.model.clone());
                    load_params(*model, &current).map_err(|(_, e)| e)?
                };
                adamw
                    .load_state(&ckpt.optimizer, state.steps as u64, &t.run.device)
                    .map_err(|e| EvalError::Checkpoint(e.to_string()))?;
                Learner::Full { model: Box::new(model), adamw }
            }
        };
        // Checkpoints written before the names were recorded take them from the data they resume on.
        let fresh = std::mem::replace(&mut t.run.state, state);
        if t.run.state.label_names.is_empty() {
            t.run.state.label_names = fresh.label_names;
        }
        if t.run.state.joint_names.is_empty() {
            t.run.state.joint_names = fresh.joint_names;
        }
        Ok(t)
    }

    /// Everything needed to continue the run (and, for the full model, to evaluate it later). Its
    /// `model` is the model the run tests (the weight average once it has begun, with recomputed
    /// BatchNorm statistics where `recompute_norm` asks for them); where that is not the current
    /// weights, they travel with the optimiser state under `w.` keys.
    pub fn checkpoint(&self) -> Result<EvalCheckpoint, EvalError> {
        let (model, optimizer) = match &self.learner {
            Learner::Linear { probe, sgd } => (named_params(probe.as_ref()), sgd.state()),
            Learner::Full { model, adamw } => {
                let current = named_params(model.as_ref());
                match &self.tested {
                    Some(tested) => {
                        let mut optimizer = adamw.state();
                        for (k, t) in current {
                            optimizer.insert(format!("{CURRENT_WEIGHTS}{k}"), t);
                        }
                        (tested.clone(), optimizer)
                    }
                    None => (current, adamw.state()),
                }
            }
        };
        let state = EvalState { averaged: self.average.count(), ..self.run.state.clone() };
        Ok(Checkpoint { config: self.run.config.clone(), model, optimizer, state: Some(state) })
    }

    /// The run's config.
    pub fn config(&self) -> &EvalConfig {
        &self.run.config
    }

    /// Epochs done.
    pub fn epoch(&self) -> usize {
        self.run.state.epoch
    }

    /// The training sequences used (dataset indices).
    pub fn labelled(&self) -> &[usize] {
        &self.run.state.labelled
    }

    /// The per-epoch history.
    pub fn history(&self) -> &[EpochReport] {
        &self.run.state.history
    }

    /// The trained classifier with its current weights (none for the linear probe).
    pub fn classifier(&self) -> Option<&Classifier> {
        match &self.learner {
            Learner::Full { model, .. } => Some(model.as_ref()),
            Learner::Linear { .. } => None,
        }
    }

    /// Test sequences.
    pub fn test_sequences(&self) -> usize {
        self.run.state.test.len()
    }

    /// One training epoch followed by the test evaluation.
    pub fn epoch_step(&mut self, ds: &Dataset) -> Result<EpochReport, EvalError> {
        let started = web_time::Instant::now();
        let mut order = self.run.state.labelled.clone();
        self.run.state.rng.shuffle(&mut order);
        let bs = self.run.config.batch_size.min(order.len());
        let per_epoch = self.run.steps_per_epoch();
        let (loss, lr) = self.run.train_batches(ds, &order[..per_epoch * bs], bs, &mut self.learner)?;
        self.run.state.epoch += 1;
        let window = self.run.config.average_epochs();
        if let Learner::Full { model, .. } = &self.learner
            && window > 0
            && self.run.state.epoch + window > self.run.config.epochs
        {
            self.average.add(&named_params(model.as_ref())).map_err(EvalError::Checkpoint)?;
        }
        self.tested = self.tested_params(ds)?;
        let (test, current, current_norm) = self.evaluate(ds)?;
        let report = EpochReport {
            epoch: self.run.state.epoch,
            loss,
            lr,
            seconds: started.elapsed().as_secs_f64(),
            test,
            current,
            current_norm,
        };
        self.run.state.history.push(report.clone());
        Ok(report)
    }

    /// The test accuracies an epoch reports: the model the run tests, and where that is not the
    /// current weights, the current weights as they are and with recomputed BatchNorm statistics.
    fn evaluate(&mut self, ds: &Dataset) -> Result<(Accuracy, Option<Accuracy>, Option<Accuracy>), EvalError> {
        let test = self.test_accuracy()?;
        let current = if self.tested.is_some() { Some(self.accuracy(false)?) } else { None };
        Ok((test, current, self.current_norm_accuracy(ds)?))
    }

    /// The last epoch's report with its test accuracies measured again on `ds`: a resumed run tested
    /// with another test-time setting (e.g. `[clip] test_windows`) gives the figures of that setting
    /// for the same weights. A run without epochs reports epoch 0.
    pub fn retest(&mut self, ds: &Dataset) -> Result<EpochReport, EvalError> {
        let (test, current, current_norm) = self.evaluate(ds)?;
        let last = self.run.state.history.last().cloned().unwrap_or_default();
        Ok(EpochReport { test, current, current_norm, ..last })
    }

    /// The parameters of the model the run tests where they are not the current weights: the weight
    /// average once it has begun, with the head's BatchNorm statistics recomputed over the centre
    /// clips of the training sequences where `recompute_norm` asks for it.
    fn tested_params(&self, ds: &Dataset) -> Result<Option<NamedParams>, EvalError> {
        let Learner::Full { model, .. } = &self.learner else { return Ok(None) };
        let average = (self.average.count() > 0).then(|| self.average.mean());
        if !self.run.config.recompute_norm() {
            return Ok(average.cloned());
        }
        self.run.with_recomputed_norm(ds, model, average).map(Some)
    }

    /// Test accuracy of the current weights with recomputed BatchNorm statistics, while the model
    /// the run tests is a weight average with them (`recompute_norm` and `average_epochs`): the
    /// comparison that tells what the averaging adds on its own.
    fn current_norm_accuracy(&self, ds: &Dataset) -> Result<Option<Accuracy>, EvalError> {
        let Learner::Full { model, .. } = &self.learner else { return Ok(None) };
        if !self.run.config.recompute_norm() || self.average.count() == 0 {
            return Ok(None);
        }
        let params = self.run.with_recomputed_norm(ds, model, None)?;
        let scores = self.run.full_scores(model, Some(&params), None)?;
        Ok(Some(self.run.accuracy_of(&scores)))
    }

    /// Test accuracy of the model the run tests (the weight average once it has begun, with recomputed
    /// BatchNorm statistics where asked; test-time centre crop, BatchNorm running statistics).
    pub fn test_accuracy(&mut self) -> Result<Accuracy, EvalError> {
        self.accuracy(true)
    }

    /// Test accuracy; `tested`: as [`Self::scores`].
    fn accuracy(&mut self, tested: bool) -> Result<Accuracy, EvalError> {
        let scores = self.scores(None, tested)?;
        Ok(self.run.accuracy_of(&scores))
    }

    /// Class scores [N, C] of the test clips from the model the run tests (as [`Self::test_accuracy`]),
    /// optionally perturbed by `perturb` first.
    pub fn test_scores(&mut self, perturbed: Option<&[f32]>) -> Result<Vec<f32>, EvalError> {
        self.scores(perturbed, true)
    }

    /// Class scores [N, C] of the test clips; `tested`: from the model the run tests, else from the
    /// current weights.
    fn scores(&mut self, perturbed: Option<&[f32]>, tested: bool) -> Result<Vec<f32>, EvalError> {
        match &self.learner {
            Learner::Linear { probe, .. } => {
                let shape = self.run.test_shape;
                let plain = self.run.device.clone().inner();
                let feats = match (&self.run.test_features, perturbed) {
                    (Some(f), None) => f.clone(),
                    _ => {
                        let enc = self.run.frozen_encoder(probe);
                        let f = pooled_features(&enc, perturbed.unwrap_or(&self.run.test_x), shape, &plain, 64);
                        if perturbed.is_none() {
                            self.run.test_features = Some(f.clone());
                        }
                        f
                    }
                };
                let f = Tensor::<2>::from_data(TensorData::new(feats, [shape[0], self.run.config.model.dim]), &plain);
                let scores = probe
                    .head
                    .valid()
                    .forward(f, false)
                    .into_data()
                    .convert::<f32>()
                    .try_to_vec::<f32>()
                    .map_err(|e| EvalError::Device(DeviceError(format!("{e:?}"))))?;
                Ok(mean_over_windows(scores, self.run.config.clip.test_view_count(), self.run.classes))
            }
            Learner::Full { model, .. } => {
                self.run.full_scores(model, if tested { self.tested.as_ref() } else { None }, perturbed)
            }
        }
    }

    /// Test accuracy with the test clips perturbed by `p` (drawing from `rng`).
    pub fn perturbed_accuracy(&mut self, p: &super::Perturbation, rng: &mut SeededRng) -> Result<Accuracy, EvalError> {
        let mut x = self.run.test_x.clone();
        p.apply_per_sequence(&mut x, self.run.test_shape, self.run.config.clip.test_view_count(), rng);
        let scores = self.test_scores(Some(&x))?;
        Ok(self.run.accuracy_of(&scores))
    }

    /// The results so far.
    pub fn results(&self, data: &str, init: &str) -> EvalResults {
        let h = &self.run.state.history;
        let last = h.last().map(|r| r.test).unwrap_or_default();
        let best = h.iter().max_by(|a, b| a.test.top1.total_cmp(&b.test.top1).then(b.epoch.cmp(&a.epoch)));
        EvalResults {
            protocol: self.run.config.protocol.name().into(),
            data: data.into(),
            init: init.into(),
            train_sequences: self.run.state.labelled.len(),
            test_sequences: self.run.state.test.len(),
            classes: self.run.classes,
            epochs: self.run.state.epoch,
            last,
            best_epoch: best.map_or(0, |r| r.epoch),
            best: best.map(|r| r.test).unwrap_or_default(),
            history: h.clone(),
        }
    }
}

impl EvalRun {
    /// Top-1 and top-5 accuracy of class scores [N, C] of the test clips.
    fn accuracy_of(&self, scores: &[f32]) -> Accuracy {
        Accuracy::of_scores(scores, self.classes, &self.test_y)
    }

    /// `model`'s parameters, or `weights` where given, with the head's BatchNorm statistics
    /// recomputed over the centre clips of the training sequences without dropout.
    fn with_recomputed_norm(
        &self,
        ds: &Dataset,
        model: &Classifier,
        weights: Option<&NamedParams>,
    ) -> Result<NamedParams, EvalError> {
        let mut tested = model.valid();
        if let Some(weights) = weights {
            tested = load_params(tested, weights).map_err(|(_, e)| e)?;
        }
        // One pass over the training sequences' centre clips, a block at a time.
        let plain = self.device.clone().inner();
        let labelled = &self.state.labelled;
        let mut stats = NormStatistics::new(tested.head.fc1.weight.dims()[1]);
        for idx in labelled.chunks(256) {
            let (x, shape) = centre_clips(ds, idx, &self.config.clip);
            stats.add(&map_chunks(&x, shape, &plain, 32, |xs| tested.hidden(xs)));
        }
        if stats.rows() != labelled.len() {
            return Err(DeviceError("the head's hidden units could not be read back".into()).into());
        }
        Ok(named_params(&tested.with_norm_statistics(&stats, &plain)))
    }

    /// Class scores [N, C] of the test clips (or of `perturbed` ones) from `model`, or from `params`
    /// loaded into it where given.
    fn full_scores(
        &self,
        model: &Classifier,
        params: Option<&NamedParams>,
        perturbed: Option<&[f32]>,
    ) -> Result<Vec<f32>, EvalError> {
        let mut model = model.valid();
        if let Some(params) = params {
            model = load_params(model, params).map_err(|(_, e)| e)?;
        }
        let plain = self.device.clone().inner();
        let scores = classifier_scores(&model, perturbed.unwrap_or(&self.test_x), self.test_shape, &plain, 32)?;
        Ok(mean_over_windows(scores, self.config.clip.test_view_count(), self.classes))
    }

    fn shape(&self, n: usize, ds: &Dataset) -> [usize; 5] {
        [n, ds.persons, self.config.clip.frames, ds.layout.joint_count(), 3]
    }

    fn prepare_test(&mut self, ds: &Dataset) {
        (self.test_x, self.test_shape) = window_clips(ds, &self.state.test, &self.config.clip);
        self.test_y = labels_of(ds, &self.state.test);
    }

    /// The linear probe's encoder without autodiff (it never changes), made once.
    fn frozen_encoder(&mut self, probe: &Probe) -> Encoder {
        self.frozen.get_or_insert_with(|| probe.encoder.valid()).clone()
    }

    fn steps_per_epoch(&self) -> usize {
        let n = self.state.labelled.len();
        let bs = self.config.batch_size;
        // Incomplete last batches are dropped, unless the set is smaller than one batch.
        (n / bs).max(1)
    }

    /// Training clips of `idx` drawn from the run's generator.
    fn train_x(&mut self, ds: &Dataset, idx: &[usize]) -> Vec<f32> {
        self.mixed_train_x(ds, idx, 0.0).0
    }

    /// Training clips of the sequences `idx`, a share `part_mix` of them mixed by body part (no
    /// mixing and no random draw for it at 0), with what each mix did (empty at 0).
    fn mixed_train_x(&mut self, ds: &Dataset, idx: &[usize], part_mix: f64) -> (Vec<f32>, Vec<Option<PartMix>>) {
        let mut clips: Vec<_> =
            idx.iter().map(|&i| train_clip(&ds.sequences[i], &self.config.clip, &mut self.state.rng)).collect();
        let mixes = if part_mix > 0.0 {
            PartMixer::new(&ds.layout).mix(&mut clips, part_mix, &mut self.state.rng)
        } else {
            Vec::new()
        };
        let [_, m, t, v, _] = self.shape(0, ds);
        (pack_clips(&clips, m, t, v), mixes)
    }

    fn train_batches(
        &mut self,
        ds: &Dataset,
        order: &[usize],
        bs: usize,
        learner: &mut Learner,
    ) -> Result<(f64, f64), EvalError> {
        let per_epoch = self.steps_per_epoch();
        let (mut total, mut lr) = (0.0f64, 0.0f64);
        for idx in order.chunks(bs) {
            let it = self.state.steps;
            let (loss, used_lr) = match learner {
                Learner::Linear { probe, sgd } => self.linear_step(ds, idx, probe, sgd)?,
                Learner::Full { model, adamw } => self.full_step(ds, idx, model, adamw)?,
            };
            if !loss.is_finite() {
                return Err(EvalError::NonFinite { loss, epoch: self.state.epoch + 1, step: it + 1 });
            }
            total += loss;
            lr = used_lr;
            self.state.steps += 1;
        }
        Ok((total / per_epoch as f64, lr))
    }
}

/// Class scores of clips [N, M, T, V, 3] from a classifier in evaluation mode, `chunk` at a time.
pub fn classifier_scores(
    model: &Classifier,
    x: &[f32],
    shape: [usize; 5],
    device: &Device,
    chunk: usize,
) -> Result<Vec<f32>, EvalError> {
    let scores = map_chunks(x, shape, device, chunk, |xs| model.forward(xs, PassOptions::default()).out.logits);
    if scores.len() != shape[0] * model.head.fc2.weight.dims()[1] {
        return Err(DeviceError("the classifier's scores could not be read back".into()).into());
    }
    Ok(scores)
}

/// kNN on frozen features of the centre-cropped clips: training sequences vote for test ones.
pub fn knn_eval(
    config: &EvalConfig,
    ds: &Dataset,
    split: &SplitIndices,
    init: Option<&NamedParams>,
    device: &Device,
) -> Result<KnnResult, EvalError> {
    config.validate()?;
    let mut encoder = seeded_encoder(&config.model, config.seed, device);
    if let Some(p) = init {
        encoder = load_encoder(encoder, p)?;
    }
    let feats = |idx: &[usize]| {
        let (x, shape) = centre_clips(ds, idx, &config.clip);
        pooled_features(&encoder, &x, shape, device, 64)
    };
    let (train, test) = (feats(&split.train), feats(&split.test));
    let classes = ds.label_names.len().max(1);
    knn_classify(
        &train,
        &labels_of(ds, &split.train),
        &test,
        &labels_of(ds, &split.test),
        config.model.dim,
        classes,
        &config.knn,
    )
}
