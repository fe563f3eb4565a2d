//! AdamW with decoupled weight decay (PyTorch's `torch.optim.AdamW`, which MAMP uses), with its
//! moments held by parameter path so that a checkpoint can store them and a resumed run continues
//! bit for bit. Weight decay skips 1-D parameters (biases, LayerNorm), as MAMP's param groups do.
//!
//! Per parameter p with gradient g at step t (1-based):
//! `p <- p (1 - lr wd)`, `m <- b1 m + (1 - b1) g`, `v <- b2 v + (1 - b2) g^2`,
//! `p <- p - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)`.

use std::collections::BTreeMap;

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::TensorData;

use super::{CheckpointError, FlatUpdate};
use crate::model::{NamedParams, NamedTensor};

/// AdamW hyper-parameters and state.
pub struct AdamW {
    /// First-moment decay.
    pub beta1: f64,
    /// Second-moment decay.
    pub beta2: f64,
    /// Denominator epsilon.
    pub eps: f64,
    /// Decoupled weight decay for parameters of rank 2 and more.
    pub weight_decay: f64,
    step: u64,
    moments: BTreeMap<String, (Tensor<1>, Tensor<1>)>,
}

impl AdamW {
    /// A fresh optimiser.
    pub fn new(beta1: f64, beta2: f64, eps: f64, weight_decay: f64) -> Self {
        Self { beta1, beta2, eps, weight_decay, step: 0, moments: BTreeMap::new() }
    }

    /// Updates done so far.
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// Applies one update with learning rate `lr` to every parameter that has a gradient.
    pub fn step<M: Module>(&mut self, lr: f64, module: M, grads: GradientsParams) -> M {
        self.step_scaled(lr, module, grads, &|_| 1.0)
    }

    /// One update where the parameter at `path` uses the learning rate `lr * scale(path)` (layer-wise
    /// learning-rate decay; its weight decay scales with it, as in PyTorch's parameter groups).
    pub fn step_scaled<M: Module>(
        &mut self,
        lr: f64,
        module: M,
        grads: GradientsParams,
        scale: &dyn Fn(&str) -> f64,
    ) -> M {
        self.step += 1;
        let (b1, b2, eps, wd) = (self.beta1, self.beta2, self.eps, self.weight_decay);
        let t = self.step as i32;
        let moments = &mut self.moments;
        FlatUpdate::apply(module, grads, |key: &str, rank: usize, p: Tensor<1>, g: Tensor<1>| {
            let lr = lr * scale(key);
            let (m, v) = match moments.remove(key) {
                Some((m, v)) => (m.to_device(&p.device()), v.to_device(&p.device())),
                None => (g.zeros_like(), g.zeros_like()),
            };
            let m = m.mul_scalar(b1) + g.clone().mul_scalar(1.0 - b1);
            let v = v.mul_scalar(b2) + g.square().mul_scalar(1.0 - b2);
            let m_hat = m.clone().div_scalar(1.0 - b1.powi(t));
            let v_hat = v.clone().div_scalar(1.0 - b2.powi(t));
            let decay = if rank > 1 { lr * wd } else { 0.0 };
            let p = p.mul_scalar(1.0 - decay) - (m_hat / (v_hat.sqrt().add_scalar(eps))).mul_scalar(lr);
            moments.insert(key.to_string(), (m, v));
            p
        })
    }

    /// The moments by `m.<path>` / `v.<path>` (a blocking read-back; the browser awaits
    /// [`Self::state_async`]).
    pub fn state(&self) -> NamedParams {
        let mut out = NamedParams::new();
        for (k, (m, v)) in &self.moments {
            out.insert(format!("m.{k}"), NamedTensor::from_tensor(m.clone()));
            out.insert(format!("v.{k}"), NamedTensor::from_tensor(v.clone()));
        }
        out
    }

    /// The moments of [`Self::state`], read back from the device without blocking.
    pub async fn state_async(&self) -> Result<NamedParams, crate::DeviceError> {
        let mut flat = BTreeMap::new();
        for (k, (m, v)) in &self.moments {
            flat.insert(format!("m.{k}"), (m.dims().to_vec(), m.clone()));
            flat.insert(format!("v.{k}"), (v.dims().to_vec(), v.clone()));
        }
        crate::model::read_back_async(flat).await
    }

    /// Restores the moments written by [`AdamW::state`] and the step count, on `device`.
    pub fn load_state(&mut self, state: &NamedParams, steps: u64, device: &Device) -> Result<(), CheckpointError> {
        let mut moments = BTreeMap::new();
        for (k, t) in state {
            let Some(path) = k.strip_prefix("m.") else { continue };
            let v =
                state.get(&format!("v.{path}")).ok_or_else(|| CheckpointError::MissingMoment(format!("v.{path}")))?;
            let flat =
                |t: &NamedTensor| Tensor::<1>::from_data(TensorData::new(t.values.clone(), [t.values.len()]), device);
            moments.insert(path.to_string(), (flat(t), flat(v)));
        }
        self.moments = moments;
        self.step = steps;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_data::TinyLinear as Tiny;

    #[test]
    fn two_steps_match_the_hand_computed_update() {
        // y = w x + b with w [1x1] = 0.5, b = 0.1, x = 2, loss = y; dL/dw = 2, dL/db = 1 at every step.
        let dev = crate::backend::cpu_device().autodiff();
        let mut model = Tiny::new(0.5, 0.1, &dev);
        let mut opt = AdamW::new(0.9, 0.95, 1e-8, 0.05);
        let (lr, mut w, mut b) = (0.01f64, 0.5f64, 0.1f64);
        let (mut mw, mut vw, mut mb, mut vb) = (0.0f64, 0.0, 0.0, 0.0);
        for t in 1..=2 {
            let y = model.lin.forward(Tensor::<2>::from_floats([[2.0f32]], &dev)).sum();
            let grads = GradientsParams::from_grads(y.backward(), &model);
            model = opt.step(lr, model, grads);
            let (gw, gb) = (2.0, 1.0);
            mw = 0.9 * mw + 0.1 * gw;
            vw = 0.95 * vw + 0.05 * gw * gw;
            mb = 0.9 * mb + 0.1 * gb;
            vb = 0.95 * vb + 0.05 * gb * gb;
            let c1 = 1.0 - 0.9f64.powi(t);
            let c2 = 1.0 - 0.95f64.powi(t);
            w = w * (1.0 - lr * 0.05) - lr * (mw / c1) / ((vw / c2).sqrt() + 1e-8);
            b -= lr * (mb / c1) / ((vb / c2).sqrt() + 1e-8); // 1-D: no decay
        }
        let got_w = model.lin.weight.val().into_scalar::<f32>() as f64;
        let got_b = model.lin.bias.as_ref().unwrap().val().into_scalar::<f32>() as f64;
        assert!((got_w - w).abs() < 1e-6, "w {got_w} vs {w}");
        assert!((got_b - b).abs() < 1e-6, "b {got_b} vs {b}");
        assert!(model.lin.weight.val().is_require_grad(), "updated parameters stay trainable");
        assert_eq!(opt.state().len(), 4);
    }
}
