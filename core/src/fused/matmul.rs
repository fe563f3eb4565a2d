//! A bounds-checked matrix product over strided views of `f32` slices, computed by the `gemm` crate
//! (the kernels burn's CPU backend uses), single-threaded: the fused operations parallelise over
//! samples themselves.

/// A `rows x cols` matrix inside a slice: element `(i, j)` is `data[offset + i * row_stride + j *
/// col_stride]`. A transposed view is the same data with the strides swapped.
#[derive(Debug, Clone, Copy)]
pub struct View {
    /// Index of element (0, 0).
    pub offset: usize,
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Distance between consecutive rows.
    pub row_stride: usize,
    /// Distance between consecutive columns.
    pub col_stride: usize,
}

impl View {
    /// A dense row-major `rows x cols` matrix starting at `offset`.
    pub fn dense(offset: usize, rows: usize, cols: usize) -> Self {
        Self { offset, rows, cols, row_stride: cols, col_stride: 1 }
    }

    /// `rows x cols` starting at `offset`, rows `row_stride` apart (a column block of a wider matrix).
    pub fn block(offset: usize, rows: usize, cols: usize, row_stride: usize) -> Self {
        Self { offset, rows, cols, row_stride, col_stride: 1 }
    }

    /// The same elements, transposed.
    pub fn t(self) -> Self {
        Self { rows: self.cols, cols: self.rows, row_stride: self.col_stride, col_stride: self.row_stride, ..self }
    }

    /// One past the largest index the view reaches (0 for an empty view).
    fn end(&self) -> usize {
        if self.rows == 0 || self.cols == 0 {
            return 0;
        }
        self.offset + (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride + 1
    }
}

/// `dst = scale * lhs rhs`, or `dst += scale * lhs rhs` with `accumulate`.
///
/// # Panics
/// If the shapes do not chain or a view reaches past its slice (a caller's indexing defect).
pub fn gemm(
    (dst, d): (&mut [f32], View),
    (lhs, l): (&[f32], View),
    (rhs, r): (&[f32], View),
    scale: f32,
    accumulate: bool,
) {
    assert!(
        d.rows == l.rows && d.cols == r.cols && l.cols == r.rows,
        "gemm: [{}, {}] x [{}, {}] -> [{}, {}]",
        l.rows,
        l.cols,
        r.rows,
        r.cols,
        d.rows,
        d.cols
    );
    assert!(d.end() <= dst.len() && l.end() <= lhs.len() && r.end() <= rhs.len(), "gemm: a view leaves its slice");
    if d.rows == 0 || d.cols == 0 {
        return;
    }
    if l.cols == 0 {
        if !accumulate {
            for i in 0..d.rows {
                for j in 0..d.cols {
                    dst[d.offset + i * d.row_stride + j * d.col_stride] = 0.0;
                }
            }
        }
        return;
    }
    let s = |x: usize| x as isize;
    // SAFETY: the assertions above keep every element the three views address inside its slice; `dst`
    // is borrowed mutably and the inputs shared, so the output cannot alias them.
    #[allow(unsafe_code)]
    unsafe {
        gemm::gemm(
            d.rows,
            d.cols,
            l.cols,
            dst.as_mut_ptr().add(d.offset),
            s(d.col_stride),
            s(d.row_stride),
            accumulate,
            lhs.as_ptr().add(l.offset),
            s(l.col_stride),
            s(l.row_stride),
            rhs.as_ptr().add(r.offset),
            s(r.col_stride),
            s(r.row_stride),
            1.0,
            scale,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The product written out, for comparison.
    fn naive(lhs: &[f32], l: View, rhs: &[f32], r: View) -> Vec<f32> {
        let mut out = vec![0.0; l.rows * r.cols];
        for i in 0..l.rows {
            for j in 0..r.cols {
                out[i * r.cols + j] = (0..l.cols)
                    .map(|k| {
                        lhs[l.offset + i * l.row_stride + k * l.col_stride]
                            * rhs[r.offset + k * r.row_stride + j * r.col_stride]
                    })
                    .sum();
            }
        }
        out
    }

    #[test]
    fn strided_and_transposed_views_match_the_written_out_product() {
        let a: Vec<f32> = (0..60).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..60).map(|i| (i as f32 * 0.11).cos()).collect();
        // A 3 x 4 column block (columns 2..6 of a 5 x 10 matrix) times the transpose of a 5 x 4 block.
        let l = View::block(2, 3, 4, 10);
        let r = View::block(1, 5, 4, 12).t();
        let want = naive(&a, l, &b, r);
        let mut dst = vec![1.0; 3 * 5 + 2];
        let d = View::dense(2, 3, 5);
        gemm((&mut dst, d), (&a, l), (&b, r), 0.5, false);
        for (got, want) in dst[2..].iter().zip(&want) {
            assert!((got - 0.5 * want).abs() < 1e-5, "{got} vs {}", 0.5 * want);
        }
        assert_eq!(&dst[..2], &[1.0, 1.0], "elements outside the view are untouched");
        gemm((&mut dst, d), (&a, l), (&b, r), 0.5, true);
        for (got, want) in dst[2..].iter().zip(&want) {
            assert!((got - want).abs() < 1e-5, "accumulating: {got} vs {want}");
        }
    }

    #[test]
    #[should_panic(expected = "leaves its slice")]
    fn a_view_past_its_slice_is_refused() {
        let a = vec![0.0; 8];
        let mut dst = vec![0.0; 4];
        gemm((&mut dst, View::dense(0, 2, 2)), (&a, View::dense(0, 2, 4)), (&a, View::dense(1, 4, 2)), 1.0, false);
    }
}
