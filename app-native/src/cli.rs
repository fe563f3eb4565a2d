//! The headless commands (`amr --no-gui ...`).

use amr_core::eval::Protocol;
use clap::{Parser, Subcommand};

use crate::convert::ConvertArgs;
use crate::gui::GuiArgs;
use crate::weights_cmd::WeightsArgs;

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
    /// Test the last epoch of an evaluation run again, optionally on other test windows (the mean
    /// logits of several windows of each sequence); the run folder is left as it is.
    Retest(crate::retest_cmd::RetestArgs),
}

/// Runs one headless command.
pub fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Inspect { file } => crate::inspect_cmd::run(&file),
        Command::Weights(a) => crate::weights_cmd::run(&a),
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
        Command::Retest(a) => crate::retest_cmd::run(&a),
    }
}
