//! The raw-coordinate baseline every learned encoder has to beat: a 1-nearest-neighbour classifier on
//! the test-time clips themselves (centre crop, resized to T frames, centred on the first frame's root
//! joint), compared by Euclidean distance over all frames, persons, joints and axes. With
//! `[clip] test_windows` a test sequence's class scores are averaged over its windows, as the
//! classifiers' logits are.

use super::test_windows::{mean_over_windows, window_clips};
use super::trainer::labels_of;
use super::{EvalConfig, EvalError, KnnResult, SplitIndices};
use crate::data::Dataset;
use crate::features::centre_clips;

/// 1-NN by Euclidean distance. Classes are ranked by the distance of their nearest training sample, so
/// top-5 asks whether the true class is among the five classes with the nearest members.
///
/// # Shapes
/// `train`: [N, dim], `train_labels`: [N], `test`: [M, dim], `test_labels`: [M]; labels in 0..classes
pub fn nearest_neighbour(
    train: &[f32],
    train_labels: &[usize],
    test: &[f32],
    test_labels: &[usize],
    dim: usize,
    classes: usize,
) -> Result<KnnResult, EvalError> {
    super::knn::check_features(train, train_labels, test, test_labels, dim, classes)?;
    Ok(accuracy(&nearest_scores(train, train_labels, test, dim, classes), test_labels, classes))
}

/// Per query and class, minus the squared distance of the class's nearest training sample.
///
/// # Shapes
/// `train`: [N, dim], `train_labels`: [N], `test`: [M, dim] -> [M, classes] (row-major values)
fn nearest_scores(train: &[f32], train_labels: &[usize], test: &[f32], dim: usize, classes: usize) -> Vec<f32> {
    let mut scores = Vec::with_capacity(test.len() / dim.max(1) * classes);
    for q in test.chunks_exact(dim) {
        let mut nearest = vec![f32::INFINITY; classes];
        for (t, &c) in train.chunks_exact(dim).zip(train_labels) {
            let d: f32 = q.iter().zip(t).map(|(a, b)| (a - b) * (a - b)).sum();
            nearest[c] = nearest[c].min(d);
        }
        scores.extend(nearest.iter().map(|d| -d));
    }
    scores
}

/// Top-1 and top-5 (as fractions) of class scores [M, classes].
fn accuracy(scores: &[f32], labels: &[usize], classes: usize) -> KnnResult {
    let (mut top1, mut top5) = (0usize, 0usize);
    for (s, &label) in scores.chunks_exact(classes).zip(labels) {
        top1 += usize::from(super::in_top_k(s, label, 1));
        top5 += usize::from(super::in_top_k(s, label, 5));
    }
    let n = labels.len();
    KnnResult { top1: top1 as f64 / n as f64, top5: top5 as f64 / n as f64, samples: n }
}

/// The 1-NN baseline on the raw test-time clips of `split` (the clip settings of `config`): training
/// sequences by their centre crop, test sequences by their test windows (the centre crop unless
/// `test_windows` are given, then the mean of the windows' scores).
pub fn raw_nearest_neighbour(config: &EvalConfig, ds: &Dataset, split: &SplitIndices) -> Result<KnnResult, EvalError> {
    let (train, shape) = centre_clips(ds, &split.train, &config.clip);
    let (test, _) = window_clips(ds, &split.test, &config.clip);
    let dim = shape[1..].iter().product();
    let classes = ds.label_names.len().max(1);
    let (train_labels, test_labels) = (labels_of(ds, &split.train), labels_of(ds, &split.test));
    let windows = config.clip.test_view_count();
    let per_window: Vec<usize> = test_labels.iter().flat_map(|&l| std::iter::repeat_n(l, windows)).collect();
    super::knn::check_features(&train, &train_labels, &test, &per_window, dim, classes)?;
    let scores = mean_over_windows(nearest_scores(&train, &train_labels, &test, dim, classes), windows, classes);
    Ok(accuracy(&scores, &test_labels, classes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_sample_decides_and_classes_rank_by_their_nearest_member() {
        // Train: class 0 at (0, 0) and (10, 0); class 1 at (3, 0); class 2 at (0, 5).
        let train = [0.0, 0.0, 10.0, 0.0, 3.0, 0.0, 0.0, 5.0];
        let labels = [0, 0, 1, 2];
        // (9, 0): nearest is class 0's (10, 0) at 1; class 1 at 6 -> class 0. (2, 0): class 1 at 1.
        let r = nearest_neighbour(&train, &labels, &[9.0, 0.0, 2.0, 0.0], &[0, 1], 2, 3).unwrap();
        assert_eq!((r.top1, r.top5, r.samples), (1.0, 1.0, 2));
        // (0, 4) labelled 1: class 2 is nearest (1), class 0 next (16), class 1 last (25).
        let r = nearest_neighbour(&train, &labels, &[0.0, 4.0], &[1], 2, 3).unwrap();
        assert_eq!(r.top1, 0.0);
        assert!(nearest_neighbour(&train, &labels, &[0.0], &[1], 2, 3).unwrap_err().to_string().contains("do not fit"));
        assert!(
            nearest_neighbour(&train, &[0, 0, 1, 7], &[0.0, 0.0], &[1], 2, 3)
                .unwrap_err()
                .to_string()
                .contains("label 7")
        );
    }
}
