//! The fused operations against burn's own, on the CPU backend under autodiff: values and the
//! gradients of every input.

use burn::prelude::*;
use burn::tensor::Distribution;

use super::*;

fn device() -> Device {
    Device::flex().autodiff()
}

fn random<const D: usize>(shape: [usize; D], seed: u64) -> Tensor<D> {
    let device = device();
    device.seed(seed);
    Tensor::random(shape, Distribution::Normal(0.0, 1.0), &device).require_grad()
}

/// Largest absolute difference, relative to the largest magnitude of `want` (at least 1).
fn rel_diff<const D: usize>(got: Tensor<D>, want: Tensor<D>) -> f32 {
    let scale = want.clone().abs().max().into_scalar::<f32>().max(1.0);
    (got - want).abs().max().into_scalar::<f32>() / scale
}

/// A loss that weights every output element differently, so that each gradient element is checked.
fn weighted_sum<const D: usize>(y: Tensor<D>, seed: u64) -> Tensor<1> {
    let w = random(y.dims(), seed).detach();
    (y * w).sum()
}

#[test]
fn gelu_matches_burns_value_and_gradient() {
    let x = random([3, 50, 40], 1).mul_scalar(3.0).detach().require_grad();
    let fused = gelu(x.clone());
    let plain = burn::tensor::activation::gelu(x.clone());
    assert!(rel_diff(fused.clone(), plain.clone()) < 1e-6);
    let g_fused = x.grad(&weighted_sum(fused, 9).backward()).expect("gradient");
    let g_plain = x.grad(&weighted_sum(plain, 9).backward()).expect("gradient");
    assert!(rel_diff(g_fused, g_plain) < 1e-6);
}

#[test]
fn layer_norm_matches_burns_value_and_gradients() {
    let x = random([2, 70, 24], 2).mul_scalar(2.0).add_scalar(0.5).detach().require_grad();
    let gamma = random([24], 3);
    let beta = random([24], 4);
    let fused = layer_norm(x.clone(), gamma.clone(), beta.clone(), 1e-5);
    let plain = burn::tensor::module::layer_norm(x.clone(), gamma.clone(), Some(beta.clone()), 1e-5);
    assert!(rel_diff(fused.clone(), plain.clone()) < 1e-5);
    let (gf, gp) = (weighted_sum(fused, 5).backward(), weighted_sum(plain, 5).backward());
    let dx = rel_diff(x.grad(&gf).expect("gradient"), x.grad(&gp).expect("gradient"));
    assert!(dx < 1e-5, "x: {dx}");
    for (name, t) in [("gamma", &gamma), ("beta", &beta)] {
        let d = rel_diff(t.grad(&gf).expect("gradient"), t.grad(&gp).expect("gradient"));
        assert!(d < 1e-5, "{name}: {d}");
    }
}

#[test]
fn attention_matches_the_written_out_one_in_value_and_gradients() {
    // Self-attention (Nq = Nk) and cross-attention (Nq != Nk), several heads.
    for (nq, nk, heads) in [(9, 9, 4), (13, 6, 2), (5, 70, 8)] {
        let (b, d) = (3, 32);
        let q = random([b, nq, d], 10);
        let k = random([b, nk, d], 11);
        let v = random([b, nk, d], 12);
        let scale = (d as f64 / heads as f64).powf(-0.5);
        let fused = attention(q.clone(), k.clone(), v.clone(), heads, scale);
        let plain = attention_with_weights(q.clone(), k.clone(), v.clone(), heads, scale).0;
        assert_eq!(fused.dims(), [b, nq, d]);
        assert!(rel_diff(fused.clone(), plain.clone()) < 1e-5, "values, {nq} x {nk}");
        let (gf, gp) = (weighted_sum(fused, 13).backward(), weighted_sum(plain, 13).backward());
        for (name, t) in [("q", &q), ("k", &k), ("v", &v)] {
            let diff = rel_diff(t.grad(&gf).expect("gradient"), t.grad(&gp).expect("gradient"));
            assert!(diff < 1e-5, "{name} gradient, {nq} x {nk}: {diff}");
        }
    }
}

#[test]
fn views_and_devices_without_autodiff_give_the_same_values() {
    // A transposed (non-contiguous) input and the plain CPU device take the same fused path.
    let x = random([6, 10], 20).detach();
    let t = x.transpose();
    let on_flex = gelu(Tensor::<2>::from_data(t.to_data(), &Device::flex()).transpose().transpose());
    let plain = burn::tensor::activation::gelu(t);
    assert!(rel_diff(Tensor::from_data(on_flex.to_data(), &device()), plain) < 1e-6);
}
