//! `amr --no-gui predict CKPT FILE...`: the classes a trained evaluation run gives each sequence of
//! dataset files, as a table or as JSON.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use amr_core::backend::{DeviceChoice, resolve_device};
use amr_core::eval::{EvalCheckpoint, Prediction, Predictor};
use anyhow::Context;
use clap::Args;

/// Arguments of `predict`.
#[derive(Args, Debug)]
pub struct PredictArgs {
    /// A classifier: the run folder of `finetune`, `semi`, `transfer`, `supervised`, `maskclr` or
    /// `linear`, or its `eval.safetensors`.
    pub checkpoint: PathBuf,
    /// Dataset files to classify (.safetensors, .bvh, .npz; `embedded` for the demo data).
    #[arg(required = true)]
    pub files: Vec<String>,
    /// How many classes to list per sequence.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..))]
    pub top: u16,
    /// Print JSON (one object per file) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Compute device: auto, gpu (wgpu) or cpu.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
}

/// The predictions of one file.
#[derive(Debug, serde::Serialize)]
struct FilePredictions {
    file: String,
    sequences: Vec<Prediction>,
}

/// Loads the classifier of a run folder or checkpoint file.
fn load_predictor(path: &Path, device: &amr_core::backend::Device) -> anyhow::Result<Predictor> {
    let file = crate::eval_cmd::checkpoint_file(path);
    let ckpt = EvalCheckpoint::load(&file).with_context(|| {
        format!("{}: not an evaluation checkpoint (predict needs a trained classifier)", file.display())
    })?;
    Predictor::from_checkpoint(&ckpt, device).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))
}

/// Runs `predict`.
pub fn run(a: &PredictArgs) -> anyhow::Result<()> {
    let (device, device_name) = resolve_device(a.device);
    let predictor = load_predictor(&a.checkpoint, &device)?;
    eprintln!("{}: {} classes, on {device_name}", a.checkpoint.display(), predictor.classes());
    let mut all = Vec::new();
    for file in &a.files {
        let ds = crate::inputs::load_dataset(file)?;
        let idx: Vec<usize> = (0..ds.len()).collect();
        let sequences = predictor.predict(&ds, &idx, usize::from(a.top)).map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
        all.push(FilePredictions { file: file.clone(), sequences });
    }
    let out = if a.json { serde_json::to_string_pretty(&all)? + "\n" } else { table(&all) };
    // Ignore a closed pipe (`amr ... | head`), as command-line tools do.
    let _ = std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes());
    Ok(())
}

/// One row per sequence: file, sequence, its label when it has one, the top classes with percentages.
fn table(files: &[FilePredictions]) -> String {
    let mut o = String::from("| file | sequence | label | top classes (probability) |\n|---|---|---|---|\n");
    for f in files {
        for p in &f.sequences {
            let top: Vec<String> =
                p.top.iter().map(|c| format!("{} ({:.1} %)", c.name, 100.0 * c.probability)).collect();
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} |",
                f.file,
                p.sequence,
                p.label.as_deref().unwrap_or("-"),
                top.join(", ")
            );
        }
    }
    o
}
