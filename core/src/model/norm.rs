//! LayerNorm with the fused CPU kernel ([`crate::fused::layer_norm`]). Its parameters and their
//! names (`gamma`, `beta`) are those of burn's `LayerNorm`, so checkpoints are unchanged.

use burn::module::{Initializer, Param};
use burn::prelude::*;

/// Normalises the last axis, then scales by `gamma` and shifts by `beta`.
#[derive(Module, Debug)]
pub struct LayerNorm {
    /// Scale, one per channel (initially 1).
    pub gamma: Param<Tensor<1>>,
    /// Shift, one per channel (initially 0).
    pub beta: Param<Tensor<1>>,
    epsilon: f64,
}

impl LayerNorm {
    /// A LayerNorm over `dim` channels with `epsilon` added to the variance.
    pub fn new(dim: usize, epsilon: f64, device: &Device) -> Self {
        Self { gamma: Initializer::Ones.init([dim], device), beta: Initializer::Zeros.init([dim], device), epsilon }
    }

    /// # Shapes
    /// `x`: [..., dim] -> [..., dim]
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        crate::fused::layer_norm(x, self.gamma.val(), self.beta.val(), self.epsilon)
    }
}
