//! MAMP's decoder (reference spec 1.6): the visible tokens embedded, mask tokens un-shuffled into the
//! full token grid, decoder position embeddings, self-attention blocks, LayerNorm, a linear predictor.
//! Its layers also carry the two Table 5 baselines ([`super::DecoderMaskingDecoder`],
//! [`super::DownsamplingDecoder`]).

use burn::module::Param;
use burn::nn::Linear;
use burn::prelude::*;

use super::attention::linear_rows;
use super::block::norm;
use super::init::{linear, trunc_normal};
use super::norm::LayerNorm;
use super::{Block, BlockConfig};

/// The MAMP decoder's shape.
#[derive(Config, Debug, PartialEq)]
pub struct MampDecoderConfig {
    /// Sizes of its blocks.
    pub block: BlockConfig,
    /// Self-attention blocks.
    pub depth: usize,
    /// Frames per clip T.
    pub frames: usize,
    /// Frames per encoder patch l.
    pub patch: usize,
    /// Joints V.
    pub joints: usize,
    /// Token time slots one prediction covers: 1 for MAMP's l-frame patches, r for the downsampling
    /// baseline's r l-frame patches.
    #[config(default = 1)]
    pub pred_slots: usize,
}

impl MampDecoderConfig {
    /// The decoder on `device`.
    pub fn init(&self, device: &Device) -> MampDecoder {
        let dim = self.block.dim;
        MampDecoder {
            embed: linear(dim, dim, device),
            mask_token: trunc_normal([1, 1, dim], 0.02, device),
            temp_embed: trunc_normal([1, self.frames / self.patch, 1, dim], 0.02, device),
            pos_embed: trunc_normal([1, 1, self.joints, dim], 0.02, device),
            blocks: (0..self.depth).map(|_| self.block.init(device)).collect(),
            norm: norm(&self.block, device),
            pred: linear(dim, self.pred_slots * self.patch * 3, device),
        }
    }
}

/// MAMP decoder: a linear embedding of the visible tokens, mask tokens for the rest, un-shuffled into
/// the full grid, decoder position embeddings, self-attention blocks, LayerNorm, a linear predictor.
#[derive(Module, Debug)]
pub struct MampDecoder {
    embed: Linear,
    /// [1, 1, dim]
    mask_token: Param<Tensor<3>>,
    /// [1, T / l, 1, dim]
    temp_embed: Param<Tensor<4>>,
    /// [1, 1, V, dim]
    pos_embed: Param<Tensor<4>>,
    blocks: Vec<Block>,
    norm: LayerNorm,
    pred: Linear,
}

impl MampDecoder {
    /// Joints V of the token grid.
    pub(super) fn joints(&self) -> usize {
        self.pos_embed.dims()[2]
    }

    /// The decoder position embedding of every grid token, time-major.
    ///
    /// # Shapes
    /// -> [1, (T / l) V, dim]
    pub(super) fn positions(&self) -> Tensor<3> {
        let [_, tp, _, d] = self.temp_embed.dims();
        (self.temp_embed.val() + self.pos_embed.val()).reshape([1, tp * self.joints(), d])
    }

    /// The visible tokens embedded into the decoder.
    ///
    /// # Shapes
    /// `visible`: [B, Nv, dim] -> [B, Nv, dim]
    pub(super) fn embed(&self, visible: Tensor<3>) -> Tensor<3> {
        linear_rows(&self.embed, visible)
    }

    /// `n` mask tokens per sample.
    ///
    /// # Shapes
    /// -> [B, n, dim]
    pub(super) fn mask_tokens(&self, b: usize, n: usize) -> Tensor<3> {
        self.mask_token.val().repeat_dim(0, b).repeat_dim(1, n)
    }

    /// Blocks, LayerNorm and predictor.
    ///
    /// # Shapes
    /// `x`: [B, N, dim] -> [B, N, pred_slots l 3]
    pub(super) fn decode(&self, mut x: Tensor<3>) -> Tensor<3> {
        for blk in &self.blocks {
            x = blk.forward(x);
        }
        linear_rows(&self.pred, self.norm.forward(x))
    }

    /// The full grid: the embedded visible tokens and mask tokens, un-shuffled by `restore`, plus the
    /// decoder positions.
    ///
    /// # Shapes
    /// `visible`: [B, Nv, dim], `restore`: [B, L] -> [B, L, dim]
    pub(super) fn grid(&self, visible: Tensor<3>, restore: Tensor<2, Int>) -> Tensor<3> {
        let [b, nv, d] = visible.dims();
        let l_all = restore.dims()[1];
        let full = Tensor::cat(vec![self.embed(visible), self.mask_tokens(b, l_all - nv)], 1);
        full.gather(1, restore.unsqueeze_dim::<3>(2).repeat_dim(2, d)) + self.positions()
    }

    /// MAMP's reconstruction of every token.
    ///
    /// # Shapes
    /// `visible`: [B, Nv, dim], `restore`: [B, L] (position of token j in `keep ++ masked`)
    /// -> [B, L, l 3]
    pub fn forward(&self, visible: Tensor<3>, restore: Tensor<2, Int>) -> Tensor<3> {
        self.decode(self.grid(visible, restore))
    }
}
