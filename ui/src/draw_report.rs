//! What the App drew in its last frame ([`DrawReport`]), for tests and status lines, and where the
//! shell finds it ([`ReportSink`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::command::Tab;

/// What the App drew in its last frame, for tests and status lines.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DrawReport {
    /// The tab shown.
    pub tab: Tab,
    /// Name of the sample shown.
    pub sample: String,
    /// Frame shown.
    pub frame: usize,
    /// Joints drawn (all skeleton views).
    pub joints: usize,
    /// Bones drawn.
    pub bones: usize,
    /// Persons drawn in the main view.
    pub persons: usize,
    /// Smallest and largest focal weight among the joints of the main view.
    pub weight_range: [f32; 2],
    /// Which weights colour the main view (`fused` or `n=4`, ...).
    pub weights: String,
    /// Heatmaps drawn.
    pub heatmaps: usize,
    /// Tokens the masking preview hides (0 when off).
    pub hidden_tokens: usize,
    /// Frames per second of the UI over the last second.
    pub fps: f32,
    /// Whether a clip plays, so that the App draws continuously (its frame rate is then the page's
    /// drawing speed, not the rate of events).
    pub animating: bool,
    /// CPU milliseconds of the previous frame (the App and the renderer, as eframe measures it).
    pub frame_cpu_ms: Option<f32>,
    /// The training panel's state.
    pub train_state: crate::training::TrainState,
    /// Points on the loss curve.
    pub loss_points: usize,
    /// The last loss.
    pub last_loss: Option<f32>,
    /// Centres on screen (points) of the buttons drawn this frame, by name (`start`, `stop`,
    /// `tab-train`, ...), for tests that click through the window system.
    pub buttons: BTreeMap<String, [f32; 2]>,
    /// Mean per-joint reconstruction error, when the reconstruction view has one.
    pub reconstruction_error: Option<f32>,
    /// The loaded classifier's top class for the sequence shown.
    pub prediction: Option<String>,
    /// The last message to the user.
    pub message: String,
}

const BUTTONS: &str = "amr-buttons";

/// Records a button's centre for the draw report (UI tests click through the window system).
pub fn remember_centre(ui: &egui::Ui, key: &str, r: &egui::Response) {
    let c = r.rect.center();
    ui.ctx().data_mut(|d| {
        d.get_temp_mut_or_default::<BTreeMap<String, [f32; 2]>>(egui::Id::unique(BUTTONS))
            .insert(key.to_string(), [c.x, c.y]);
    });
}

/// Where the App puts its [`DrawReport`]s; the shell keeps the other handle.
pub type ReportSink = Arc<Mutex<Option<DrawReport>>>;

/// The button centres recorded this frame ([`remember_centre`]), cleared for the next frame.
pub(crate) fn take_button_centres(ctx: &egui::Context) -> BTreeMap<String, [f32; 2]> {
    ctx.data_mut(|d| d.remove_temp::<BTreeMap<String, [f32; 2]>>(egui::Id::unique(BUTTONS))).unwrap_or_default()
}
