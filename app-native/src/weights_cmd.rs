//! `amr --no-gui weights`: one sequence's focal weights as a heatmap picture or as numbers.

use std::path::PathBuf;

use amr_core::focal::{FocalConfig, Fusion, focal_weights};
use anyhow::Context;
use clap::{Args, ValueEnum};

use crate::inputs::load_dataset;

/// Arguments of `weights`.
#[derive(Args, Debug)]
pub struct WeightsArgs {
    /// An amr-skeleton-v1 file (`embedded` for the demo data).
    pub file: String,
    /// Index of the sequence.
    #[arg(long, default_value_t = 0)]
    pub sample: usize,
    /// Output: .png or .svg (heatmaps), .json or .csv (numbers).
    #[arg(long)]
    pub out: PathBuf,
    /// Window sizes n, comma separated.
    #[arg(long, value_delimiter = ',', default_value = "4,8,12")]
    pub windows: Vec<usize>,
    /// Curvature k of the weight function.
    #[arg(long, default_value_t = 0.01, allow_negative_numbers = true)]
    pub k: f32,
    /// Stabiliser eps of the weight function (m^2).
    #[arg(long, default_value_t = 1e-8, allow_negative_numbers = true)]
    pub eps: f32,
    /// How the window sizes are fused.
    #[arg(long, value_enum, default_value_t = FusionArg::Mean)]
    pub fusion: FusionArg,
}

/// `--fusion` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FusionArg {
    /// Mean over window sizes.
    Mean,
    /// Maximum over window sizes.
    Max,
}

/// Runs `weights`.
pub fn run(a: &WeightsArgs) -> anyhow::Result<()> {
    let ds = load_dataset(&a.file)?;
    let seq = ds.sequences.get(a.sample).with_context(|| {
        format!("--sample {}: the file has {} sequences (0..{})", a.sample, ds.len(), ds.len().saturating_sub(1))
    })?;
    let cfg = FocalConfig {
        windows: a.windows.clone(),
        k: a.k,
        eps: a.eps,
        fusion: match a.fusion {
            FusionArg::Mean => Fusion::Mean,
            FusionArg::Max => Fusion::Max,
        },
    };
    cfg.validate().map_err(|m| anyhow::anyhow!("{m}"))?;
    let fw = focal_weights(seq, &cfg);
    let ext = a.out.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "png" | "svg" => crate::weights_plot::plot(&ds, seq, &fw, &cfg, &a.out)?,
        "json" => crate::weights_plot::write_json(&ds, seq, &fw, &cfg, &a.out)?,
        "csv" => crate::weights_plot::write_csv(&ds, seq, &fw, &cfg, &a.out)?,
        other => {
            anyhow::bail!("--out {}: unknown extension `{other}`, expected .png, .svg, .json or .csv", a.out.display())
        }
    }
    println!(
        "wrote {} (sample {} `{}`, {} frames, windows {:?}, k {}, fusion {:?})",
        a.out.display(),
        a.sample,
        seq.name,
        seq.frames,
        cfg.windows,
        cfg.k,
        cfg.fusion
    );
    Ok(())
}
