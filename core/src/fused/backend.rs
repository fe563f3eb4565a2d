//! The fused operations as a burn backend extension: computed by [`super::gelu`],
//! [`super::layer_norm`] and [`super::attention`] on the `flex` CPU backend, with their own backward
//! pass under autodiff (burn's autodiff would otherwise write LayerNorm, softmax and attention out
//! as chains of elementwise operations and keep every intermediate).

use std::borrow::Cow;

use burn::backend::TensorMetadata;
use burn::backend::autodiff::checkpoint::{base::Checkpointer, strategy::CheckpointStrategy};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Flex, backend_extension};
use burn::tensor::{Shape, TensorData};

use super::attention::{self, Dims, Inputs};
use super::{gelu, layer_norm};

/// Operations the `flex` backend computes fused; see the functions in [`super`] for what they are.
#[backend_extension(Flex, Autodiff)]
pub trait FusedBackend: Backend {
    /// Exact GELU.
    fn fused_gelu(x: FloatTensor<Self>) -> FloatTensor<Self>;
    /// LayerNorm over the last axis.
    fn fused_layer_norm(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self>;
    /// Multi-head attention of [B, Nq, D] queries over [B, Nk, D] keys and values.
    fn fused_attention(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        heads: usize,
        scale: f64,
    ) -> FloatTensor<Self>;
}

/// A tensor's values in row-major order (borrowed when it is already laid out so).
fn values(t: &FlexTensor) -> Cow<'_, [f32]> {
    match t.as_slice::<f32>() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(t.to_contiguous().as_slice::<f32>().map(<[f32]>::to_vec).unwrap_or_default()),
    }
}

fn tensor(values: Vec<f32>, shape: Shape) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

fn attention_dims(q: &FlexTensor, k: &FlexTensor, heads: usize) -> Dims {
    let (qs, ks) = (q.shape(), k.shape());
    Dims { batch: qs[0], queries: qs[1], keys: ks[1], dim: qs[2], heads }
}

fn layer_norm_forward(
    x: &FlexTensor,
    gamma: &FlexTensor,
    beta: &FlexTensor,
    eps: f64,
) -> (FlexTensor, layer_norm::Stats) {
    let (y, stats) = layer_norm::forward(&values(x), &values(gamma), &values(beta), eps as f32);
    (tensor(y, x.shape()), stats)
}

fn attention_forward(
    q: &FlexTensor,
    k: &FlexTensor,
    v: &FlexTensor,
    heads: usize,
    scale: f64,
) -> (FlexTensor, FlexTensor) {
    let d = attention_dims(q, k, heads);
    let (out, lse) = attention::forward(Inputs { q: &values(q), k: &values(k), v: &values(v) }, d, scale as f32);
    (tensor(out, q.shape()), tensor(lse, Shape::new([d.batch, d.heads, d.queries])))
}

impl FusedBackend for Flex {
    fn fused_gelu(x: FlexTensor) -> FlexTensor {
        tensor(gelu::forward(&values(&x)), x.shape())
    }

    fn fused_layer_norm(x: FlexTensor, gamma: FlexTensor, beta: FlexTensor, epsilon: f64) -> FlexTensor {
        layer_norm_forward(&x, &gamma, &beta, epsilon).0
    }

    fn fused_attention(q: FlexTensor, k: FlexTensor, v: FlexTensor, heads: usize, scale: f64) -> FlexTensor {
        attention_forward(&q, &k, &v, heads, scale).0
    }
}

#[derive(Debug)]
struct GeluBackward;

impl Backward<Flex, 1> for GeluBackward {
    type State = FlexTensor;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<Flex>(&ops.node);
        let [x_node] = ops.parents;
        if let Some(node) = x_node {
            let x = ops.state;
            grads.register::<Flex>(node.id, tensor(gelu::backward(&values(&x), &values(&grad)), x.shape()));
        }
    }
}

#[derive(Debug)]
struct LayerNormBackward;

impl Backward<Flex, 3> for LayerNormBackward {
    /// The input, gamma and the per-row statistics.
    type State = (FlexTensor, FlexTensor, layer_norm::Stats);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = grads.consume::<Flex>(&ops.node);
        let (x, gamma, stats) = ops.state;
        let (dx, dgamma, dbeta) = layer_norm::backward(&values(&x), &values(&gamma), &stats, &values(&dy));
        let [x_node, gamma_node, beta_node] = ops.parents;
        for (node, grad, shape) in
            [(x_node, dx, x.shape()), (gamma_node, dgamma, gamma.shape()), (beta_node, dbeta, gamma.shape())]
        {
            if let Some(node) = node {
                grads.register::<Flex>(node.id, tensor(grad, shape));
            }
        }
    }
}

#[derive(Debug)]
struct AttentionBackward;

/// What attention's backward pass keeps: q, k, v, the output, the log-sum-exp, heads and scale.
#[derive(Debug, Clone)]
struct AttentionState {
    q: FlexTensor,
    k: FlexTensor,
    v: FlexTensor,
    out: FlexTensor,
    lse: FlexTensor,
    heads: usize,
    scale: f64,
}

impl Backward<Flex, 3> for AttentionBackward {
    type State = AttentionState;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dout = grads.consume::<Flex>(&ops.node);
        let s = ops.state;
        let d = attention_dims(&s.q, &s.k, s.heads);
        let (dq, dk, dv) = attention::backward(
            Inputs { q: &values(&s.q), k: &values(&s.k), v: &values(&s.v) },
            d,
            s.scale as f32,
            &values(&s.out),
            &values(&s.lse),
            &values(&dout),
        );
        let [q_node, k_node, v_node] = ops.parents;
        for (node, grad, shape) in [(q_node, dq, s.q.shape()), (k_node, dk, s.k.shape()), (v_node, dv, s.v.shape())] {
            if let Some(node) = node {
                grads.register::<Flex>(node.id, tensor(grad, shape));
            }
        }
    }
}

impl<C: CheckpointStrategy> FusedBackend for Autodiff<Flex, C> {
    fn fused_gelu(x: FloatTensor<Self>) -> FloatTensor<Self> {
        match GeluBackward.prepare::<C>([x.node()]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let x = x.into_primitive();
                let y = Flex::fused_gelu(x.clone());
                prep.finish(x, y)
            }
            OpsKind::UnTracked(prep) => prep.finish(Flex::fused_gelu(x.into_primitive())),
        }
    }

    fn fused_layer_norm(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self> {
        let prep = LayerNormBackward.prepare::<C>([x.node(), gamma.node(), beta.node()]).compute_bound().stateful();
        let (x, gamma, beta) = (x.into_primitive(), gamma.into_primitive(), beta.into_primitive());
        let (y, stats) = layer_norm_forward(&x, &gamma, &beta, epsilon);
        match prep {
            OpsKind::Tracked(prep) => prep.finish((x, gamma, stats), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }

    fn fused_attention(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        heads: usize,
        scale: f64,
    ) -> FloatTensor<Self> {
        let prep = AttentionBackward.prepare::<C>([q.node(), k.node(), v.node()]).compute_bound().stateful();
        let (q, k, v) = (q.into_primitive(), k.into_primitive(), v.into_primitive());
        let (out, lse) = attention_forward(&q, &k, &v, heads, scale);
        match prep {
            OpsKind::Tracked(prep) => prep.finish(AttentionState { q, k, v, out: out.clone(), lse, heads, scale }, out),
            OpsKind::UnTracked(prep) => prep.finish(out),
        }
    }
}
