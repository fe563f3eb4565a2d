//! Fused operations for the CPU: exact GELU, LayerNorm and multi-head attention, each one pass over
//! its data with its own backward pass, in parallel over rows or samples.
//!
//! On burn's `flex` CPU backend with `f32` tensors these run through a backend extension
//! ([`backend`]); on any other device or precision they are burn's own operations, so the GPU path is
//! unchanged. The results agree with burn's to float rounding (the tests compare values and
//! gradients).

mod attention;
mod backend;
mod gelu;
mod layer_norm;
mod matmul;
#[cfg(test)]
mod tests;

use burn::backend::Dispatch;
use burn::prelude::*;
use burn::tensor::DType;

use backend::FusedBackend;

/// Whether `x` lives on the `flex` CPU backend (with or without autodiff) in `f32`.
fn fused_here<const D: usize>(x: &Tensor<D>) -> bool {
    x.dtype() == DType::F32 && x.device().inner() == Device::flex()
}

/// Exact GELU, x Phi(x).
///
/// # Shapes
/// `x`: any -> the same
pub fn gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if fused_here(&x) {
        Tensor::from_dispatch(<Dispatch as FusedBackend>::fused_gelu(x.into_dispatch()))
    } else {
        burn::tensor::activation::gelu(x)
    }
}

/// LayerNorm over the last axis with the biased variance: (x - mean) / sqrt(var + eps) gamma + beta.
///
/// # Shapes
/// `x`: [..., d], `gamma`, `beta`: [d] -> [..., d]
pub fn layer_norm<const D: usize>(x: Tensor<D>, gamma: Tensor<1>, beta: Tensor<1>, epsilon: f64) -> Tensor<D> {
    if fused_here(&x) {
        Tensor::from_dispatch(<Dispatch as FusedBackend>::fused_layer_norm(
            x.into_dispatch(),
            gamma.into_dispatch(),
            beta.into_dispatch(),
            epsilon,
        ))
    } else {
        burn::tensor::module::layer_norm(x, gamma, Some(beta), epsilon)
    }
}

/// Multi-head attention softmax(scale q k^T) v, the heads being consecutive column blocks of width
/// D / heads.
///
/// # Shapes
/// `q`: [B, Nq, D], `k`, `v`: [B, Nk, D] -> [B, Nq, D]
pub fn attention(q: Tensor<3>, k: Tensor<3>, v: Tensor<3>, heads: usize, scale: f64) -> Tensor<3> {
    if fused_here(&q) {
        return Tensor::from_dispatch(<Dispatch as FusedBackend>::fused_attention(
            q.into_dispatch(),
            k.into_dispatch(),
            v.into_dispatch(),
            heads,
            scale,
        ));
    }
    attention_with_weights(q, k, v, heads, scale).0
}

/// [`attention`] written out with burn's operations on every device, also returning the attention
/// weights (the fallback path and the fused operation's reference).
///
/// # Shapes
/// `q`: [B, Nq, D], `k`, `v`: [B, Nk, D] -> ([B, Nq, D], [B, heads, Nq, Nk])
pub fn attention_with_weights(
    q: Tensor<3>,
    k: Tensor<3>,
    v: Tensor<3>,
    heads: usize,
    scale: f64,
) -> (Tensor<3>, Tensor<4>) {
    let weights = attention_weights(q, k, heads, scale);
    let context = weights.clone().matmul(split_heads(v, heads)).swap_dims(1, 2).flatten(2, 3);
    (context, weights)
}

/// The attention weights softmax(scale q k^T) per head, written out with burn's operations (attention
/// maps, MaskCLR's attention-guided masking).
///
/// # Shapes
/// `q`: [B, Nq, D], `k`: [B, Nk, D] -> [B, heads, Nq, Nk]
pub fn attention_weights(q: Tensor<3>, k: Tensor<3>, heads: usize, scale: f64) -> Tensor<4> {
    // The scale applied to the queries costs a pass over [Nq, D] instead of one over the scores.
    let q = split_heads(q.mul_scalar(scale), heads);
    burn::tensor::activation::softmax(q.matmul(split_heads(k, heads).swap_dims(2, 3)), 3)
}

/// [B, N, D] -> [B, heads, N, D / heads].
fn split_heads(x: Tensor<3>, heads: usize) -> Tensor<4> {
    let [b, n, d] = x.dims();
    x.reshape([b, n, heads, d / heads]).swap_dims(1, 2)
}
