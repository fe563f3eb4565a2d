//! The checkpoint file: one safetensors file holding the model (`model.<path>`), the optimiser
//! moments (`optim.m.<path>`, `optim.v.<path>`) and, in its metadata, the resolved run config and the
//! trainer state (step, generator, data order). Written atomically; a model-only checkpoint (an import,
//! or features for evaluation) simply has no optimiser tensors and no trainer state.

use std::collections::HashMap;
use std::path::Path;

use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use super::PretrainConfig;
use crate::error::DataError;
use crate::model::{NamedParams, NamedTensor};
use crate::rng::SeededRng;

/// The format tag in the metadata.
pub const CHECKPOINT_FORMAT: &str = "amr-checkpoint-v1";

/// Where a run stands between two steps.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainerState {
    /// Optimiser steps done.
    pub steps: usize,
    /// The run's generator after the last step.
    pub rng: SeededRng,
    /// The current epoch's order of sequence indices.
    pub order: Vec<usize>,
    /// Position in `order`.
    pub cursor: usize,
    /// Sequences in the dataset the run trains on.
    pub dataset_len: usize,
}

/// A model with its config, and for a training checkpoint the optimiser and trainer state. The same
/// file holds pretraining runs (`C` = [`PretrainConfig`]) and evaluation runs (their own config and
/// state types).
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint<C = PretrainConfig, S = TrainerState> {
    /// The resolved run config (the model's shapes come from it).
    pub config: C,
    /// Model parameters by path.
    pub model: NamedParams,
    /// Optimiser moments by `m.<path>` / `v.<path>` (empty for a model-only checkpoint).
    pub optimizer: NamedParams,
    /// Trainer state (absent for a model-only checkpoint).
    pub state: Option<S>,
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

impl<C: serde::Serialize + serde::de::DeserializeOwned, S: serde::Serialize + serde::de::DeserializeOwned>
    Checkpoint<C, S>
{
    /// The file's bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, String> {
        let mut names = Vec::new();
        for (prefix, map) in [("model.", &self.model), ("optim.", &self.optimizer)] {
            for (k, t) in map {
                names.push((format!("{prefix}{k}"), t));
            }
        }
        let bytes: Vec<Vec<u8>> = names.iter().map(|(_, t)| f32_bytes(&t.values)).collect();
        let mut views = Vec::new();
        for ((name, t), b) in names.iter().zip(&bytes) {
            views.push((name.clone(), TensorView::new(Dtype::F32, t.shape.clone(), b).map_err(|e| e.to_string())?));
        }
        let mut meta = HashMap::new();
        meta.insert("format".to_string(), CHECKPOINT_FORMAT.to_string());
        meta.insert("config".to_string(), serde_json::to_string(&self.config).map_err(|e| e.to_string())?);
        if let Some(s) = &self.state {
            meta.insert("state".to_string(), serde_json::to_string(s).map_err(|e| e.to_string())?);
        }
        safetensors::serialize(views, Some(meta)).map_err(|e| e.to_string())
    }

    /// Reads a checkpoint; `path` names the file in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self, DataError> {
        let st = SafeTensors::deserialize(bytes)
            .map_err(|e| DataError::in_file(path, format!("not a safetensors checkpoint: {e}")))?;
        let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| DataError::in_file(path, e.to_string()))?;
        let meta = header.metadata().clone().unwrap_or_default();
        match meta.get("format").map(String::as_str) {
            Some(CHECKPOINT_FORMAT) => {}
            other => {
                return Err(DataError::at_field(
                    path,
                    "format",
                    format!("expected `{CHECKPOINT_FORMAT}`, found {other:?}"),
                ));
            }
        }
        let config_json = meta.get("config").ok_or_else(|| DataError::at_field(path, "config", "missing"))?;
        let config: C =
            serde_json::from_str(config_json).map_err(|e| DataError::at_field(path, "config", e.to_string()))?;
        let state = match meta.get("state") {
            Some(s) => Some(serde_json::from_str(s).map_err(|e| DataError::at_field(path, "state", e.to_string()))?),
            None => None,
        };
        let (mut model, mut optimizer) = (NamedParams::new(), NamedParams::new());
        for (name, view) in st.tensors() {
            if view.dtype() != Dtype::F32 {
                return Err(DataError::at_field(path, &name, format!("expected F32, found {:?}", view.dtype())));
            }
            let values = view.data().chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
            let t = NamedTensor { shape: view.shape().to_vec(), values };
            if let Some(k) = name.strip_prefix("model.") {
                model.insert(k.to_string(), t);
            } else if let Some(k) = name.strip_prefix("optim.") {
                optimizer.insert(k.to_string(), t);
            } else {
                return Err(DataError::at_field(path, &name, "expected a `model.` or `optim.` tensor"));
            }
        }
        Ok(Self { config, model, optimizer, state })
    }

    /// Writes the checkpoint atomically (a temporary file renamed over `path`).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn save(&self, path: &Path) -> Result<(), DataError> {
        let bytes = self.to_bytes().map_err(|e| DataError::in_file(path, e))?;
        crate::error::write_atomically(path, &bytes)
    }

    /// Reads a checkpoint file.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn load(path: &Path) -> Result<Self, DataError> {
        Self::from_bytes(&crate::error::read_file(path)?, path)
    }
}
