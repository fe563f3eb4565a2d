//! Multi-head attention laid out for the CPU's matrix products: every projection is one 2-D product
//! over all the batch's rows (burn's own multi-head attention applies its projections to 3-D inputs,
//! which the CPU backend runs as one small product per sample and, in the backward pass, as one weight
//! gradient per sample summed afterwards). The parameters and their names (`query`, `key`, `value`,
//! `output`) are those of burn's `MultiHeadAttention`, so checkpoints are unchanged.

use burn::nn::Linear;
use burn::prelude::*;

use super::init::linear;
use crate::fused;

/// A linear layer applied to every row of a batch as one matrix product.
///
/// # Shapes
/// `x`: [B, N, d_in] -> [B, N, d_out]
pub fn linear_rows(layer: &Linear, x: Tensor<3>) -> Tensor<3> {
    let [b, n, d] = x.dims();
    let y = layer.forward(x.reshape([b * n, d]));
    let out = y.dims()[1];
    y.reshape([b, n, out])
}

/// Scaled dot-product attention with `heads` heads and query, key, value and output projections.
#[derive(Module, Debug)]
pub struct Attention {
    /// Query projection.
    pub query: Linear,
    /// Key projection.
    pub key: Linear,
    /// Value projection.
    pub value: Linear,
    /// Output projection.
    pub output: Linear,
    heads: usize,
}

impl Attention {
    /// `dim -> dim` projections (xavier-uniform weights, zero biases) over `heads` heads.
    pub fn new(dim: usize, heads: usize, device: &Device) -> Self {
        Self {
            query: linear(dim, dim, device),
            key: linear(dim, dim, device),
            value: linear(dim, dim, device),
            output: linear(dim, dim, device),
            heads,
        }
    }

    /// Queries from `x` attend to keys and values from `memory`: softmax(q k^T / sqrt(d_k)) v, then
    /// the output projection (fused on the CPU: [`crate::fused::attention`]).
    ///
    /// # Shapes
    /// `x`: [B, Nq, dim], `memory`: [B, Nk, dim] -> [B, Nq, dim]
    pub fn forward(&self, x: Tensor<3>, memory: Tensor<3>) -> Tensor<3> {
        let (q, k, v) = self.project(x, memory);
        let context = fused::attention(q, k, v, self.heads, self.scale());
        linear_rows(&self.output, context)
    }

    /// The attention weights softmax(q k^T / sqrt(d_k)) per head, without the values or the output
    /// projection (attention maps, MaskCLR's attention-guided masking).
    ///
    /// # Shapes
    /// `x`: [B, Nq, dim], `memory`: [B, Nk, dim] -> [B, heads, Nq, Nk]
    pub fn weights(&self, x: Tensor<3>, memory: Tensor<3>) -> Tensor<4> {
        let (q, k) = (linear_rows(&self.query, x), linear_rows(&self.key, memory));
        fused::attention_weights(q, k, self.heads, self.scale())
    }

    /// The query, key and value projections.
    fn project(&self, x: Tensor<3>, memory: Tensor<3>) -> (Tensor<3>, Tensor<3>, Tensor<3>) {
        (linear_rows(&self.query, x), linear_rows(&self.key, memory.clone()), linear_rows(&self.value, memory))
    }

    /// 1 / sqrt(d_k).
    fn scale(&self) -> f64 {
        let d = self.query.weight.dims()[1];
        ((d / self.heads) as f64).powf(-0.5)
    }
}
