//! A tiny regression model trained with autodiff and AdamW: the smallest end-to-end proof that a burn
//! training step runs on a backend, used to compare the CPU and wgpu backends.

use burn::module::Param;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamWConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::TensorData;

use crate::rng::SeededRng;

/// Two linear layers with a GELU between them.
#[derive(Module, Debug)]
pub struct TinyMlp {
    l1: Linear,
    l2: Linear,
}

fn seeded_linear(d_in: usize, d_out: usize, rng: &mut SeededRng, device: &Device) -> Linear {
    let mut l = LinearConfig::new(d_in, d_out).init(device);
    let bound = (6.0 / (d_in + d_out) as f64).sqrt();
    let w: Vec<f32> = (0..d_in * d_out).map(|_| rng.uniform_range(-bound, bound) as f32).collect();
    l.weight = Param::from_tensor(Tensor::from_data(TensorData::new(w, [d_in, d_out]), device));
    l.bias = Some(Param::from_tensor(Tensor::zeros([d_out], device)));
    l
}

impl TinyMlp {
    /// A model whose weights are fixed by `seed` on every backend (xavier-uniform from [`SeededRng`]).
    pub fn new(d_in: usize, hidden: usize, d_out: usize, seed: u64, device: &Device) -> Self {
        let mut rng = SeededRng::new(seed);
        Self { l1: seeded_linear(d_in, hidden, &mut rng, device), l2: seeded_linear(hidden, d_out, &mut rng, device) }
    }

    /// # Shapes
    /// `x`: [B, d_in] -> [B, d_out]
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.l2.forward(burn::tensor::activation::gelu(self.l1.forward(x)))
    }
}

/// Trains [`TinyMlp`] (8 -> 32 -> 4, batch 16) on fixed seeded data for `steps` AdamW steps
/// (lr 1e-2, betas 0.9 / 0.95, weight decay 0.05) on an autodiff device; returns the loss of every step.
pub fn tiny_training_run(device: &Device, steps: usize, seed: u64) -> Vec<f32> {
    let device = device.clone().autodiff();
    let mut rng = SeededRng::new(seed ^ 0xDA7A);
    let x: Vec<f32> = (0..16 * 8).map(|_| rng.uniform_range(-1.0, 1.0) as f32).collect();
    let y: Vec<f32> = (0..16)
        .flat_map(|i| {
            let r = &x[i * 8..(i + 1) * 8];
            [r[0] * r[1], r[2] - r[3], (r[4] + r[5]).sin(), r[6].abs() - r[7]]
        })
        .collect();
    let x = Tensor::<2>::from_data(TensorData::new(x, [16, 8]), &device);
    let y = Tensor::<2>::from_data(TensorData::new(y, [16, 4]), &device);
    let mut model = TinyMlp::new(8, 32, 4, seed, &device);
    let mut optim = AdamWConfig::new().with_beta_2(0.95).with_weight_decay(0.05).init();
    let mut losses = Vec::with_capacity(steps);
    for _ in 0..steps {
        let loss = (model.forward(x.clone()) - y.clone()).powi_scalar(2).mean();
        losses.push(loss.clone().into_scalar::<f32>());
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-2, model, grads);
    }
    losses
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_training_lowers_the_loss_and_is_deterministic() {
        let a = tiny_training_run(&crate::backend::cpu_device(), 30, 1);
        let b = tiny_training_run(&crate::backend::cpu_device(), 30, 1);
        assert_eq!(a, b);
        assert!(a.iter().all(|l| l.is_finite()));
        assert!(a[29] < 0.5 * a[0], "loss {} -> {}", a[0], a[29]);
    }
}
