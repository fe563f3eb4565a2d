//! The linear probe's training step: features of the frozen encoder, SGD on the head.

use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::TensorData;

use super::{EvalRun, labels_of};
use crate::data::Dataset;
use crate::eval::EvalError;
use crate::eval::classifier::{Probe, cross_entropy};
use crate::features::pooled_features;
use crate::train::{LrSchedule, Sgd};

impl EvalRun {
    /// Features of the sequences `idx` for the probe (cached views of the frozen encoder, or fresh
    /// augmented clips).
    pub(super) fn linear_features(&mut self, ds: &Dataset, probe: &Probe, idx: &[usize]) -> Vec<f32> {
        let k = self.config.linear.cached_views;
        let plain = self.device.clone().inner();
        let enc = self.frozen_encoder(probe);
        if k == 0 {
            let x = self.train_x(ds, idx);
            return pooled_features(&enc, &x, self.shape(idx.len(), ds), &plain, 64);
        }
        if self.views.is_empty() {
            // View v holds the features of every labelled sequence, in `labelled` order.
            let all = self.state.labelled.clone();
            for _ in 0..k {
                let x = self.train_x(ds, &all);
                self.views.push(pooled_features(&enc, &x, self.shape(all.len(), ds), &plain, 64));
            }
        }
        let view = &self.views[self.state.epoch % k];
        let d = self.config.model.dim;
        idx.iter()
            .flat_map(|i| {
                let row = self.state.labelled.binary_search(i).unwrap_or(0);
                view[row * d..(row + 1) * d].to_vec()
            })
            .collect()
    }

    /// One SGD step of the linear probe on the sequences `idx` (step `self.state.steps` of the run).
    pub(super) fn linear_step(
        &mut self,
        ds: &Dataset,
        idx: &[usize],
        probe: &mut Probe,
        sgd: &mut Sgd,
    ) -> Result<(f64, f64), EvalError> {
        let (labels, it, per_epoch) = (&labels_of(ds, idx)[..], self.state.steps, self.steps_per_epoch());
        let feats = self.linear_features(ds, probe, idx);
        let d = self.config.model.dim;
        let x = Tensor::<2>::from_data(TensorData::new(feats, [idx.len(), d]), &self.device);
        let loss = cross_entropy(probe.head.forward(x, true), labels, 0.0);
        let value = f64::from(loss.clone().into_scalar::<f32>());
        let schedule = LrSchedule {
            lr: self.config.linear.lr,
            min_lr: 0.0,
            warmup_epochs: 0.0,
            epochs: self.config.epochs as f64,
        };
        let lr = schedule.at_iteration(it, per_epoch);
        let grads = GradientsParams::from_grads(loss.backward(), &*probe);
        // The update moves the probe through the optimiser (it cannot fail).
        replace_with::replace_with_or_abort(probe, |p| sgd.step(lr, p, grads));
        Ok((value, lr))
    }
}
