//! `amr --no-gui retest RUN`: the last epoch of a finished (or paused) evaluation run tested again,
//! optionally with other test windows (`--windows`), without touching the run folder.

use std::fmt::Write as _;
use std::path::PathBuf;

use amr_core::backend::{DeviceChoice, resolve_device};
use amr_core::data::clip::TestWindow;
use amr_core::eval::{Accuracy, EvalCheckpoint, EvalTrainer};
use anyhow::Context;
use clap::Args;

use crate::eval_cmd::checkpoint_file;
use crate::inputs::load_dataset;
use crate::windows_arg::set_windows;

/// Arguments of `retest`.
#[derive(Args, Debug)]
pub struct RetestArgs {
    /// An evaluation run (`finetune`, `supervised`, `maskclr`, `linear`, ...): its folder or its
    /// `eval.safetensors`.
    pub run: PathBuf,
    /// Test windows `SHARE@AT` (share of the valid frames in (0, 1], position in [0, 1]: 0.5 is the
    /// centre), comma separated; the logits are averaged over them. Default: the run's own setting.
    #[arg(long, value_delimiter = ',', value_parser = crate::windows_arg::parse_window)]
    pub windows: Vec<TestWindow>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Compute device: auto, gpu (wgpu) or cpu.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
}

/// What `retest` reports.
#[derive(Debug, serde::Serialize)]
struct Retest {
    run: String,
    epoch: usize,
    windows: Vec<TestWindow>,
    /// The model the run tests (a weight average with recomputed statistics where the run asks).
    tested: Accuracy,
    /// The current weights, where the tested model is not them.
    current: Option<Accuracy>,
    /// The current weights with recomputed BatchNorm statistics, where the run recomputes them.
    current_norm: Option<Accuracy>,
}

/// Runs `retest`.
pub fn run(a: &RetestArgs) -> anyhow::Result<()> {
    let (device, device_name) = resolve_device(a.device);
    let path = checkpoint_file(&a.run);
    let mut ckpt = EvalCheckpoint::load(&path)?;
    set_windows(&mut ckpt, &a.windows)?;
    let ds = load_dataset(&ckpt.config.data).with_context(|| format!("data = {}", ckpt.config.data))?;
    let mut t = EvalTrainer::resume(&ckpt, &ds, &device).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let windows = ckpt.config.clip.test_views();
    eprintln!(
        "{}: {} test sequences, {} windows each, on {device_name}",
        a.run.display(),
        t.test_sequences(),
        windows.len()
    );
    let r = t.retest(&ds).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let out = Retest {
        run: a.run.display().to_string(),
        epoch: r.epoch,
        windows,
        tested: r.test,
        current: r.current,
        current_norm: r.current_norm,
    };
    let text = if a.json { serde_json::to_string_pretty(&out)? + "\n" } else { table(&out) };
    let _ = std::io::Write::write_all(&mut std::io::stdout(), text.as_bytes());
    Ok(())
}

/// The accuracies as a table, one row per model read.
fn table(r: &Retest) -> String {
    let windows: Vec<String> = r.windows.iter().map(|w| format!("{}@{}", w.share, w.at)).collect();
    let mut o = format!(
        "{} at epoch {}, windows {}\n\n| model | top-1 | top-5 |\n|---|---|---|\n",
        r.run,
        r.epoch,
        windows.join(",")
    );
    let rows = [("tested", Some(r.tested)), ("current", r.current), ("current, recomputed norm", r.current_norm)];
    for (name, acc) in rows {
        if let Some(acc) = acc {
            let _ = writeln!(o, "| {name} | {:.2} | {:.2} |", acc.top1, acc.top5);
        }
    }
    o
}
