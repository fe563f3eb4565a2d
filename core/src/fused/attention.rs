//! Multi-head scaled dot-product attention over `f32` buffers, forward and backward, one sample per
//! parallel task. The heads are column blocks of the projections' [N, D] rows, so no head split,
//! transpose or copy is made; the [Nq, Nk] scores of one head live only in a per-task buffer, and
//! the backward pass recomputes them from each query row's log-sum-exp instead of storing them.

use rayon::prelude::*;

use super::matmul::{View, gemm};

/// The sizes of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dims {
    /// Samples.
    pub batch: usize,
    /// Query rows per sample.
    pub queries: usize,
    /// Key (and value) rows per sample.
    pub keys: usize,
    /// Width of the projections (heads x head width).
    pub dim: usize,
    /// Heads.
    pub heads: usize,
}

impl Dims {
    fn head_dim(&self) -> usize {
        self.dim / self.heads
    }
}

/// The inputs: queries [B, Nq, D], keys and values [B, Nk, D], row-major.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// Queries.
    pub q: &'a [f32],
    /// Keys.
    pub k: &'a [f32],
    /// Values.
    pub v: &'a [f32],
}

/// scores = scale q k^T for one head of one sample, into `s` ([Nq, Nk]).
fn scores(s: &mut [f32], x: Inputs<'_>, d: Dims, b: usize, h: usize, scale: f32) {
    let dh = d.head_dim();
    let q = View::block(b * d.queries * d.dim + h * dh, d.queries, dh, d.dim);
    let k = View::block(b * d.keys * d.dim + h * dh, d.keys, dh, d.dim);
    gemm((s, View::dense(0, d.queries, d.keys)), (x.q, q), (x.k, k.t()), scale, false);
}

/// softmax(scale q k^T) v per head, and each query row's log-sum-exp of the scaled scores.
///
/// # Shapes
/// `x.q`: [B, Nq, D], `x.k`, `x.v`: [B, Nk, D] -> ([B, Nq, D], [B, H, Nq])
pub fn forward(x: Inputs<'_>, d: Dims, scale: f32) -> (Vec<f32>, Vec<f32>) {
    let dh = d.head_dim();
    let mut out = vec![0.0; d.batch * d.queries * d.dim];
    let mut lse = vec![0.0; d.batch * d.heads * d.queries];
    out.par_chunks_mut(d.queries * d.dim).zip(lse.par_chunks_mut(d.heads * d.queries)).enumerate().for_each(
        |(b, (out, lse))| {
            let mut s = vec![0.0; d.queries * d.keys];
            for h in 0..d.heads {
                scores(&mut s, x, d, b, h, scale);
                for (row, l) in s.chunks_mut(d.keys).zip(&mut lse[h * d.queries..(h + 1) * d.queries]) {
                    let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
                    let mut sum = 0.0;
                    for v in row.iter_mut() {
                        *v = (*v - max).exp();
                        sum += *v;
                    }
                    let inv = 1.0 / sum;
                    row.iter_mut().for_each(|v| *v *= inv);
                    *l = max + sum.ln();
                }
                let v = View::block(b * d.keys * d.dim + h * dh, d.keys, dh, d.dim);
                gemm(
                    (out, View::block(h * dh, d.queries, dh, d.dim)),
                    (&s, View::dense(0, d.queries, d.keys)),
                    (x.v, v),
                    1.0,
                    false,
                );
            }
        },
    );
    (out, lse)
}

/// The gradients of q, k and v for the output gradient `dout`, from the forward pass's output and
/// log-sum-exp.
///
/// # Shapes
/// `out`, `dout`: [B, Nq, D], `lse`: [B, H, Nq] -> ([B, Nq, D], [B, Nk, D], [B, Nk, D])
pub fn backward(
    x: Inputs<'_>,
    d: Dims,
    scale: f32,
    out: &[f32],
    lse: &[f32],
    dout: &[f32],
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let dh = d.head_dim();
    let (nq, nk) = (d.queries, d.keys);
    let mut dq = vec![0.0; d.batch * nq * d.dim];
    let mut dk = vec![0.0; d.batch * nk * d.dim];
    let mut dv = vec![0.0; d.batch * nk * d.dim];
    dq.par_chunks_mut(nq * d.dim)
        .zip(dk.par_chunks_mut(nk * d.dim).zip(dv.par_chunks_mut(nk * d.dim)))
        .enumerate()
        .for_each(|(b, (dq, (dk, dv)))| {
            let mut p = vec![0.0; nq * nk];
            let mut ds = vec![0.0; nq * nk];
            let square = View::dense(0, nq, nk);
            for h in 0..d.heads {
                let q_rows = View::block(b * nq * d.dim + h * dh, nq, dh, d.dim);
                let kv_rows = View::block(b * nk * d.dim + h * dh, nk, dh, d.dim);
                let local_q = View::block(h * dh, nq, dh, d.dim);
                let local_kv = View::block(h * dh, nk, dh, d.dim);
                // P = exp(scale q k^T - lse).
                scores(&mut p, x, d, b, h, scale);
                for (row, &l) in p.chunks_mut(nk).zip(&lse[(b * d.heads + h) * nq..(b * d.heads + h + 1) * nq]) {
                    row.iter_mut().for_each(|v| *v = (*v - l).exp());
                }
                // dV = P^T dO; dP = dO V^T.
                gemm((dv, local_kv), (&p, square.t()), (dout, q_rows), 1.0, false);
                gemm((&mut ds, square), (dout, q_rows), (x.v, kv_rows.t()), 1.0, false);
                // dS = P (dP - rowsum(dO o O)).
                for (i, (ds_row, p_row)) in ds.chunks_mut(nk).zip(p.chunks(nk)).enumerate() {
                    let at = b * nq * d.dim + i * d.dim + h * dh;
                    let delta: f32 = dout[at..at + dh].iter().zip(&out[at..at + dh]).map(|(g, o)| g * o).sum();
                    ds_row.iter_mut().zip(p_row).for_each(|(g, &p)| *g = p * (*g - delta));
                }
                // dQ = scale dS K; dK = scale dS^T Q.
                gemm((dq, local_q), (&ds, square), (x.k, kv_rows), scale, false);
                gemm((dk, local_kv), (&ds, square.t()), (x.q, q_rows), scale, false);
            }
        });
    (dq, dk, dv)
}
