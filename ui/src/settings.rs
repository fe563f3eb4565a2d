//! Everything the App keeps between launches ([`Settings`]).

use amr_core::focal::FocalConfig;
use amr_core::pretrain::PretrainConfig;

use crate::command::Tab;
use crate::explorer::{PreviewKind, Shown};
use crate::learn::LearnSettings;
use crate::reconstruction_view::ReconstructionSettings;
use crate::skeleton_view::Camera;
use crate::timeline::Timeline;

/// Everything that persists between launches.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Weighting parameters.
    pub focal: FocalConfig,
    /// Which weights colour the views.
    pub shown: Shown,
    /// All scales side by side.
    pub side_by_side: bool,
    /// Show the model's clip instead of the whole sequence.
    pub clip_view: bool,
    /// The masking preview.
    pub preview: PreviewKind,
    /// Seed of the preview's masks.
    pub mask_seed: u64,
    /// Playback.
    pub timeline: Timeline,
    /// The 3D camera.
    pub camera: Camera,
    /// The tab shown.
    pub tab: Tab,
    /// The training panel's config.
    pub run_config: PretrainConfig,
    /// The training panel's run folder.
    pub run_dir: String,
    /// The reconstruction view's choices.
    pub reconstruction: ReconstructionSettings,
    /// The motion-energy explorer's choices.
    pub learn: LearnSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            focal: FocalConfig::default(),
            shown: Shown::Fused,
            side_by_side: false,
            clip_view: false,
            preview: PreviewKind::Off,
            mask_seed: 0,
            timeline: Timeline::default(),
            camera: Camera::default(),
            tab: Tab::Explore,
            run_config: PretrainConfig::demo(),
            run_dir: "runs/desktop".into(),
            reconstruction: ReconstructionSettings::default(),
            learn: LearnSettings::default(),
        }
    }
}
