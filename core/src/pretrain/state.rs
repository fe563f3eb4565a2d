//! Where a pretraining run stands between two steps, as its checkpoint stores it.

use crate::rng::SeededRng;

/// Where a run stands between two steps.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainerState {
    /// Optimiser steps done.
    pub steps: usize,
    /// The run's generator after the last step.
    pub rng: SeededRng,
    /// The current epoch's order of sequence indices.
    pub order: Vec<usize>,
    /// Position in `order`.
    pub cursor: usize,
    /// Sequences in the dataset the run trains on.
    pub dataset_len: usize,
}
