//! Evaluation of frozen and fine-tuned encoders: the protocols users judge a pretraining method by
//! (linear probe, fine-tuning, semi-supervised, transfer, kNN; reference spec 3), MaskCLR's
//! attention-guided masking with its contrastive losses (spec 6), the robustness suite's
//! perturbations (the train/test splits live in [`crate::data::split`]).

pub mod agpm;
pub mod baseline;
pub mod classifier;
pub mod config;
pub mod contrastive;
mod error;
pub mod head;
pub mod knn;
pub mod perturb;
pub mod predict;
pub mod results;
pub mod test_windows;
pub mod trainer;

pub use crate::data::{Split, SplitIndices};
pub use baseline::{nearest_neighbour, raw_nearest_neighbour};
pub use config::{EvalConfig, Protocol, parse_eval_config};
pub use error::EvalError;
pub use knn::{KnnConfig, KnnResult, knn_classify};
pub use perturb::{Perturbation, robustness_suite};
pub use predict::{ClassScore, Prediction, Predictor};
pub use results::{Accuracy, EpochReport, EvalResults};
pub use trainer::{EvalCheckpoint, EvalState, EvalTrainer, classifier_scores, knn_eval, label_subset};

/// Whether `label` is among the `k` highest of `scores` (ties: the lower class index ranks first,
/// so a label tied with a competitor never gets the benefit of the doubt when it has the higher index).
pub fn in_top_k(scores: &[f32], label: usize, k: usize) -> bool {
    let Some(&own) = scores.get(label) else { return false };
    let ahead = scores.iter().enumerate().filter(|&(c, &s)| s > own || (s == own && c < label)).count();
    ahead < k
}

#[cfg(test)]
mod protocol_tests;

#[cfg(test)]
mod tests {
    use super::in_top_k;

    #[test]
    fn top_k_counts_classes_ranked_ahead() {
        let s = [0.1, 0.5, 0.3, 0.5];
        assert!(in_top_k(&s, 1, 1));
        assert!(!in_top_k(&s, 3, 1), "a tie goes to the lower index");
        assert!(in_top_k(&s, 3, 2));
        assert!(!in_top_k(&s, 0, 3) && in_top_k(&s, 0, 4));
        assert!(!in_top_k(&s, 9, 5), "an unknown label is never correct");
    }
}
