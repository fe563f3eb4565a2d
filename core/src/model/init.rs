//! Parameter initialisation: xavier-uniform linear layers with zero bias, truncated-normal embeddings.

use burn::module::Param;
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::prelude::*;

/// A linear layer with xavier-uniform weights and a zero bias (the MAMP `_init_weights`).
pub fn linear(d_in: usize, d_out: usize, device: &Device) -> Linear {
    let mut l = LinearConfig::new(d_in, d_out).with_initializer(Initializer::XavierUniform { gain: 1.0 }).init(device);
    l.bias = Some(Param::from_tensor(Tensor::zeros([d_out], device)));
    l
}

/// A parameter drawn from normal(0, std) truncated to [-2, 2], as timm's `trunc_normal_(std=0.02)`
/// does (its bounds are absolute, so at std 0.02 they never bind).
pub fn trunc_normal<const D: usize>(shape: [usize; D], std: f64, device: &Device) -> Param<Tensor<D>> {
    let t = Tensor::<D>::random(shape, burn::tensor::Distribution::Normal(0.0, std), device);
    Param::from_tensor(t.clamp(-2.0, 2.0))
}
