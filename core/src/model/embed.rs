//! Patch embedding: l frames x 1 joint x xyz per token, a linear map to the model width, and
//! factorised learnable temporal and joint embeddings (reference spec 1.2-1.3).

use burn::module::Param;
use burn::nn::Linear;
use burn::prelude::*;

use super::AmrConfig;
use super::attention::linear_rows;
use super::init::{linear, trunc_normal};

/// Groups l consecutive frames of each joint: the values of a patch are ordered [frame u][xyz].
///
/// # Shapes
/// `x`: [B, T, V, 3] -> [B, T / l, V, l 3]
pub fn patchify(x: Tensor<4>, l: usize) -> Tensor<4> {
    let [b, t, v, c] = x.dims();
    x.reshape([b, t / l, l, v, c]).swap_dims(2, 3).reshape([b, t / l, v, l * c])
}

/// Linear patch embedding plus temporal and joint position embeddings.
#[derive(Module, Debug)]
pub struct PatchEmbed {
    proj: Linear,
    /// [1, T / l, 1, dim]
    pub temp_embed: Param<Tensor<4>>,
    /// [1, 1, V, dim]
    pub pos_embed: Param<Tensor<4>>,
    patch: usize,
}

impl PatchEmbed {
    /// The embedding of the config's patch size, frames and joints.
    pub fn new(cfg: &AmrConfig, device: &Device) -> Self {
        Self {
            proj: linear(cfg.patch * 3, cfg.dim, device),
            temp_embed: trunc_normal([1, cfg.frames / cfg.patch, 1, cfg.dim], 0.02, device),
            pos_embed: trunc_normal([1, 1, cfg.joints, cfg.dim], 0.02, device),
            patch: cfg.patch,
        }
    }

    /// Frames per patch l.
    pub fn patch(&self) -> usize {
        self.patch
    }

    /// Embeds every token, time-major (index = t * V + v).
    ///
    /// # Shapes
    /// `x`: [B, T, V, 3] -> [B, (T / l) V, dim]
    pub fn forward(&self, x: Tensor<4>) -> Tensor<3> {
        self.forward_replacing(x, None)
    }

    /// Embeds every token; where `replace` = (mask, token) has mask 1, the patch's projection is replaced
    /// by `token` before the position embeddings are added (MaskCLR's masked pathway).
    ///
    /// # Shapes
    /// `x`: [B, T, V, 3], mask: [B, (T / l) V, 1], token: [1, 1, dim] -> [B, (T / l) V, dim]
    pub fn forward_replacing(&self, x: Tensor<4>, replace: Option<(Tensor<3>, Tensor<3>)>) -> Tensor<3> {
        let p = patchify(x, self.patch);
        let [b, tp, v, _] = p.dims();
        let d = self.proj.weight.dims()[1];
        let mut e = linear_rows(&self.proj, p.reshape([b, tp * v, self.patch * 3])).reshape([b, tp, v, d]);
        if let Some((mask, token)) = replace {
            let flat = e.reshape([b, tp * v, d]);
            let keep = mask.clone().neg().add_scalar(1.0);
            e = (flat * keep + token * mask).reshape([b, tp, v, d]);
        }
        let e = e + self.temp_embed.val() + self.pos_embed.val();
        e.reshape([b, tp * v, d])
    }
}
