//! Pretraining objectives: reconstruction targets in the decoder's patch layout and the losses.

mod adamw;
mod batch;
mod checkpoint;
mod config_file;
#[cfg(not(target_arch = "wasm32"))]
mod gpu_weights;
mod loss;
#[cfg(test)]
mod overfit_tests;
mod reconstruction;
mod schedule;
mod targets;
mod trainer;
mod trivial;

pub use adamw::AdamW;
pub(crate) use adamw::FlatUpdate;
pub use batch::{BatchConfig, LossRegion, Masking, PretrainBatch, TargetKind, make_batch, zero_unmasked_patches};
pub use checkpoint::{CHECKPOINT_FORMAT, Checkpoint, TrainerState};
pub use config_file::{RunSettings, parse_pretrain_config, pretrain_config_toml};
#[cfg(not(target_arch = "wasm32"))]
pub use gpu_weights::gpu_focal_weights;
pub use loss::{focal_loss, masked_token_loss};
pub use reconstruction::{PendingReconstruction, Reconstruction, Reconstructor, denormalize_nat, frames_from_patches};
pub use schedule::LrSchedule;
pub use targets::{motion_targets, nat_targets, patch_layout};
pub use trainer::{PretrainConfig, StepReport, TrainError, Trainer};
pub use trivial::trivial_loss;
