//! The encoder: patch embedding, pre-LN blocks over the visible tokens only, final LayerNorm.

use super::norm::LayerNorm;
use burn::prelude::*;

use super::block::norm;
use super::{AmrConfig, Block, DropPath, PatchEmbed};

/// The transformer encoder.
#[derive(Module, Debug)]
pub struct Encoder {
    /// Patch and position embedding.
    pub embed: PatchEmbed,
    /// The blocks.
    pub blocks: Vec<Block>,
    /// Final LayerNorm.
    pub norm: LayerNorm,
}

impl Encoder {
    /// An encoder of the config's depth and width.
    pub fn new(cfg: &AmrConfig, device: &Device) -> Self {
        Self {
            embed: PatchEmbed::new(cfg, device),
            blocks: (0..cfg.encoder_depth).map(|_| cfg.block().init(device)).collect(),
            norm: norm(&cfg.block(), device),
        }
    }

    fn run(&self, mut h: Tensor<3>) -> Tensor<3> {
        for b in &self.blocks {
            h = b.forward(h);
        }
        self.norm.forward(h)
    }

    /// Encodes the visible tokens only (position embeddings are added before the selection).
    ///
    /// # Shapes
    /// `x`: [B, T, V, 3], `keep`: [B, Nv] -> [B, Nv, dim]
    pub fn forward_visible(&self, x: Tensor<4>, keep: Tensor<2, Int>) -> Tensor<3> {
        self.forward_visible_probed(x, keep, &mut |_, _| {})
    }

    /// [`Self::forward_visible`], calling `probe` with each stage's name and output as it is built:
    /// `patch embedding` (with the selection of the visible tokens), then per block `encoder
    /// attention` and `encoder MLP`, then `encoder norm` (what `bench --profile` times).
    ///
    /// # Shapes
    /// `x`: [B, T, V, 3], `keep`: [B, Nv] -> [B, Nv, dim]
    pub fn forward_visible_probed(
        &self,
        x: Tensor<4>,
        keep: Tensor<2, Int>,
        probe: &mut dyn FnMut(&'static str, &Tensor<3>),
    ) -> Tensor<3> {
        let tokens = self.embed.forward(x);
        let d = tokens.dims()[2];
        let mut h = tokens.gather(1, keep.unsqueeze_dim::<3>(2).repeat_dim(2, d));
        probe("patch embedding", &h);
        for b in &self.blocks {
            h = b.attention_residual(h);
            probe("encoder attention", &h);
            h = b.mlp_residual(h);
            probe("encoder MLP", &h);
        }
        let h = self.norm.forward(h);
        probe("encoder norm", &h);
        h
    }

    /// Encodes all tokens (evaluation, no masking).
    ///
    /// # Shapes
    /// `x`: [B, T, V, 3] -> [B, (T / l) V, dim]
    pub fn forward_all(&self, x: Tensor<4>) -> Tensor<3> {
        self.run(self.embed.forward(x))
    }

    /// The classification pass over all tokens: optional mask-token replacement (see
    /// [`PatchEmbed::forward_replacing`]) and stochastic depth (one [`DropPath`] per block, or none);
    /// returns the final-norm tokens and, with `weights`, the last block's attention weights (detached,
    /// see [`Block::forward_full`](super::Block::forward_full)).
    ///
    /// # Shapes
    /// `x`: [B, T, V, 3] -> ([B, L, dim], [B, heads, L, L] with `weights` and a block) with L = (T / l) V
    pub fn forward_classify(
        &self,
        x: Tensor<4>,
        replace: Option<(Tensor<3>, Tensor<3>)>,
        drop: &[DropPath],
        weights: bool,
    ) -> (Tensor<3>, Option<Tensor<4>>) {
        let mut h = self.embed.forward_replacing(x, replace);
        let mut last = None;
        let depth = self.blocks.len();
        for (i, b) in self.blocks.iter().enumerate() {
            let (out, w) = b.forward_full(h, drop.get(i), weights && i + 1 == depth);
            h = out;
            last = w;
        }
        (self.norm.forward(h), last)
    }

    /// Encodes every person of every sequence and returns the token grid (MAMP's evaluation features
    /// before pooling).
    ///
    /// # Shapes
    /// `x`: [N, M, T, V, 3] -> [N, M, T / l, V, dim]
    pub fn forward_grid(&self, x: Tensor<5>) -> Tensor<5> {
        let [n, m, t, v, c] = x.dims();
        let h = self.forward_all(x.reshape([n * m, t, v, c]));
        let d = h.dims()[2];
        h.reshape([n, m, t / self.embed.patch(), v, d])
    }

    /// The pooled sequence feature of the linear probe: the token grid averaged over persons, time
    /// and joints (absent persons included, as in MAMP).
    ///
    /// # Shapes
    /// `x`: [N, M, T, V, 3] -> [N, dim]
    pub fn forward_pooled(&self, x: Tensor<5>) -> Tensor<2> {
        let g = self.forward_grid(x);
        let [n, m, tp, v, d] = g.dims();
        g.reshape([n, m * tp * v, d]).mean_dim(1).reshape([n, d])
    }
}
