//! Transformer blocks: the pre-LN self-attention block of the encoder and the MAMP decoder
//! (reference spec 1.4), and AMR's cross-attention block (paper Eq. 2).

use burn::nn::Linear;
use burn::prelude::*;

use super::attention::{Attention, linear_rows};
use super::init::linear;
use super::norm::LayerNorm;

/// Linear, exact GELU, linear.
#[derive(Module, Debug)]
pub struct Mlp {
    fc1: Linear,
    fc2: Linear,
}

impl Mlp {
    /// A `dim -> hidden -> dim` MLP.
    pub fn new(dim: usize, hidden: usize, device: &Device) -> Self {
        Self { fc1: linear(dim, hidden, device), fc2: linear(hidden, dim, device) }
    }

    /// # Shapes
    /// `x`: [B, N, dim] -> [B, N, dim]
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        linear_rows(&self.fc2, crate::fused::gelu(linear_rows(&self.fc1, x)))
    }
}

/// The sizes of a transformer block, shared by the encoder's and every decoder's blocks.
#[derive(Config, Debug, PartialEq)]
pub struct BlockConfig {
    /// Model width.
    pub dim: usize,
    /// Attention heads.
    pub heads: usize,
    /// Hidden width of the MLP.
    pub mlp: usize,
    /// LayerNorm epsilon.
    #[config(default = 1e-5)]
    pub norm_eps: f64,
}

impl BlockConfig {
    /// A pre-LN self-attention block of these sizes.
    pub fn init(&self, device: &Device) -> Block {
        Block {
            norm1: norm(self, device),
            attn: attention(self, device),
            norm2: norm(self, device),
            mlp: Mlp::new(self.dim, self.mlp, device),
        }
    }

    /// An AMR decoder layer of these sizes; with `self_attention`, a self-attention sub-layer among
    /// the queries first (the Table 6 ablation).
    pub fn init_cross(&self, self_attention: bool, device: &Device) -> CrossBlock {
        CrossBlock {
            self_attn: self_attention.then(|| self.init(device)),
            norm_q: norm(self, device),
            cross: attention(self, device),
            norm2: norm(self, device),
            mlp: Mlp::new(self.dim, self.mlp, device),
        }
    }
}

fn attention(cfg: &BlockConfig, device: &Device) -> Attention {
    Attention::new(cfg.dim, cfg.heads, device)
}

/// A LayerNorm of the block's width and epsilon.
pub(super) fn norm(cfg: &BlockConfig, device: &Device) -> LayerNorm {
    LayerNorm::new(cfg.dim, cfg.norm_eps, device)
}

/// Per-sample scales of a block's two residual branches for stochastic depth (drop path).
#[derive(Debug, Clone)]
pub struct DropPath {
    /// [B, 1, 1] scale of the attention branch.
    pub attn: Tensor<3>,
    /// [B, 1, 1] scale of the MLP branch.
    pub mlp: Tensor<3>,
}

/// Pre-LN block: x + Attn(LN(x)), then x + MLP(LN(x)).
#[derive(Module, Debug)]
pub struct Block {
    norm1: LayerNorm,
    attn: Attention,
    norm2: LayerNorm,
    mlp: Mlp,
}

impl Block {
    /// # Shapes
    /// `x`: [B, N, dim] -> [B, N, dim]
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        self.mlp_residual(self.attention_residual(x))
    }

    /// The first half: x + Attn(LN(x)).
    ///
    /// # Shapes
    /// `x`: [B, N, dim] -> [B, N, dim]
    pub fn attention_residual(&self, x: Tensor<3>) -> Tensor<3> {
        let h = self.norm1.forward(x.clone());
        x + self.attn.forward(h.clone(), h)
    }

    /// The second half: x + MLP(LN(x)).
    ///
    /// # Shapes
    /// `x`: [B, N, dim] -> [B, N, dim]
    pub fn mlp_residual(&self, x: Tensor<3>) -> Tensor<3> {
        let h = self.norm2.forward(x.clone());
        x + self.mlp.forward(h)
    }

    /// The block with stochastic depth: each residual branch scaled per sample by `drop` (0 for a
    /// dropped branch, 1 / (1 - p) for a kept one); with `weights`, also the attention weights,
    /// detached from the autodiff graph (they are read, never differentiated: MaskCLR's
    /// attention-guided masking). The attention itself is the fused one either way, so asking for the
    /// weights costs one more q k^T and softmax, not a written-out attention in the backward pass.
    ///
    /// # Shapes
    /// `x`: [B, N, dim], `drop`: [B, 1, 1] each -> ([B, N, dim], [B, heads, N, N] with `weights`)
    pub fn forward_full(&self, x: Tensor<3>, drop: Option<&DropPath>, weights: bool) -> (Tensor<3>, Option<Tensor<4>>) {
        let h = self.norm1.forward(x.clone());
        let w = weights.then(|| self.attn.weights(h.clone().detach(), h.clone().detach()));
        let a = self.attn.forward(h.clone(), h);
        let a = match drop {
            Some(d) => a * d.attn.clone(),
            None => a,
        };
        let x = x + a;
        let m = self.mlp.forward(self.norm2.forward(x.clone()));
        let m = match drop {
            Some(d) => m * d.mlp.clone(),
            None => m,
        };
        (x + m, w)
    }

    /// The block's attention weights for its input (head-averaged later by callers such as MaskCLR).
    ///
    /// # Shapes
    /// `x`: [B, N, dim] -> [B, heads, N, N]
    pub fn attention_weights(&self, x: Tensor<3>) -> Tensor<4> {
        let h = self.norm1.forward(x);
        self.attn.weights(h.clone(), h)
    }
}

/// AMR's decoder layer: queries attend to the visible tokens, then an FFN; both residual (Eq. 2),
/// pre-LN on the queries. With `self_attention`, a self-attention sub-layer among the queries comes
/// first (the Table 6 ablation).
#[derive(Module, Debug)]
pub struct CrossBlock {
    self_attn: Option<Block>,
    norm_q: LayerNorm,
    cross: Attention,
    norm2: LayerNorm,
    mlp: Mlp,
}

impl CrossBlock {
    /// # Shapes
    /// `q`: [B, Nq, dim], `memory`: [B, Nv, dim] -> [B, Nq, dim]
    pub fn forward(&self, q: Tensor<3>, memory: Tensor<3>) -> Tensor<3> {
        let q = match &self.self_attn {
            Some(b) => b.forward(q),
            None => q,
        };
        let h = self.norm_q.forward(q.clone());
        let q = q + self.cross.forward(h, memory);
        let h = self.norm2.forward(q.clone());
        q.clone() + self.mlp.forward(h)
    }
}
