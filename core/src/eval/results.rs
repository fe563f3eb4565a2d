//! What an evaluation run reports: per-epoch accuracy and the final figures, as JSON and as a markdown
//! table. The last epoch is the result; the best epoch on the test set is reported beside it, labelled
//! as such, because the published code reports that maximum.

/// Top-1 and top-5 accuracy in percent.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Accuracy {
    /// Top-1, %.
    pub top1: f64,
    /// Top-5, %.
    pub top5: f64,
}

impl Accuracy {
    /// The accuracy of `scores` ([N, C] row-major) against `labels`.
    pub fn of_scores(scores: &[f32], classes: usize, labels: &[usize]) -> Self {
        let n = labels.len().max(1) as f64;
        let hits = |k: usize| {
            labels
                .iter()
                .enumerate()
                .filter(|&(i, &y)| {
                    scores.get(i * classes..(i + 1) * classes).is_some_and(|row| super::in_top_k(row, y, k))
                })
                .count() as f64
        };
        Self { top1: 100.0 * hits(1) / n, top5: 100.0 * hits(5) / n }
    }
}

/// One training epoch.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EpochReport {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss.
    pub loss: f64,
    /// Learning rate at the epoch's last step.
    pub lr: f64,
    /// Wall-clock seconds of the epoch (training and test).
    pub seconds: f64,
    /// Test accuracy after the epoch, of the model the run saves: the weight average once it has
    /// begun (`average_epochs`), else the current weights; either with its head's BatchNorm
    /// statistics recomputed on the training clips where `recompute_norm` asks for it.
    pub test: Accuracy,
    /// Test accuracy of the current weights with their own statistics, while the saved model is not
    /// them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<Accuracy>,
    /// Test accuracy of the current weights with recomputed BatchNorm statistics, while the saved
    /// model is a weight average with them (`average_epochs` and `recompute_norm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_norm: Option<Accuracy>,
}

/// The results file of a run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EvalResults {
    /// Protocol name.
    pub protocol: String,
    /// Dataset file.
    pub data: String,
    /// The pretrained encoder (empty: random initialisation).
    pub init: String,
    /// Training sequences (labelled ones, for semi-supervised runs).
    pub train_sequences: usize,
    /// Test sequences.
    pub test_sequences: usize,
    /// Classes.
    pub classes: usize,
    /// Epochs trained.
    pub epochs: usize,
    /// Accuracy of the final model.
    pub last: Accuracy,
    /// The best test epoch and its accuracy (what the published code reports).
    pub best_epoch: usize,
    /// Accuracy at `best_epoch`.
    pub best: Accuracy,
    /// Per epoch.
    pub history: Vec<EpochReport>,
}

impl EvalResults {
    /// The results of a kNN evaluation (no training epochs; shares turned into percent).
    pub fn knn(data: &str, init: &str, train: usize, test: usize, classes: usize, r: &super::KnnResult) -> Self {
        let acc = Accuracy { top1: 100.0 * r.top1, top5: 100.0 * r.top5 };
        Self {
            protocol: super::Protocol::Knn.name().into(),
            data: data.into(),
            init: init.into(),
            train_sequences: train,
            test_sequences: test,
            classes,
            epochs: 0,
            last: acc,
            best_epoch: 0,
            best: acc,
            history: Vec::new(),
        }
    }

    /// The markdown table of the run.
    pub fn markdown(&self) -> String {
        let init = if self.init.is_empty() { "random init".to_string() } else { format!("`{}`", self.init) };
        let mut s = String::from(
            "| protocol | data | encoder | train / test | epochs | top-1 | top-5 | best epoch (top-1) |\n|---|---|---|---|---|---|---|---|\n",
        );
        let best = if self.history.is_empty() {
            "-".to_string()
        } else {
            format!("{} ({:.2})", self.best_epoch, self.best.top1)
        };
        s.push_str(&format!(
            "| {} | `{}` | {init} | {} / {} | {} | {:.2} | {:.2} | {best} |\n",
            self.protocol,
            self.data,
            self.train_sequences,
            self.test_sequences,
            self.epochs,
            self.last.top1,
            self.last.top5
        ));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_counts_top1_and_top5_hits() {
        // 3 samples, 6 classes: sample 0 right, sample 1 label ranked 3rd, sample 2 label ranked 6th.
        let scores = [
            0.9, 0.1, 0.0, 0.0, 0.0, 0.0, //
            0.5, 0.4, 0.3, 0.2, 0.1, 0.0, //
            0.0, 0.5, 0.4, 0.3, 0.2, 0.1,
        ];
        let a = Accuracy::of_scores(&scores, 6, &[0, 2, 0]);
        assert!((a.top1 - 100.0 / 3.0).abs() < 1e-9 && (a.top5 - 200.0 / 3.0).abs() < 1e-9, "{a:?}");
    }
}
