//! What can go wrong in an evaluation run, by kind; every message names what does not fit.

use crate::error::{ConfigError, DeviceError};
use crate::model::ParamMismatch;

/// An evaluation run, a kNN, a baseline or a prediction that cannot go on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    /// The run's config, or a config that does not fit the data (split, joints).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The data or features do not fit: a sequence outside the dataset, another joint layout, labels
    /// outside the class count, too few samples.
    #[error("{0}")]
    Data(String),
    /// A checkpoint that cannot be used here: no evaluation state, no classifier head, optimiser
    /// moments that do not fit.
    #[error("{0}")]
    Checkpoint(String),
    /// Parameters that do not fit the model, by key.
    #[error(transparent)]
    Params(#[from] ParamMismatch),
    /// The loss became NaN or infinite.
    #[error("non-finite loss {loss} at epoch {epoch}, step {step}")]
    NonFinite {
        /// The loss value.
        loss: f64,
        /// The epoch (1-based).
        epoch: usize,
        /// The step (1-based).
        step: usize,
    },
    /// The device failed.
    #[error(transparent)]
    Device(#[from] DeviceError),
}
