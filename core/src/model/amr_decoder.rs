//! AMR's decoder (paper 3.2, Eq. 2): learnable queries with spatio-temporal position encodings,
//! cross-attention to the visible tokens, a 3-layer MLP head to r x larger target patches.

use burn::module::Param;
use burn::nn::Linear;
use burn::prelude::*;

use super::attention::linear_rows;
use super::block::norm;
use super::init::{linear, trunc_normal};
use super::norm::LayerNorm;
use super::{BlockConfig, CrossBlock};

/// The AMR decoder's shape.
#[derive(Config, Debug, PartialEq)]
pub struct AmrDecoderConfig {
    /// Sizes of its layers.
    pub block: BlockConfig,
    /// Cross-attention layers.
    pub depth: usize,
    /// Frames per clip T.
    pub frames: usize,
    /// Frames per encoder patch l.
    pub patch: usize,
    /// Joints V.
    pub joints: usize,
    /// Target patch factor r: a target patch is r l frames of one joint (r must divide T / l).
    pub r: usize,
    /// Add the queries' position encodings to the keys as well.
    #[config(default = true)]
    pub key_positions: bool,
    /// A self-attention sub-layer among the queries in every layer (the Table 6 ablation).
    #[config(default = false)]
    pub query_self_attention: bool,
}

impl AmrDecoderConfig {
    /// The decoder on `device`.
    pub fn init(&self, device: &Device) -> AmrDecoder {
        let (dim, slots) = (self.block.dim, self.frames / (self.r * self.patch));
        AmrDecoder {
            embed: linear(dim, dim, device),
            queries: trunc_normal([1, slots * self.joints, dim], 0.02, device),
            query_temp: trunc_normal([1, slots, 1, dim], 0.02, device),
            query_joint: trunc_normal([1, 1, self.joints, dim], 0.02, device),
            key_temp: self.key_positions.then(|| trunc_normal([1, self.frames / self.patch, 1, dim], 0.02, device)),
            blocks: (0..self.depth).map(|_| self.block.init_cross(self.query_self_attention, device)).collect(),
            norm: norm(&self.block, device),
            head: vec![
                linear(dim, dim, device),
                linear(dim, dim, device),
                linear(dim, self.r * self.patch * 3, device),
            ],
        }
    }
}

/// AMR decoder: (T / (r l)) * V learnable queries with learnable spatio-temporal position encodings,
/// cross-attention layers, a final LayerNorm and a 3-layer MLP to r * l * 3 values per target patch.
///
/// With `key_positions` (the default), the keys carry position encodings too, from the same tables as
/// the queries': a visible token at time slot t and joint v gets `key_temp[t] + query_joint[v]`, and a
/// query of target slot s gets, besides its own `query_temp[s]`, the mean of `key_temp` over the r
/// token slots it covers. Queries then find their tokens by matching positions instead of having to
/// discover them from the encoder's content alone (measured against the paper's decoder in
/// docs/experiments.md, section 5).
#[derive(Module, Debug)]
pub struct AmrDecoder {
    embed: Linear,
    /// [1, Nq, dim]
    queries: Param<Tensor<3>>,
    /// [1, T / (r l), 1, dim]
    query_temp: Param<Tensor<4>>,
    /// [1, 1, V, dim]
    query_joint: Param<Tensor<4>>,
    /// [1, T / l, 1, dim]: the temporal position of every encoder token slot (with `key_positions`).
    key_temp: Option<Param<Tensor<4>>>,
    blocks: Vec<CrossBlock>,
    norm: LayerNorm,
    head: Vec<Linear>,
}

impl AmrDecoder {
    /// `keep` holds the token index (t V + v) of every visible token; it places the key position
    /// encodings (ignored without `key_positions`).
    ///
    /// # Shapes
    /// `visible`: [B, Nv, dim], `keep`: [B, Nv] -> [B, Nq, r l 3], queries ordered slot-major
    /// (index = s * V + v)
    pub fn forward(&self, visible: Tensor<3>, keep: Tensor<2, Int>) -> Tensor<3> {
        let [b, nv, d] = visible.dims();
        let mut memory = linear_rows(&self.embed, visible);
        let [_, slots, _, _] = self.query_temp.dims();
        let [_, _, joints, _] = self.query_joint.dims();
        let mut query_temp = self.query_temp.val();
        if let Some(key_temp) = &self.key_temp {
            let key_temp = key_temp.val();
            let token_slots = key_temp.dims()[1];
            let r = token_slots / slots;
            let grid = (key_temp.clone() + self.query_joint.val()).reshape([1, token_slots * joints, d]);
            let idx = keep.unsqueeze_dim::<3>(2).repeat_dim(2, d);
            memory = memory + grid.repeat_dim(0, b).gather(1, idx).reshape([b, nv, d]);
            query_temp = query_temp + key_temp.reshape([1, slots, r, 1, d]).mean_dim(2).reshape([1, slots, 1, d]);
        }
        let pos = (query_temp + self.query_joint.val()).reshape([1, slots * joints, d]);
        let mut q = (self.queries.val() + pos).repeat_dim(0, b);
        for blk in &self.blocks {
            q = blk.forward(q, memory.clone());
        }
        let mut h = self.norm.forward(q);
        let last = self.head.len().saturating_sub(1);
        for (i, l) in self.head.iter().enumerate() {
            h = linear_rows(l, h);
            if i < last {
                h = crate::fused::gelu(h);
            }
        }
        h
    }
}
