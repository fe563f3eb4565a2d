//! The checkpoint file: one safetensors file holding the model (`model.<path>`), the optimiser
//! moments (`optim.m.<path>`, `optim.v.<path>`) and, in its metadata, the resolved run config and the
//! trainer state (step, generator, data order). Written atomically; a model-only checkpoint (an import,
//! or features for evaluation) simply has no optimiser tensors and no trainer state.

use std::collections::HashMap;
use std::path::Path;

use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use crate::error::{ConfigError, DataError};
use crate::model::{NamedParams, NamedTensor};

/// The format tag in the metadata.
pub const CHECKPOINT_FORMAT: &str = "amr-checkpoint-v1";

/// The run config a checkpoint carries. A checkpoint file is user input (it can be edited by hand or
/// written by another version), so its config is checked again when the file is read.
pub trait CheckpointConfig {
    /// Checks every field, naming the first that is out of range (as the config files name it).
    fn validate(&self) -> Result<(), ConfigError>;
}

/// A model with its config, and for a training checkpoint the optimiser and trainer state. The same
/// file holds pretraining runs ([`crate::pretrain::Checkpoint`]) and evaluation runs
/// ([`crate::eval::EvalCheckpoint`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint<C, S> {
    /// The resolved run config (the model's shapes come from it).
    pub config: C,
    /// Model parameters by path.
    pub model: NamedParams,
    /// Optimiser moments by `m.<path>` / `v.<path>` (empty for a model-only checkpoint).
    pub optimizer: NamedParams,
    /// Trainer state (absent for a model-only checkpoint).
    pub state: Option<S>,
}

/// A checkpoint that cannot be encoded, or optimiser moments that do not fit their model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The tensors, the config or the trainer state could not be encoded.
    #[error("encoding the checkpoint: {0}")]
    Encode(String),
    /// The optimiser state has a first moment without its second.
    #[error("optimiser state lacks `{0}`")]
    MissingMoment(String),
}

/// CRC-32 over the tensors' names and bytes, in name order.
fn checksum<'a, B: AsRef<[u8]>>(tensors: impl Iterator<Item = (&'a str, B)>) -> u32 {
    let mut h = crc32fast::Hasher::new();
    for (name, bytes) in tensors {
        h.update(name.as_bytes());
        h.update(bytes.as_ref());
    }
    h.finalize()
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

impl<
    C: serde::Serialize + serde::de::DeserializeOwned + CheckpointConfig,
    S: serde::Serialize + serde::de::DeserializeOwned,
> Checkpoint<C, S>
{
    /// The file's bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, CheckpointError> {
        let mut names = Vec::new();
        for (prefix, map) in [("model.", &self.model), ("optim.", &self.optimizer)] {
            for (k, t) in map {
                names.push((format!("{prefix}{k}"), t));
            }
        }
        let bytes: Vec<Vec<u8>> = names.iter().map(|(_, t)| f32_bytes(&t.values)).collect();
        let mut views = Vec::new();
        for ((name, t), b) in names.iter().zip(&bytes) {
            views.push((
                name.clone(),
                TensorView::new(Dtype::F32, t.shape.clone(), b).map_err(|e| CheckpointError::Encode(e.to_string()))?,
            ));
        }
        let mut meta = HashMap::new();
        meta.insert("format".to_string(), CHECKPOINT_FORMAT.to_string());
        meta.insert(
            "crc32".to_string(),
            format!("{:08x}", checksum(names.iter().map(|(n, _)| n.as_str()).zip(&bytes))),
        );
        meta.insert(
            "config".to_string(),
            serde_json::to_string(&self.config).map_err(|e| CheckpointError::Encode(e.to_string()))?,
        );
        if let Some(s) = &self.state {
            meta.insert(
                "state".to_string(),
                serde_json::to_string(s).map_err(|e| CheckpointError::Encode(e.to_string()))?,
            );
        }
        safetensors::serialize(views, Some(meta)).map_err(|e| CheckpointError::Encode(e.to_string()))
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
        config.validate().map_err(|e| {
            let field = if e.field.is_empty() { "config".to_string() } else { format!("config.{}", e.field) };
            DataError::at_field(path, field, e.message)
        })?;
        let state = match meta.get("state") {
            Some(s) => Some(serde_json::from_str(s).map_err(|e| DataError::at_field(path, "state", e.to_string()))?),
            None => None,
        };
        let mut tensors = st.tensors();
        tensors.sort_by(|a, b| a.0.cmp(&b.0));
        // Checkpoints written before the checksum have none; every later one must match it.
        if let Some(want) = meta.get("crc32") {
            let got = format!("{:08x}", checksum(tensors.iter().map(|(n, v)| (n.as_str(), v.data()))));
            if &got != want {
                return Err(DataError::at_field(
                    path,
                    "crc32",
                    format!("the tensors' checksum is {got}, the file says {want}: the file is damaged"),
                ));
            }
        }
        let (mut model, mut optimizer) = (NamedParams::new(), NamedParams::new());
        for (name, view) in tensors {
            if view.dtype() != Dtype::F32 {
                return Err(DataError::at_field(path, &name, format!("expected F32, found {:?}", view.dtype())));
            }
            let values: Vec<f32> =
                view.data().chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
            if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                return Err(DataError::at_field(path, &name, format!("non-finite value {} at index {i}", values[i])));
            }
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
        let bytes = self.to_bytes().map_err(|e| DataError::in_file(path, e.to_string()))?;
        crate::io::write_atomically(path, &bytes)
    }

    /// Reads a checkpoint file.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn load(path: &Path) -> Result<Self, DataError> {
        Self::from_bytes(&crate::io::read_file(path)?, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AmrConfig;
    use crate::pretrain::{Checkpoint, PretrainConfig};

    fn small() -> Checkpoint {
        let config = PretrainConfig {
            model: AmrConfig::new().with_joints(3).with_frames(8).with_r(2).with_dim(8).with_heads(2).with_mlp(16),
            clip: crate::data::clip::ClipConfig { frames: 8, min_crop_frames: 4, ..Default::default() },
            ..PretrainConfig::default()
        };
        let model = crate::model::named_params(&config.model.init_seeded(&crate::backend::cpu_device(), 1));
        Checkpoint { config, model, optimizer: Default::default(), state: None }
    }

    #[test]
    fn a_damaged_or_non_finite_checkpoint_is_named() {
        let c = small();
        let bytes = c.to_bytes().unwrap();
        let p = Path::new("run/checkpoint.safetensors");
        let back = Checkpoint::<PretrainConfig>::from_bytes(&bytes, p).unwrap();
        assert_eq!(back.model, c.model);
        // One flipped bit in the last tensor's values: the checksum names the damage.
        let mut flipped = bytes.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0x10;
        let e = Checkpoint::<PretrainConfig>::from_bytes(&flipped, p).unwrap_err().to_string();
        assert!(e.contains("run/checkpoint.safetensors") && e.contains("`crc32`") && e.contains("damaged"), "{e}");
        // A NaN written with a valid checksum (a run that diverged): refused, the tensor named.
        let mut nan = c.clone();
        let key = nan.model.keys().next().unwrap().clone();
        nan.model.get_mut(&key).unwrap().values[0] = f32::NAN;
        let e = Checkpoint::<PretrainConfig>::from_bytes(&nan.to_bytes().unwrap(), p).unwrap_err().to_string();
        assert!(e.contains(&format!("`model.{key}`")) && e.contains("non-finite"), "{e}");
    }

    #[test]
    fn a_checkpoint_whose_config_is_out_of_range_is_named() {
        let p = Path::new("edited.safetensors");
        // A hand-edited NAT eps (the trainer and the reconstruction view would divide by it).
        let mut c = small();
        c.config.batch.nat_eps = -1.0;
        let e = Checkpoint::<PretrainConfig>::from_bytes(&c.to_bytes().unwrap(), p).unwrap_err().to_string();
        assert!(e.contains("edited.safetensors") && e.contains("config.batch.nat_eps") && e.contains("-1"), "{e}");
        // Shapes that do not fit together.
        let mut c = small();
        c.config.clip.frames = 12;
        let e = Checkpoint::<PretrainConfig>::from_bytes(&c.to_bytes().unwrap(), p).unwrap_err().to_string();
        assert!(e.contains("config.clip.frames") && e.contains("model.frames"), "{e}");
    }
}
