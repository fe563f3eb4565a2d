//! The headless commands (`amr --no-gui ...`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use amr_core::data::Dataset;
use amr_core::eval::Protocol;
use amr_core::focal::{FocalConfig, Fusion, focal_weights};
use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::convert::ConvertArgs;
use crate::gui::GuiArgs;

/// AMR: adaptive masked reconstruction for skeleton action recognition.
///
/// Without a command, opens the desktop app. With `--no-gui` and a command, runs headless.
#[derive(Parser, Debug)]
#[command(name = "amr", version, about)]
pub struct Cli {
    /// Run headless (required for the commands below; they never open a window).
    #[arg(long, global = true)]
    pub no_gui: bool,
    /// Desktop app options.
    #[command(flatten)]
    pub gui: GuiArgs,
    /// A headless command.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Headless commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print what a dataset file holds: sequences, classes with counts, lengths, fps, joints.
    Inspect {
        /// An amr-skeleton-v1 file (`embedded` for the demo data).
        file: String,
    },
    /// Focal weights of one sequence: a picture (.png, .svg) or the numbers (.json, .csv).
    Weights(WeightsArgs),
    /// Convert BVH, ASF/AMC, NTU .npz or NTU .skeleton data into amr-skeleton-v1.
    #[command(after_help = crate::convert::LABELS_HELP)]
    Convert(ConvertArgs),
    /// Keep the first N sequences of every class (x attribute) group: smaller datasets for demos.
    Subset(crate::subset::SubsetArgs),
    /// Pretrain AMR (or a baseline) into a run folder: config, metrics, checkpoint, loss curve.
    Pretrain(crate::pretrain_cmd::PretrainArgs),
    /// Write the model of a pretraining checkpoint alone (no optimiser or trainer state): the file to
    /// share, open in the apps or pass to `--init`.
    ExportModel(crate::pretrain_cmd::ExportModelArgs),
    /// Import a MAMP checkpoint (.pth) into an AMR checkpoint (.safetensors).
    ImportMamp(crate::mamp_cmd::ImportArgs),
    /// Pooled encoder features of a dataset file or of an .npy batch (N, C, T, V, M) as .npy.
    Embed(crate::mamp_cmd::EmbedArgs),
    /// Pretraining speed of the AMR decoder against the MAMP decoder, in one run.
    Bench(crate::bench::BenchArgs),
    /// Linear probe: frozen encoder, BatchNorm + linear head, SGD (reference spec 3.1).
    Linear(crate::eval_cmd::EvalArgs),
    /// Fine-tuning with layer-wise lr decay, drop path and label smoothing (spec 3.2).
    Finetune(crate::eval_cmd::EvalArgs),
    /// Semi-supervised fine-tuning on a seeded per-class share of the labels (spec 3.3).
    Semi(crate::eval_cmd::EvalArgs),
    /// Fine-tuning of an encoder pretrained on another dataset with the same joints (spec 3.4).
    Transfer(crate::eval_cmd::EvalArgs),
    /// Weighted cosine kNN on frozen features.
    Knn(crate::eval_cmd::EvalArgs),
    /// The raw-coordinate baseline: 1-nearest-neighbour on the centred test-time clips (the eval
    /// config's data, split and clip settings; no encoder).
    Baseline(crate::eval_cmd::EvalArgs),
    /// Supervised training with MaskCLR's schedule, cross-entropy only (the robustness baseline).
    Supervised(crate::eval_cmd::EvalArgs),
    /// MaskCLR: cross-entropy, then attention-guided masking with the contrastive losses (spec 6).
    Maskclr(crate::eval_cmd::EvalArgs),
    /// Classify the sequences of dataset files with a trained classifier (an evaluation run): the top
    /// classes of each with their probabilities.
    Predict(crate::predict_cmd::PredictArgs),
    /// Accuracy of fine-tuned models under noise, body-part and joint occlusion and frame masking.
    Robustness(crate::eval_cmd::RobustnessArgs),
}

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

/// Loads a dataset file, or the embedded demo data for `embedded`.
pub fn load_dataset(file: &str) -> anyhow::Result<Dataset> {
    if file == "embedded" {
        return Ok(amr_ui::demo::demo_dataset()?);
    }
    let path = Path::new(file);
    let bytes = std::fs::read(path).map_err(|error| amr_core::DataError::Io { path: path.into(), error })?;
    Ok(amr_core::data::read_dataset_bytes(&bytes, path)?)
}

/// Runs one headless command.
pub fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Inspect { file } => inspect(&file),
        Command::Weights(a) => weights(&a),
        Command::Convert(a) => crate::convert::run(&a),
        Command::Subset(a) => crate::subset::run(&a),
        Command::Pretrain(a) => crate::pretrain_cmd::run(&a),
        Command::ImportMamp(a) => crate::mamp_cmd::import(&a),
        Command::ExportModel(a) => crate::pretrain_cmd::export_model(&a),
        Command::Embed(a) => crate::mamp_cmd::embed(&a),
        Command::Bench(a) => crate::bench::run(&a),
        Command::Linear(a) => crate::eval_cmd::run(Protocol::Linear, &a),
        Command::Finetune(a) => crate::eval_cmd::run(Protocol::Finetune, &a),
        Command::Semi(a) => crate::eval_cmd::run(Protocol::Semi, &a),
        Command::Transfer(a) => crate::eval_cmd::run(Protocol::Transfer, &a),
        Command::Knn(a) => crate::eval_cmd::run(Protocol::Knn, &a),
        Command::Baseline(a) => crate::eval_cmd::baseline(&a),
        Command::Supervised(a) => crate::eval_cmd::run(Protocol::Supervised, &a),
        Command::Maskclr(a) => crate::eval_cmd::run(Protocol::Maskclr, &a),
        Command::Robustness(a) => crate::eval_cmd::robustness(&a),
        Command::Predict(a) => crate::predict_cmd::run(&a),
    }
}

fn inspect(file: &str) -> anyhow::Result<()> {
    let ds = load_dataset(file)?;
    let st = ds.stats();
    let mut o = String::new();
    let _ = writeln!(o, "file:       {file}");
    let _ = writeln!(
        o,
        "sequences:  {}  ({} frames in all, {:.1} min at {} fps)",
        st.sequences,
        st.frames,
        st.frames as f64 / f64::from(ds.fps) / 60.0,
        ds.fps
    );
    let [lo, med, hi] = st.length_min_median_max;
    let _ = writeln!(o, "lengths:    min {lo}, median {med}, max {hi} frames");
    let _ = writeln!(o, "persons:    {}", ds.persons);
    let _ = writeln!(o, "joints:     {} ({})", ds.layout.joint_count(), ds.layout.joint_names.join(", "));
    let _ = writeln!(o, "axes:       {}", ds.axes);
    let _ = writeln!(o, "source:     {}", ds.source);
    let _ = writeln!(o, "license:    {}", ds.license);
    let _ = writeln!(o, "classes:    {}", ds.label_names.len());
    for (i, (name, n)) in ds.label_names.iter().zip(&st.class_counts).enumerate() {
        let _ = writeln!(o, "  {i:>3}  {name:<32} {n}");
    }
    if st.unlabelled > 0 {
        let _ = writeln!(o, "  unlabelled: {}", st.unlabelled);
    }
    for key in ds.attribute_keys() {
        let mut values: Vec<i64> = ds.sequences.iter().filter_map(|s| s.attributes.get(&key).copied()).collect();
        values.sort_unstable();
        values.dedup();
        let names = ds.attribute_names.get(&key);
        let shown: Vec<String> = values
            .iter()
            .take(12)
            .map(|v| {
                names
                    .and_then(|n| usize::try_from(*v).ok().and_then(|i| n.get(i)))
                    .map_or_else(|| v.to_string(), |n| format!("{v}={n}"))
            })
            .collect();
        let _ = writeln!(
            o,
            "attribute:  {key} ({} values: {}{})",
            values.len(),
            shown.join(", "),
            if values.len() > 12 { ", ..." } else { "" }
        );
    }
    // Ignore a closed pipe (`amr ... | head`), as command-line tools do.
    let _ = std::io::Write::write_all(&mut std::io::stdout(), o.as_bytes());
    Ok(())
}

fn weights(a: &WeightsArgs) -> anyhow::Result<()> {
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
