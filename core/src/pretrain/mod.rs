//! Pretraining objectives: reconstruction targets in the decoder's patch layout and the losses.

mod batch;
mod config_file;
#[cfg(not(target_arch = "wasm32"))]
mod gpu_weights;
mod loss;
#[cfg(test)]
mod overfit_tests;
mod reconstruction;
mod state;
mod targets;
mod trainer;
mod trivial;

pub use batch::{
    BatchConfig, LossRegion, Masking, NAT_EPS, PretrainBatch, TargetKind, make_batch, zero_unmasked_patches,
};
pub use config_file::{RunSettings, parse_pretrain_config, pretrain_config_toml};
#[cfg(not(target_arch = "wasm32"))]
pub use gpu_weights::gpu_focal_weights;
pub use loss::{focal_loss, masked_token_loss};
pub use reconstruction::{PendingReconstruction, Reconstruction, Reconstructor, denormalize_nat, frames_from_patches};
pub use state::TrainerState;
pub use targets::{motion_targets, nat_targets};
#[cfg(not(target_arch = "wasm32"))]
pub use trainer::{PROFILE_STAGES, StepProfile};
pub use trainer::{PretrainConfig, StepReport, TrainError, Trainer};
pub use trivial::trivial_loss;

/// A pretraining run's checkpoint: [`crate::train::Checkpoint`] with the pretraining config and trainer
/// state (evaluation runs use the same file with their own, [`crate::eval::EvalCheckpoint`]).
pub type Checkpoint<C = PretrainConfig, S = TrainerState> = crate::train::Checkpoint<C, S>;
