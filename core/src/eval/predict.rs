//! Classifying sequences with a trained evaluation run: [`Predictor`] rebuilds the model of an
//! evaluation checkpoint (a fine-tuned, supervised or MaskCLR classifier, or a linear probe) without
//! autodiff, checks that a dataset's joint layout fits it, and returns each sequence's top classes
//! with their softmax probabilities, on the test-time centre crop the protocols score.

use burn::prelude::*;
use burn::tensor::TensorData;

use super::EvalError;
use super::classifier::{Classifier, Probe, seeded_encoder};
use super::head::LinearHead;
use super::test_windows::{mean_over_windows, window_clips};
use super::trainer::{EvalCheckpoint, classifier_scores};
use crate::data::Dataset;
use crate::error::DeviceError;
use crate::features::pooled_features;
use crate::model::{NamedParams, load_params};

/// The trained part of a checkpoint.
enum Model {
    Classifier(Box<Classifier>),
    Probe(Box<Probe>),
}

/// One class of a prediction.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ClassScore {
    /// Class index.
    pub class: usize,
    /// Class name (`class <index>` when the checkpoint does not name its classes).
    pub name: String,
    /// Softmax probability.
    pub probability: f32,
}

/// The prediction for one sequence.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Prediction {
    /// The sequence's name in its file.
    pub sequence: String,
    /// Its label's name in the file, if it has one.
    pub label: Option<String>,
    /// The most probable classes, best first.
    pub top: Vec<ClassScore>,
}

/// A trained classifier ready to predict (no autodiff, evaluation mode).
pub struct Predictor {
    model: Model,
    config: super::EvalConfig,
    class_names: Vec<String>,
    joint_names: Vec<String>,
    device: Device,
}

/// The shape of parameter `key`, or an error naming it.
fn shape_of<'a>(params: &'a NamedParams, key: &str) -> Result<&'a [usize], EvalError> {
    params
        .get(key)
        .map(|t| t.shape.as_slice())
        .ok_or_else(|| EvalError::Checkpoint(format!("the checkpoint has no `{key}`")))
}

/// The `[rows, columns]` of a rank-2 parameter.
fn matrix_shape(params: &NamedParams, key: &str) -> Result<[usize; 2], EvalError> {
    match shape_of(params, key)? {
        &[r, c] if r > 0 && c > 0 => Ok([r, c]),
        s => Err(EvalError::Checkpoint(format!("`{key}` has shape {s:?}, expected a non-empty matrix"))),
    }
}

impl Predictor {
    /// The model of `ckpt` on `device`. Fails, with the reason, on a checkpoint whose config does not
    /// validate or whose parameters do not fit the model it describes.
    pub fn from_checkpoint(ckpt: &EvalCheckpoint, device: &Device) -> Result<Self, EvalError> {
        let config = ckpt.config.clone();
        config.model.check_fits(&ckpt.model, false)?;
        let m = &config.model;
        let model = if ckpt.model.contains_key("head.fc2.weight") {
            let [hidden, classes] = matrix_shape(&ckpt.model, "head.fc2.weight")?;
            let built = Classifier::new(m, hidden, classes, 0, device);
            Model::Classifier(Box::new(load_params(built, &ckpt.model).map_err(|(_, e)| e)?))
        } else if ckpt.model.contains_key("head.fc.weight") {
            let [_, classes] = matrix_shape(&ckpt.model, "head.fc.weight")?;
            let built =
                Probe { encoder: seeded_encoder(m, 0, device), head: LinearHead::new(m.dim, classes, 0, device) };
            Model::Probe(Box::new(load_params(built, &ckpt.model).map_err(|(_, e)| e)?))
        } else {
            return Err(EvalError::Checkpoint(
                "the checkpoint holds no classifier head (`head.fc2.weight` or `head.fc.weight`): \
                 predict needs a finetune, semi, transfer, supervised, maskclr or linear run"
                    .into(),
            ));
        };
        let (class_names, joint_names) = match &ckpt.state {
            Some(s) => (s.label_names.clone(), s.joint_names.clone()),
            None => (Vec::new(), Vec::new()),
        };
        Ok(Self { model, config, class_names, joint_names, device: device.clone() })
    }

    /// Number of classes the model scores.
    pub fn classes(&self) -> usize {
        match &self.model {
            Model::Classifier(c) => c.head.fc2.weight.dims()[1],
            Model::Probe(p) => p.head.fc.weight.dims()[1],
        }
    }

    /// The name of class `c` (`class c` when the checkpoint does not name it).
    pub fn class_name(&self, c: usize) -> String {
        match self.class_names.get(c) {
            Some(n) if self.class_names.len() == self.classes() => n.clone(),
            _ => format!("class {c}"),
        }
    }

    /// Whether `ds` has the joint layout the model was trained on: the joint count must match, and the
    /// joint names too when the checkpoint records them.
    pub fn check_layout(&self, ds: &Dataset) -> Result<(), EvalError> {
        let (want, have) = (self.config.model.joints, ds.layout.joint_count());
        if want != have {
            return Err(EvalError::Data(format!(
                "joint layout `{}` has {have} joints; the model was trained on {want} joints{}",
                ds.layout.name,
                self.trained_on()
            )));
        }
        if self.joint_names.len() == have
            && let Some(v) = (0..have).find(|&v| !self.joint_names[v].eq_ignore_ascii_case(&ds.layout.joint_names[v]))
        {
            return Err(EvalError::Data(format!(
                "joint {v} is `{}` in layout `{}`, but `{}` in the model's{}",
                ds.layout.joint_names[v],
                ds.layout.name,
                self.joint_names[v],
                self.trained_on()
            )));
        }
        Ok(())
    }

    fn trained_on(&self) -> String {
        let data = &self.config.data;
        if data.is_empty() { String::new() } else { format!(" (trained on {data})") }
    }

    /// Class probabilities [N, classes] (row-major) of the sequences `idx` of `ds`, each from its
    /// test-time centre crop (or the mean logits of its `[clip] test_windows`).
    pub fn probabilities(&self, ds: &Dataset, idx: &[usize]) -> Result<Vec<f32>, EvalError> {
        self.check_layout(ds)?;
        if let Some(&i) = idx.iter().find(|&&i| i >= ds.len()) {
            return Err(EvalError::Data(format!("sequence {i} is not in the dataset, which has {}", ds.len())));
        }
        let (x, shape) = window_clips(ds, idx, &self.config.clip);
        let logits = match &self.model {
            Model::Classifier(c) => classifier_scores(c, &x, shape, &self.device, 32)?,
            Model::Probe(p) => {
                let feats = pooled_features(&p.encoder, &x, shape, &self.device, 64);
                let f = Tensor::<2>::from_data(TensorData::new(feats, [shape[0], self.config.model.dim]), &self.device);
                p.head
                    .forward(f, false)
                    .into_data()
                    .convert::<f32>()
                    .try_to_vec::<f32>()
                    .map_err(|e| DeviceError(format!("reading the scores back: {e:?}")))?
            }
        };
        let c = self.classes();
        if logits.len() != shape[0] * c {
            return Err(DeviceError("the classifier's scores could not be read back".into()).into());
        }
        let logits = mean_over_windows(logits, self.config.clip.test_view_count(), c);
        Ok(logits.chunks(c).flat_map(softmax).collect())
    }

    /// The `k` most probable classes of each sequence of `idx` in `ds`.
    pub fn predict(&self, ds: &Dataset, idx: &[usize], k: usize) -> Result<Vec<Prediction>, EvalError> {
        let probs = self.probabilities(ds, idx)?;
        let c = self.classes();
        Ok(idx
            .iter()
            .zip(probs.chunks(c))
            .map(|(&i, p)| {
                let seq = &ds.sequences[i];
                let label = usize::try_from(seq.label)
                    .ok()
                    .map(|l| ds.label_names.get(l).cloned().unwrap_or_else(|| format!("class {l}")));
                let top = top_k(p, k)
                    .into_iter()
                    .map(|class| ClassScore { class, name: self.class_name(class), probability: p[class] })
                    .collect();
                Prediction { sequence: seq.name.clone(), label, top }
            })
            .collect())
    }
}

/// Softmax of one row of logits (shifted by its maximum; a non-finite row gives NaN probabilities).
fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = logits.iter().map(|&l| (l - max).exp()).collect();
    let sum: f32 = e.iter().sum();
    e.into_iter().map(|v| v / sum).collect()
}

/// Indices of the `k` largest values, largest first (ties: the lower index first).
fn top_k(p: &[f32], k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[b].total_cmp(&p[a]).then(a.cmp(&b)));
    order.truncate(k);
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_and_top_k_match_hand_values() {
        let p = softmax(&[0.0, (2.0f32).ln(), 0.0, (4.0f32).ln()]);
        for (got, want) in p.iter().zip([0.125, 0.25, 0.125, 0.5]) {
            assert!((got - want).abs() < 1e-6, "{p:?}");
        }
        assert_eq!(top_k(&p, 3), vec![3, 1, 0], "ties go to the lower index");
        assert_eq!(top_k(&p, 9).len(), 4);
    }
}
