//! The whole classifier's training step (fine-tuning, semi-supervised, transfer, supervised, MaskCLR):
//! drop path and dropout, AdamW with layer-wise decay, MaskCLR's masked pathway.

use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::TensorData;

use super::{EvalRun, labels_of};
use crate::data::Dataset;
use crate::error::{ConfigError, DeviceError};
use crate::eval::EvalError;
use crate::eval::agpm::{agpm_mask, attention_importance};
use crate::eval::classifier::{
    Classifier, PassOptions, drop_path_masks, dropout_mask, layer_decay_scale, mixed_cross_entropy,
};
use crate::eval::config::{ContrastOn, Protocol};
use crate::eval::contrastive::{class_positives, contrastive_loss, pair_positives};
use crate::eval::head::HeadOutput;
use crate::train::{AdamW, LrSchedule};

impl EvalRun {
    pub(super) fn pass_options(&mut self, n: usize, m: usize, drop_path: f64, dropout: f64) -> PassOptions {
        let cfg = &self.config.model;
        let grid = [n, m, cfg.frames / cfg.patch, cfg.joints, cfg.dim];
        PassOptions {
            drop: drop_path_masks(cfg.encoder_depth, drop_path, n * m, &mut self.state.rng, &self.device),
            keep: dropout_mask(grid, dropout, &mut self.state.rng, &self.device),
            mask: None,
            train: true,
            attention: false,
        }
    }

    /// One AdamW step of the whole classifier on the sequences `idx` (step `self.state.steps` of the
    /// run).
    pub(super) fn full_step(
        &mut self,
        ds: &Dataset,
        idx: &[usize],
        model: &mut Classifier,
        adamw: &mut AdamW,
    ) -> Result<(f64, f64), EvalError> {
        let (labels, it, per_epoch) = (&labels_of(ds, idx)[..], self.state.steps, self.steps_per_epoch());
        let mc = self.config.maskclr.clone();
        let ft = self.config.finetune.clone();
        let maskclr = self.config.protocol.maskclr_schedule();
        let (drop_path, dropout, smoothing, part_mix) = if maskclr {
            (mc.drop_path, mc.dropout, mc.label_smoothing, mc.part_mix)
        } else {
            (ft.drop_path, ft.dropout, ft.label_smoothing, ft.part_mix)
        };
        let (values, mixes) = self.mixed_train_x(ds, idx, part_mix);
        let shape = self.shape(idx.len(), ds);
        let x = Tensor::<5>::from_data(TensorData::new(values.clone(), shape), &self.device);
        let x_masked = x.clone();
        let (n, m) = (shape[0], shape[1]);
        let masked_phase = self.config.protocol == Protocol::Maskclr && self.state.epoch >= mc.start_epoch;
        let mut opts = self.pass_options(n, m, drop_path, dropout);
        opts.attention = masked_phase;
        let std = model.forward(x, opts);
        let mut loss = mixed_cross_entropy(std.out.logits.clone(), labels, &mixes, smoothing);
        if masked_phase {
            let pick = |o: &HeadOutput| match mc.contrast_on {
                ContrastOn::Features => o.features.clone(),
                ContrastOn::Logits => o.logits.clone(),
            };
            let attention = std
                .attention
                .clone()
                .ok_or_else(|| ConfigError::from_message("MaskCLR needs at least one encoder block"))?;
            let tokens = self.config.model.tokens();
            let importance: Vec<f32> = attention_importance(attention)
                .into_data()
                .convert::<f32>()
                .try_to_vec::<f32>()
                .map_err(|e| DeviceError(format!("{e:?}")))?;
            let mask = agpm_mask(&importance, tokens, mc.tau, mc.mask_ratio, &mut self.state.rng);
            let mut opts = self.pass_options(n, m, drop_path, dropout);
            opts.mask = Some(Tensor::<3>::from_data(TensorData::new(mask, [n * m, tokens, 1]), &self.device));
            let msk = model.forward(x_masked, opts);
            let (a, b) = (pick(&std.out), pick(&msk.out));
            loss = loss
                + contrastive_loss(a.clone(), b.clone(), pair_positives(n, &self.device), mc.tau_sim)
                    .mul_scalar(mc.alpha)
                + contrastive_loss(a.clone(), b, class_positives(labels, &self.device), mc.tau_prop)
                    .mul_scalar(mc.beta);
            if mc.gamma > 0.0 || mc.delta > 0.0 {
                let noisy: Vec<f32> =
                    values.iter().map(|&c| c + (mc.noise_sigma * self.state.rng.normal()) as f32).collect();
                let opts = self.pass_options(n, m, drop_path, dropout);
                let nz = model.forward(Tensor::<5>::from_data(TensorData::new(noisy, shape), &self.device), opts);
                let c = pick(&nz.out);
                loss = loss
                    + contrastive_loss(a.clone(), c.clone(), pair_positives(n, &self.device), mc.tau_sim)
                        .mul_scalar(mc.gamma)
                    + contrastive_loss(a, c, class_positives(labels, &self.device), mc.tau_prop).mul_scalar(mc.delta);
            }
        }
        let value = f64::from(loss.clone().into_scalar::<f32>());
        let grads = GradientsParams::from_grads(loss.backward(), &*model);
        // The update moves the model through the optimiser (it cannot fail).
        let update = |lr: f64, scale: &dyn Fn(&str) -> f64| {
            replace_with::replace_with_or_abort(model, |m| adamw.step_scaled(lr, m, grads, scale));
        };
        let lr = if maskclr {
            let lr = mc.head_lr * mc.lr_decay.powi(self.state.epoch as i32);
            let ratio = mc.backbone_lr / mc.head_lr;
            update(lr, &|p: &str| if p.starts_with("encoder.") { ratio } else { 1.0 });
            lr
        } else {
            let schedule = LrSchedule {
                lr: ft.lr,
                min_lr: ft.min_lr,
                warmup_epochs: ft.warmup_epochs.min(self.config.epochs as f64),
                epochs: self.config.epochs as f64,
            };
            let lr = schedule.at_iteration(it, per_epoch);
            let depth = self.config.model.encoder_depth;
            update(lr, &|p: &str| layer_decay_scale(p, depth, ft.layer_decay));
            lr
        };
        Ok((value, lr))
    }
}
