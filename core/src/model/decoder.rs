//! Decoders: AMR's cross-attention decoder over learnable queries (paper 3.2, Eq. 2) and MAMP's
//! self-attention decoder over mask tokens and all token positions (reference spec 1.6).

use burn::module::Param;
use burn::nn::{LayerNorm, Linear};
use burn::prelude::*;

use super::DecoderKind;
use super::block::norm;
use super::init::{linear, trunc_normal};
use super::{AmrConfig, Block, CrossBlock};

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
    /// The decoder of the config's depth, r and sizes.
    pub fn new(cfg: &AmrConfig, device: &Device) -> Self {
        let slots = cfg.frames / (cfg.r * cfg.patch);
        Self {
            embed: linear(cfg.dim, cfg.dim, device),
            queries: trunc_normal([1, slots * cfg.joints, cfg.dim], 0.02, device),
            query_temp: trunc_normal([1, slots, 1, cfg.dim], 0.02, device),
            query_joint: trunc_normal([1, 1, cfg.joints, cfg.dim], 0.02, device),
            key_temp: cfg.key_positions.then(|| trunc_normal([1, cfg.frames / cfg.patch, 1, cfg.dim], 0.02, device)),
            blocks: (0..cfg.decoder_depth).map(|_| CrossBlock::new(cfg, device)).collect(),
            norm: norm(cfg, device),
            head: vec![
                linear(cfg.dim, cfg.dim, device),
                linear(cfg.dim, cfg.dim, device),
                linear(cfg.dim, cfg.r * cfg.patch * 3, device),
            ],
        }
    }

    /// `keep` holds the token index (t V + v) of every visible token; it places the key position
    /// encodings (ignored without `key_positions`).
    ///
    /// # Shapes
    /// `visible`: [B, Nv, dim], `keep`: [B, Nv] -> [B, Nq, r l 3], queries ordered slot-major
    /// (index = s * V + v)
    pub fn forward(&self, visible: Tensor<3>, keep: Tensor<2, Int>) -> Tensor<3> {
        let [b, nv, d] = visible.dims();
        let mut memory = self.embed.forward(visible);
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
            h = l.forward(h);
            if i < last {
                h = burn::tensor::activation::gelu(h);
            }
        }
        h
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
    /// Time slots pooled into one decoder token (1 except for the downsampling baseline).
    downsample: usize,
    /// 1 for the decoder-masking baseline (only chosen masked tokens enter the decoder).
    select: usize,
}

impl MampDecoder {
    /// The decoder of the config's depth and sizes.
    pub fn new(cfg: &AmrConfig, device: &Device) -> Self {
        let downsample = if cfg.decoder == DecoderKind::Downsampling { cfg.r } else { 1 };
        Self {
            embed: linear(cfg.dim, cfg.dim, device),
            mask_token: trunc_normal([1, 1, cfg.dim], 0.02, device),
            temp_embed: trunc_normal([1, cfg.frames / cfg.patch, 1, cfg.dim], 0.02, device),
            pos_embed: trunc_normal([1, 1, cfg.joints, cfg.dim], 0.02, device),
            blocks: (0..cfg.decoder_depth).map(|_| Block::new(cfg, device)).collect(),
            norm: norm(cfg, device),
            pred: linear(cfg.dim, downsample * cfg.patch * 3, device),
            downsample,
            select: usize::from(cfg.decoder == DecoderKind::DecoderMasking),
        }
    }

    /// True for the decoder-masking baseline.
    pub fn selects(&self) -> bool {
        self.select == 1
    }

    fn positions(&self) -> Tensor<3> {
        let [_, tp, _, d] = self.temp_embed.dims();
        let [_, _, v, _] = self.pos_embed.dims();
        (self.temp_embed.val() + self.pos_embed.val()).reshape([1, tp * v, d])
    }

    fn decode(&self, mut x: Tensor<3>) -> Tensor<3> {
        for blk in &self.blocks {
            x = blk.forward(x);
        }
        self.pred.forward(self.norm.forward(x))
    }

    /// Decoder masking: the visible tokens and mask tokens at the `select` positions only, each with
    /// its decoder position embedding; predictions for the selected tokens.
    ///
    /// # Shapes
    /// `visible`: [B, Nv, dim], `keep`: [B, Nv], `select`: [B, Nq] -> [B, Nq, l 3]
    pub fn forward_selected(&self, visible: Tensor<3>, keep: Tensor<2, Int>, select: Tensor<2, Int>) -> Tensor<3> {
        let [b, nv, d] = visible.dims();
        let nq = select.dims()[1];
        let pos = self.positions().repeat_dim(0, b);
        let at = |idx: Tensor<2, Int>| {
            let n = idx.dims()[1];
            pos.clone().gather(1, idx.unsqueeze_dim::<3>(2).repeat_dim(2, d)).reshape([b, n, d])
        };
        let h = self.embed.forward(visible) + at(keep);
        let masks = self.mask_token.val().repeat_dim(0, b).repeat_dim(1, nq) + at(select);
        self.decode(Tensor::cat(vec![h, masks], 1)).slice([0..b, nv..nv + nq])
    }

    /// The full grid (visible tokens and mask tokens, un-shuffled, plus decoder positions); with
    /// downsampling by r, the grid is average-pooled over r consecutive time slots first.
    ///
    /// # Shapes
    /// `visible`: [B, Nv, dim], `restore`: [B, L] -> [B, L / r, r l 3] (r = 1 for MAMP)
    pub fn forward(&self, visible: Tensor<3>, restore: Tensor<2, Int>) -> Tensor<3> {
        let [b, nv, d] = visible.dims();
        let l_all = restore.dims()[1];
        let h = self.embed.forward(visible);
        let masks = self.mask_token.val().repeat_dim(0, b).repeat_dim(1, l_all - nv);
        let full = Tensor::cat(vec![h, masks], 1).gather(1, restore.unsqueeze_dim::<3>(2).repeat_dim(2, d));
        let mut x = full + self.positions();
        if self.downsample > 1 {
            let v = self.pos_embed.dims()[2];
            let slots = l_all / v / self.downsample;
            x = x.reshape([b, slots, self.downsample, v, d]).mean_dim(2).reshape([b, slots * v, d]);
        }
        self.decode(x)
    }
}
