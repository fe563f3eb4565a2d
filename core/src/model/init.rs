//! Parameter initialisation: xavier-uniform linear layers with zero bias, truncated-normal embeddings.

use burn::module::{ModuleMapper, Param};
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::TensorData;

use crate::rng::SeededRng;

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

/// Re-draws every random parameter of a module from a seeded generator, in visit order, so that a
/// seed fixes the initialisation on every backend and no matter what else uses the device's own
/// generator: 2-D weights (linear layers, [d_in, d_out]) xavier-uniform, 3-D and 4-D parameters
/// (embeddings, queries, mask token) normal(0, 0.02) truncated to [-2, 2]. 1-D parameters (biases,
/// LayerNorm) are constants and stay as they are.
pub struct SeededInit {
    rng: SeededRng,
}

impl SeededInit {
    /// A mapper drawing from `seed`.
    pub fn new(seed: u64) -> Self {
        Self { rng: SeededRng::new(seed) }
    }
}

impl ModuleMapper for SeededInit {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        if D < 2 {
            return param;
        }
        let rng = &mut self.rng;
        param.map(|t| {
            let dims = t.dims();
            let device = t.device();
            // A tensor made from data is a leaf that autodiff does not track: keep the parameter
            // trainable if it was.
            let trainable = t.is_require_grad();
            let n: usize = dims.iter().product();
            let values: Vec<f32> = if D == 2 {
                let bound = (6.0 / (dims[0] + dims[1]) as f64).sqrt();
                (0..n).map(|_| rng.uniform_range(-bound, bound) as f32).collect()
            } else {
                (0..n).map(|_| (0.02 * rng.normal()).clamp(-2.0, 2.0) as f32).collect()
            };
            let fresh = Tensor::from_data(TensorData::new(values, dims), &device);
            if trainable { fresh.require_grad() } else { fresh }
        })
    }
}
