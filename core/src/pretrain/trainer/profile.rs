//! Where a pretraining step's time goes: the step of [`Trainer::step`] with the device synchronised
//! after every stage and each stage's wall-clock recorded (what `amr --no-gui bench --profile` prints).
//! Synchronising stops a GPU backend from overlapping or fusing work across stages, so a profiled step
//! is slower than a plain one; the shares are what it is for. Native only: it blocks on the device.

use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::prelude::*;

use super::{DeviceBatch, TrainError, Trainer};
use crate::data::Dataset;
use crate::model::AmrModel;

/// The stages of a step, in the order they run.
pub const STAGES: [&str; 10] = [
    "host batch making",
    "upload",
    "patch embedding",
    "encoder attention",
    "encoder MLP",
    "encoder norm",
    "decoder",
    "loss",
    "backward",
    "optimiser",
];

/// Seconds per stage of one profiled step, in [`STAGES`] order (a stage that runs several times,
/// such as the attention of each encoder block, is summed).
#[derive(Debug, Clone, PartialEq)]
pub struct StepProfile {
    /// `(stage, seconds)` for every stage of [`STAGES`].
    pub stages: Vec<(&'static str, f64)>,
    /// The step's loss.
    pub loss: f32,
}

impl StepProfile {
    /// The sum over the stages.
    pub fn total(&self) -> f64 {
        self.stages.iter().map(|(_, s)| s).sum()
    }
}

/// Wall-clock since the last mark, added to a stage after the device has finished its work.
struct Clock<'a> {
    device: &'a Device,
    last: web_time::Instant,
    seconds: [f64; STAGES.len()],
    error: Option<String>,
}

impl Clock<'_> {
    fn mark(&mut self, stage: &str) {
        if let Err(e) = self.device.sync() {
            self.error.get_or_insert_with(|| format!("{e:?}"));
        }
        let now = web_time::Instant::now();
        if let Some(i) = STAGES.iter().position(|s| *s == stage) {
            self.seconds[i] += (now - self.last).as_secs_f64();
        }
        self.last = now;
    }
}

impl Trainer {
    /// One optimiser step, the same update as [`Self::step`] (it advances the run), timed stage by
    /// stage.
    pub fn profile_step(&mut self, ds: &Dataset) -> Result<StepProfile, TrainError> {
        let device = self.device.clone();
        let mut clock =
            Clock { device: &device, last: web_time::Instant::now(), seconds: [0.0; STAGES.len()], error: None };
        clock.mark("");
        let mut acc = GradientsAccumulator::<AmrModel>::new();
        let mut total = 0.0f32;
        for _ in 0..self.config.accumulation {
            let (b, _) = self.next_batch(ds)?;
            clock.mark("host batch making");
            let batch = DeviceBatch::upload(b, &self.config, &device);
            clock.mark("upload");
            let pred =
                batch.forward_probed(&self.model, &mut |stage, _| clock.mark(stage)).map_err(TrainError::Config)?;
            let loss = batch.objective(pred);
            let value = loss.clone().into_scalar::<f32>();
            clock.mark("loss");
            if !value.is_finite() {
                return Err(TrainError::NonFinite { step: self.steps + 1, loss: value });
            }
            total += value;
            let loss = loss / self.config.accumulation as f32;
            let grads = GradientsParams::from_grads(loss.backward(), &self.model);
            clock.mark("backward");
            acc.accumulate(&self.model, grads);
        }
        let lr = self.config.schedule.at_iteration(self.steps, self.steps_per_epoch());
        let (optim, grads) = (&mut self.optim, acc.grads());
        replace_with::replace_with_or_abort(&mut self.model, |model| optim.step(lr, model, grads));
        clock.mark("optimiser");
        if let Some(e) = clock.error {
            return Err(crate::DeviceError(format!("synchronising the device: {e}")).into());
        }
        self.steps += 1;
        Ok(StepProfile {
            stages: STAGES.iter().copied().zip(clock.seconds).collect(),
            loss: total / self.config.accumulation as f32,
        })
    }
}
