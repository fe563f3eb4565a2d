//! SGD with momentum (PyTorch's `torch.optim.SGD`, dampening 0, no Nesterov), the linear probe's
//! optimiser, with its momentum buffers held by parameter path for checkpoints.
//!
//! Per parameter p with gradient g: `g <- g + wd p`; `b <- g` at the first step, else `b <- mu b + g`;
//! `p <- p - lr b`.

use std::collections::BTreeMap;

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::TensorData;

use super::FlatUpdate;
use crate::model::{NamedParams, NamedTensor};

/// SGD hyper-parameters and momentum buffers.
pub struct Sgd {
    /// Momentum mu.
    pub momentum: f64,
    /// L2 weight decay added to the gradient.
    pub weight_decay: f64,
    buffers: BTreeMap<String, Tensor<1>>,
}

impl Sgd {
    /// A fresh optimiser.
    pub fn new(momentum: f64, weight_decay: f64) -> Self {
        Self { momentum, weight_decay, buffers: BTreeMap::new() }
    }

    /// Applies one update with learning rate `lr` to every parameter that has a gradient.
    pub fn step<M: Module>(&mut self, lr: f64, module: M, grads: GradientsParams) -> M {
        let (mu, wd) = (self.momentum, self.weight_decay);
        let buffers = &mut self.buffers;
        FlatUpdate::apply(module, grads, |key: &str, _rank: usize, p: Tensor<1>, g: Tensor<1>| {
            let g = if wd > 0.0 { g + p.clone().mul_scalar(wd) } else { g };
            let b = match buffers.remove(key) {
                Some(b) => b.to_device(&p.device()).mul_scalar(mu) + g,
                None => g,
            };
            let p = p - b.clone().mul_scalar(lr);
            buffers.insert(key.to_string(), b);
            p
        })
    }

    /// The momentum buffers by `b.<path>`.
    pub fn state(&self) -> NamedParams {
        self.buffers.iter().map(|(k, b)| (format!("b.{k}"), NamedTensor::from_tensor(b.clone()))).collect()
    }

    /// Restores the buffers written by [`Sgd::state`] on `device`.
    pub fn load_state(&mut self, state: &NamedParams, device: &Device) {
        self.buffers = state
            .iter()
            .filter_map(|(k, t)| {
                let path = k.strip_prefix("b.")?;
                let b = Tensor::<1>::from_data(TensorData::new(t.values.clone(), [t.values.len()]), device);
                Some((path.to_string(), b))
            })
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_data::TinyLinear as Tiny;

    #[test]
    fn three_steps_match_the_hand_computed_momentum_update() {
        // loss = w x + b at x = 3: dL/dw = 3, dL/db = 1 at every step.
        let dev = crate::backend::cpu_device().autodiff();
        let mut model = Tiny::new(0.5, 0.1, &dev);
        let mut opt = Sgd::new(0.9, 0.0);
        let (lr, mut w, mut b, mut bw, mut bb) = (0.1f64, 0.5f64, 0.1f64, 0.0f64, 0.0f64);
        for t in 0..3 {
            let y = model.lin.forward(Tensor::<2>::from_floats([[3.0f32]], &dev)).sum();
            let grads = GradientsParams::from_grads(y.backward(), &model);
            model = opt.step(lr, model, grads);
            (bw, bb) = if t == 0 { (3.0, 1.0) } else { (0.9 * bw + 3.0, 0.9 * bb + 1.0) };
            w -= lr * bw;
            b -= lr * bb;
        }
        let got_w = f64::from(model.lin.weight.val().into_scalar::<f32>());
        let got_b = f64::from(model.lin.bias.as_ref().map(|p| p.val().into_scalar::<f32>()).unwrap_or(f32::NAN));
        assert!((got_w - w).abs() < 1e-5 && (got_b - b).abs() < 1e-5, "w {got_w} vs {w}, b {got_b} vs {b}");
        assert!((w - (0.5 - 0.1 * (3.0 + 5.7 + 8.13))).abs() < 1e-12, "hand check of the recurrence");
        let mut again = Sgd::new(0.9, 0.0);
        again.load_state(&opt.state(), &dev);
        assert_eq!(again.state(), opt.state(), "buffers survive a checkpoint");
    }
}
