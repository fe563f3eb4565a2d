//! What the commands read besides their own arguments: datasets (`embedded` for the demo data), the
//! encoders that `--init` / `init =` name, and MAMP checkpoints.

use std::path::Path;

use amr_core::data::Dataset;
use amr_core::eval::EvalCheckpoint;
use amr_core::mamp::import_mamp;
use amr_core::model::{AmrModel, NamedParams, load_params};
use amr_core::pretrain::{Checkpoint, PretrainConfig};

/// Loads a dataset file, or the embedded demo data for `embedded`.
pub fn load_dataset(file: &str) -> anyhow::Result<Dataset> {
    if file == "embedded" {
        return Ok(amr_core::demo::demo_dataset()?);
    }
    let path = Path::new(file);
    Ok(amr_core::data::read_dataset_bytes(&amr_core::io::read_file(path)?, path)?)
}

/// Whether `path` names a MAMP (PyTorch) checkpoint, by its `.pth` / `.pt` extension.
fn is_mamp_checkpoint(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("pth") || e.eq_ignore_ascii_case("pt"))
}

/// The encoder parameters (`encoder.*`) and shape of a checkpoint: an AMR pretraining or evaluation
/// checkpoint (.safetensors), a MAMP one (.pth), or `embedded`, the model shipped in the binary.
pub fn load_init(path: &str) -> anyhow::Result<(NamedParams, amr_core::model::AmrConfig)> {
    if path == "embedded" {
        let c = amr_core::demo::demo_model()?;
        return Ok((c.model, c.config.model));
    }
    let p = Path::new(path);
    if is_mamp_checkpoint(p) {
        let (ckpt, _) = import_mamp_checkpoint(p, None)?;
        return Ok((ckpt.model, ckpt.config.model));
    }
    let bytes = amr_core::io::read_file(p)?;
    match Checkpoint::<PretrainConfig>::from_bytes(&bytes, p) {
        Ok(c) => Ok((c.model, c.config.model)),
        Err(first) => match EvalCheckpoint::from_bytes(&bytes, p) {
            Ok(c) => Ok((c.model, c.config.model)),
            Err(_) => Err(first.into()),
        },
    }
}

/// A MAMP checkpoint (.pth) as a model-only pretraining checkpoint (with `config`'s settings, its shapes
/// from the file), and a line describing what was imported.
pub fn import_mamp_checkpoint(path: &Path, config: Option<&PretrainConfig>) -> anyhow::Result<(Checkpoint, String)> {
    let imp = import_mamp(path, config.map(|c| &c.model))?;
    let mut cfg = config.cloned().unwrap_or_default();
    cfg.model = imp.config.clone();
    cfg.clip.frames = cfg.model.frames;
    let note = format!(
        "MAMP epoch {}, encoder {} x {} ({} heads), T {}, V {}, l {}; decoder {}{}",
        imp.epoch.map_or_else(|| "?".into(), |e| e.to_string()),
        cfg.model.encoder_depth,
        cfg.model.dim,
        cfg.model.heads,
        cfg.model.frames,
        cfg.model.joints,
        cfg.model.patch,
        if imp.decoder_imported { "imported (MAMP self-attention)" } else { "not imported (fresh AMR decoder)" },
        if imp.skipped.is_empty() { String::new() } else { format!("; skipped {}", imp.skipped.join(", ")) }
    );
    Ok((Checkpoint { config: cfg, model: imp.params, optimizer: Default::default(), state: None }, note))
}

/// Loads an AMR checkpoint, or imports a MAMP one (by its `.pth` / `.pt` extension), onto `device`.
pub fn load_model(path: &Path, device: &burn::prelude::Device) -> anyhow::Result<(AmrModel, PretrainConfig)> {
    let ckpt = if is_mamp_checkpoint(path) { import_mamp_checkpoint(path, None)?.0 } else { Checkpoint::load(path)? };
    let model = load_params(ckpt.config.model.init(device), &ckpt.model)
        .map_err(|(_, e)| anyhow::anyhow!("{}: does not fit its config: {e}", path.display()))?;
    Ok((model, ckpt.config))
}
