//! `amr --no-gui import-mamp` and `amr --no-gui embed`.

use std::path::{Path, PathBuf};

use amr_core::backend::{DeviceChoice, resolve_device};
use amr_core::data::{parse_npy, write_npy_f32};
use amr_core::features::{eval_clips, pooled_features};
use amr_core::pretrain::parse_pretrain_config;
use anyhow::Context;
use clap::Args;

use crate::inputs::{import_mamp_checkpoint, load_dataset, load_model};

/// Arguments of `import-mamp`.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// A MAMP checkpoint (`checkpoint-N.pth` from MAMP's main_pretrain.py).
    pub checkpoint: PathBuf,
    /// The AMR checkpoint to write (.safetensors).
    pub out: PathBuf,
    /// A run config whose `[model]` the checkpoint must fit (default: read from the checkpoint).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// Arguments of `embed`.
#[derive(Args, Debug)]
pub struct EmbedArgs {
    /// An AMR checkpoint (.safetensors) or a MAMP checkpoint (.pth).
    pub checkpoint: PathBuf,
    /// An amr-skeleton-v1 dataset (`embedded` for the demo data) or an .npy batch (N, C, T, V, M).
    pub input: String,
    /// The features to write: .npy of shape (N, dim).
    #[arg(long)]
    pub out: PathBuf,
    /// Compute device.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
    /// Sequences per forward pass.
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
}

/// Runs `import-mamp`.
pub fn import(a: &ImportArgs) -> anyhow::Result<()> {
    let config = match &a.config {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            Some(parse_pretrain_config(&text, p)?)
        }
        None => None,
    };
    let (ckpt, note) = import_mamp_checkpoint(&a.checkpoint, config.as_ref())?;
    ckpt.save(&a.out)?;
    println!("wrote {} ({note})", a.out.display());
    Ok(())
}

/// Runs `embed`.
pub fn embed(a: &EmbedArgs) -> anyhow::Result<()> {
    let (device, device_name) = resolve_device(a.device);
    let (model, cfg) = load_model(&a.checkpoint, &device)?;
    let m = &cfg.model;
    let (x, shape) = if a.input.ends_with(".npy") {
        let p = Path::new(&a.input);
        let arr = parse_npy(&amr_core::io::read_file(p)?, p, "array")?;
        let [n, c, t, v, persons] = arr.shape[..] else {
            anyhow::bail!("{}: expected a 5-D array (N, C, T, V, M), found shape {:?}", p.display(), arr.shape);
        };
        if c != 3 || t != m.frames || v != m.joints {
            anyhow::bail!(
                "{}: shape {:?} does not fit the model: expected (N, 3, {}, {}, M)",
                p.display(),
                arr.shape,
                m.frames,
                m.joints
            );
        }
        if let Some(i) = arr.data.iter().position(|x| !x.is_finite()) {
            anyhow::bail!("{}: value {i} is not finite", p.display());
        }
        // (N, C, T, V, M) -> (N, M, T, V, C)
        let mut out = vec![0.0f32; arr.data.len()];
        for ni in 0..n {
            for ci in 0..c {
                for ti in 0..t {
                    for vi in 0..v {
                        for mi in 0..persons {
                            let src = (((ni * c + ci) * t + ti) * v + vi) * persons + mi;
                            let dst = (((ni * persons + mi) * t + ti) * v + vi) * c + ci;
                            out[dst] = arr.data[src];
                        }
                    }
                }
            }
        }
        (out, [n, persons, t, v, c])
    } else {
        let ds = load_dataset(&a.input)?;
        if ds.layout.joint_count() != m.joints {
            anyhow::bail!("{}: {} joints, the model expects {}", a.input, ds.layout.joint_count(), m.joints);
        }
        eval_clips(&ds, &cfg.clip)
    };
    let features = pooled_features(&model.encoder, &x, shape, &device, a.batch);
    let out = write_npy_f32(&[shape[0], m.dim], &features);
    amr_core::io::write_atomically(&a.out, &out)?;
    println!("wrote {} ({} x {} features, {device_name})", a.out.display(), shape[0], m.dim);
    Ok(())
}
