//! The App's messages: its tabs, the changes widgets queue ([`AppCommand`], applied at the end of the
//! frame) and what it asks of its shell ([`Request`]).

use amr_core::focal::FocalConfig;

use crate::explorer::{PreviewKind, Shown};
use crate::training::TrainCommand;

/// The App's tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tab {
    /// Skeleton, heatmaps and weighting controls.
    #[default]
    Explore,
    /// The training panel.
    Train,
    /// The reconstruction view.
    Reconstruct,
    /// The motion-energy explorer: the weighting explained step by step.
    Learn,
}

/// What the App asks of its shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// Open a dataset file.
    OpenData,
    /// Open a TOML run config for the training panel.
    LoadConfig,
    /// Open a checkpoint for the reconstruction view.
    LoadCheckpoint,
    /// Save a picture of the window.
    ExportView,
    /// Save the heatmap shown as PNG and SVG.
    ExportHeatmap,
    /// Save the loss curve as PNG and SVG.
    ExportLoss,
}

/// A change the UI asked for, applied at the end of the frame.
#[derive(Debug, Clone, PartialEq)]
pub enum AppCommand {
    /// Show sample `i`.
    Select(usize),
    /// New weighting parameters.
    SetFocal(FocalConfig),
    /// Which weights colour the views.
    Show(Shown),
    /// Single view or all scales side by side.
    SideBySide(bool),
    /// Show the model's centre clip (T frames) instead of the whole sequence.
    ClipView(bool),
    /// The masking preview.
    Preview(PreviewKind),
    /// Draw the preview's masks again with the next seed.
    RedrawMask,
    /// Select a joint and move the timeline to a frame.
    SelectCell {
        /// The frame.
        frame: usize,
        /// The joint.
        joint: usize,
    },
    /// Switch tabs.
    Tab(Tab),
    /// Move the timeline to a frame and pause it.
    SetFrame(usize),
    /// A command for the trainer.
    Train(TrainCommand),
}
