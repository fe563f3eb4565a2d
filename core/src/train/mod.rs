//! What every trainer here is built on: the optimisers (AdamW, SGD with momentum) over a flattened
//! parameter update, the learning-rate schedule and the checkpoint file. Pretraining ([`crate::pretrain`])
//! and evaluation ([`crate::eval`]) both use it.

mod adamw;
mod checkpoint;
mod flat_update;
mod schedule;
mod sgd;
mod weight_average;

pub use adamw::AdamW;
pub use checkpoint::{CHECKPOINT_FORMAT, Checkpoint, CheckpointConfig, CheckpointError};
pub(crate) use flat_update::FlatUpdate;
pub use schedule::LrSchedule;
pub use sgd::Sgd;
pub use weight_average::WeightAverage;
