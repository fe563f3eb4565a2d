//! kNN classification on frozen features: cosine similarity to every training feature, the k nearest
//! vote for their class with weight exp(similarity / temperature) (the weighted kNN of Wu et al. 2018,
//! "Unsupervised feature learning via non-parametric instance discrimination"), classes ranked by
//! their summed votes. Neither MAMP nor MaskCLR has a kNN protocol; k = 20 and temperature 0.07 are
//! our defaults, both configurable.

use super::EvalError;
use crate::error::ConfigError;

/// kNN settings.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KnnConfig {
    /// Neighbours that vote.
    pub k: usize,
    /// Vote weight exp(cos / temperature); a large temperature gives plain majority voting.
    pub temperature: f32,
}

impl Default for KnnConfig {
    fn default() -> Self {
        Self { k: 20, temperature: 0.07 }
    }
}

/// kNN accuracy on a test set.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct KnnResult {
    /// Share of test samples whose class ranks first.
    pub top1: f64,
    /// Share whose class ranks among the first five.
    pub top5: f64,
    /// Test samples scored.
    pub samples: usize,
}

fn normalised(x: &[f32], dim: usize) -> Vec<f32> {
    let mut out = x.to_vec();
    for row in out.chunks_exact_mut(dim) {
        let n = row.iter().map(|v| v * v).sum::<f32>().sqrt();
        if n > 0.0 {
            row.iter_mut().for_each(|v| *v /= n);
        }
    }
    out
}

/// Checks that features and labels of a nearest-neighbour classifier fit together: `dim` values per
/// label, labels below `classes`, at least one training and one test sample.
pub(crate) fn check_features(
    train: &[f32],
    train_labels: &[usize],
    test: &[f32],
    test_labels: &[usize],
    dim: usize,
    classes: usize,
) -> Result<(), EvalError> {
    if dim == 0 || train.len() != train_labels.len() * dim || test.len() != test_labels.len() * dim {
        return Err(EvalError::Data(format!(
            "features do not fit: {} train values for {} labels, {} test values for {} labels, dim {dim}",
            train.len(),
            train_labels.len(),
            test.len(),
            test_labels.len()
        )));
    }
    if let Some(l) = train_labels.iter().chain(test_labels).find(|&&l| l >= classes) {
        return Err(EvalError::Data(format!("label {l} is not below the class count {classes}")));
    }
    if train_labels.is_empty() || test_labels.is_empty() {
        return Err(EvalError::Data(
            "a nearest-neighbour classifier needs at least one training and one test sample".into(),
        ));
    }
    Ok(())
}

/// Classifies every test feature by its k nearest training features.
///
/// # Shapes
/// `train`: [N, dim], `train_labels`: [N], `test`: [M, dim], `test_labels`: [M]; labels in 0..classes
pub fn knn_classify(
    train: &[f32],
    train_labels: &[usize],
    test: &[f32],
    test_labels: &[usize],
    dim: usize,
    classes: usize,
    cfg: &KnnConfig,
) -> Result<KnnResult, EvalError> {
    check_features(train, train_labels, test, test_labels, dim, classes)?;
    if cfg.k == 0 || !(cfg.temperature.is_finite() && cfg.temperature > 0.0) {
        return Err(ConfigError::from_message(format!(
            "knn.k = {}, knn.temperature = {}: expected k >= 1 and temperature > 0",
            cfg.k, cfg.temperature
        ))
        .into());
    }
    let (tr, te) = (normalised(train, dim), normalised(test, dim));
    let k = cfg.k.min(train_labels.len());
    let (mut top1, mut top5) = (0usize, 0usize);
    let mut sims: Vec<(f32, usize)> = Vec::with_capacity(train_labels.len());
    for (q, &label) in te.chunks_exact(dim).zip(test_labels) {
        sims.clear();
        sims.extend(
            tr.chunks_exact(dim).zip(train_labels).map(|(t, &c)| (q.iter().zip(t).map(|(a, b)| a * b).sum(), c)),
        );
        // The k most similar (order among equal similarities is unspecified).
        sims.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0));
        let mut votes = vec![0.0f32; classes];
        for &(s, c) in &sims[..k] {
            votes[c] += ((s - 1.0) / cfg.temperature).exp(); // exp(s / t) scaled by exp(-1 / t): same ranking
        }
        top1 += usize::from(super::in_top_k(&votes, label, 1));
        top5 += usize::from(super::in_top_k(&votes, label, 5));
    }
    let n = test_labels.len();
    Ok(KnnResult { top1: top1 as f64 / n as f64, top5: top5 as f64 / n as f64, samples: n })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separable_clusters_are_classified_perfectly() {
        // Three classes along three axes, with small off-axis noise.
        let mut train = Vec::new();
        let mut labels = Vec::new();
        for i in 0..30 {
            let c = i % 3;
            let mut f = [0.05 * ((i * 7 % 5) as f32 - 2.0); 3];
            f[c] = 1.0 + 0.1 * (i % 4) as f32;
            train.extend(f);
            labels.push(c);
        }
        let test = [0.9, 0.1, 0.0, 0.0, 2.0, 0.3, -0.1, 0.0, 0.7];
        let r = knn_classify(&train, &labels, &test, &[0, 1, 2], 3, 3, &KnnConfig { k: 5, temperature: 0.1 }).unwrap();
        assert_eq!((r.top1, r.top5, r.samples), (1.0, 1.0, 3));
    }

    #[test]
    fn weighted_votes_match_a_hand_computed_case() {
        // Query (1, 0). Train: class 0 at cos 1.0; class 1 twice at cos 0.8 (vectors (0.8, 0.6)).
        // k = 3. Temperature 0.1: class 0 gets e^10, class 1 gets 2 e^8 -> class 0 wins (e^2 > 2).
        // Temperature 1: e^1 = 2.72 vs 2 e^0.8 = 4.45 -> class 1 wins.
        let train = [1.0, 0.0, 0.8, 0.6, 0.8, 0.6];
        let labels = [0, 1, 1];
        let run = |t| knn_classify(&train, &labels, &[1.0, 0.0], &[0], 2, 2, &KnnConfig { k: 3, temperature: t });
        assert_eq!(run(0.1).unwrap().top1, 1.0);
        assert_eq!(run(1.0).unwrap().top1, 0.0);
        assert_eq!(run(1.0).unwrap().top5, 1.0, "two classes: always in the top five");
        // k = 1: only the nearest votes.
        let one = knn_classify(&train, &labels, &[0.8, 0.6], &[1], 2, 2, &KnnConfig { k: 1, temperature: 1.0 });
        assert_eq!(one.unwrap().top1, 1.0);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let c = KnnConfig::default();
        assert!(
            knn_classify(&[1.0, 0.0], &[0], &[1.0], &[0], 2, 1, &c).unwrap_err().to_string().contains("do not fit")
        );
        assert!(
            knn_classify(&[1.0, 0.0], &[3], &[1.0, 0.0], &[0], 2, 2, &c).unwrap_err().to_string().contains("label 3")
        );
        let zero = KnnConfig { k: 0, ..c };
        assert!(
            knn_classify(&[1.0, 0.0], &[0], &[1.0, 0.0], &[0], 2, 1, &zero).unwrap_err().to_string().contains("knn.k")
        );
    }
}
