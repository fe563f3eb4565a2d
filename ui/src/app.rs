//! The App both shells run: the data browser, the weighting explorer (skeleton, heatmaps, single vs
//! multi-scale, masking preview), the training panel and the reconstruction view.
//!
//! Widgets queue [`AppCommand`]s that the App applies at the end of the frame; what needs the platform
//! (files, pictures, the trainer) leaves as [`Request`]s or goes to the shell's [`TrainRunner`].

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use amr_core::backend::Device;
use amr_core::data::clip::test_clip;
use amr_core::data::{Dataset, DatasetStats, Sequence};
use amr_core::eval::{EvalCheckpoint, Prediction, Predictor};
use amr_core::focal::{FocalConfig, FocalWeights, focal_weights};
use amr_core::pretrain::{Checkpoint, PretrainConfig, Reconstruction, Reconstructor, StepReport};

use crate::colormap::legend_ui;
use crate::explorer::{MaskPreview, PreviewKind, Shown, focal_controls_ui};
use crate::frame_future::FrameFuture;
use crate::heatmap::{HeatmapView, heatmap_ui};
use crate::learn::{LearnSettings, learn_fusion_ui, learn_loss_ui, learn_steps_ui};
use crate::reconstruction_view::{ReconstructionSettings, reconstruction_ui};
use crate::skeleton_view::{Camera, SkeletonView, skeleton_ui};
use crate::timeline::Timeline;
use crate::training::{TrainCommand, TrainRunner};
use crate::training_panel::{PanelAction, TrainPanel};
use crate::url_state::UrlState;

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
    pub buttons: std::collections::BTreeMap<String, [f32; 2]>,
    /// Mean per-joint reconstruction error, when the reconstruction view has one.
    pub reconstruction_error: Option<f32>,
    /// The loaded classifier's top class for the sequence shown.
    pub prediction: Option<String>,
    /// The last message to the user.
    pub message: String,
}

const BUTTONS: &str = "amr-buttons";

/// Records a button's centre for the draw report (UI tests click through the window system).
pub(crate) fn remember_centre(ui: &egui::Ui, key: &str, r: &egui::Response) {
    let c = r.rect.center();
    ui.ctx().data_mut(|d| {
        d.get_temp_mut_or_default::<std::collections::BTreeMap<String, [f32; 2]>>(egui::Id::unique(BUTTONS))
            .insert(key.to_string(), [c.x, c.y]);
    });
}

/// Where the App puts its [`DrawReport`]s; the shell keeps the other handle.
pub type ReportSink = Arc<Mutex<Option<DrawReport>>>;

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

/// Frame times of the last second, for the frame rate.
#[derive(Default)]
struct FrameClock {
    times: VecDeque<f64>,
}

impl FrameClock {
    fn tick(&mut self, now: f64) -> f32 {
        self.times.push_back(now);
        while self.times.front().is_some_and(|&t| now - t > 1.0) {
            self.times.pop_front();
        }
        match (self.times.front(), self.times.len()) {
            (Some(&first), n) if n > 1 && now > first => ((n - 1) as f64 / (now - first)) as f32,
            _ => 0.0,
        }
    }
}

/// The AMR App.
pub struct AmrApp {
    /// Shared so a frame can borrow a sequence while the App's own state changes.
    dataset: Arc<Dataset>,
    data_name: String,
    stats: DatasetStats,
    sample: usize,
    filter: String,
    class_filter: Option<usize>,
    settings: Settings,
    /// The sequence the views show: the sample or its centre clip.
    shown_seq: Arc<Sequence>,
    weights: FocalWeights,
    preview: Option<MaskPreview>,
    selected_joint: Option<usize>,
    train: TrainPanel,
    runner: Option<Box<dyn TrainRunner>>,
    reconstructor: Option<Reconstructor>,
    reconstruction: Option<Result<Reconstruction, String>>,
    reconstruction_dirty: bool,
    /// A reconstruction whose read-back the browser is waiting for.
    pending_reconstruction: Option<FrameFuture<Result<Reconstruction, String>>>,
    /// The shipped model, built into `reconstructor` when the view first needs one.
    default_checkpoint: Option<Box<Checkpoint>>,
    /// A trained classifier (an evaluation checkpoint) and its prediction for the sample.
    predictor: Option<Predictor>,
    prediction: Option<Result<Prediction, String>>,
    /// Where the reconstruction view's model runs.
    device: Device,
    /// The compute device in words, shown in the top bar when a shell sets one.
    device_label: String,
    commands: Vec<AppCommand>,
    requests: Vec<Request>,
    message: String,
    clock: FrameClock,
    fps: f32,
    frame_cpu: Option<f32>,
    report: ReportSink,
}

impl AmrApp {
    /// An App showing `dataset` (called `name`) at sample 0; draw reports go to `report`.
    pub fn new(dataset: Dataset, name: &str, report: ReportSink) -> Self {
        let settings = Settings::default();
        let mut app = Self {
            stats: dataset.stats(),
            dataset: Arc::new(dataset),
            data_name: name.to_string(),
            sample: 0,
            filter: String::new(),
            class_filter: None,
            shown_seq: Arc::new(Sequence::new("", -1, 0, 1, 0, vec![])),
            weights: focal_weights(&Sequence::new("", -1, 0, 1, 0, vec![]), &settings.focal),
            settings,
            preview: None,
            selected_joint: None,
            train: TrainPanel::new("runs/desktop".into(), !cfg!(target_arch = "wasm32")),
            runner: None,
            reconstructor: None,
            reconstruction: None,
            reconstruction_dirty: false,
            pending_reconstruction: None,
            default_checkpoint: None,
            predictor: None,
            prediction: None,
            device: amr_core::backend::cpu_device(),
            device_label: String::new(),
            commands: Vec::new(),
            requests: Vec::new(),
            message: format!("opened {name}"),
            clock: FrameClock::default(),
            fps: 0.0,
            frame_cpu: None,
            report,
        };
        app.refresh_sample();
        app
    }

    /// The App with a trainer runner (the desktop's worker thread, the browser's task).
    pub fn with_runner(mut self, runner: Box<dyn TrainRunner>) -> Self {
        self.runner = Some(runner);
        self
    }

    /// Runs the reconstruction view's model on `device` (burn's CPU backend unless the shell says
    /// otherwise), from the next checkpoint on; `label` says what it is in the top bar.
    pub fn set_device(&mut self, device: Device, label: &str) {
        self.device = device;
        self.device_label = label.to_string();
    }

    /// Applies saved settings.
    pub fn with_settings(mut self, mut settings: Settings) -> Self {
        // Stored settings are checked like any input: a bad part is named and keeps its default.
        let defaults = Settings::default();
        let mut bad = Vec::new();
        if let Err(e) = settings.focal.validate() {
            bad.push(e);
            settings.focal = defaults.focal.clone();
            settings.shown = defaults.shown;
        }
        if let Shown::Scale(i) = settings.shown
            && i >= settings.focal.windows.len()
        {
            settings.shown = Shown::Fused;
        }
        if let Err(e) = settings.run_config.validate() {
            bad.push(format!("run config: {e}"));
            settings.run_config = defaults.run_config.clone();
        }
        self.train.config = settings.run_config.clone();
        self.train.dir.clone_from(&settings.run_dir);
        self.settings = settings;
        self.refresh_sample();
        if !bad.is_empty() {
            self.notify(format!("stored settings: {}; those parts were reset", bad.join("; ")));
        }
        self
    }

    /// The settings to save.
    pub fn settings(&self) -> Settings {
        Settings { run_config: self.train.config.clone(), run_dir: self.train.dir.clone(), ..self.settings.clone() }
    }

    /// Replaces the dataset (a file the user opened).
    pub fn set_dataset(&mut self, dataset: Dataset, name: &str) {
        self.stats = dataset.stats();
        self.dataset = Arc::new(dataset);
        self.data_name = name.to_string();
        self.sample = 0;
        self.class_filter = None;
        self.selected_joint = None;
        self.message = format!("opened {name}: {} sequences", self.dataset.len());
        self.refresh_sample();
        self.refresh_prediction();
    }

    /// Shows a message (an error the shell met, a file written).
    pub fn notify(&mut self, message: impl Into<String>) {
        self.message = message.into();
        log::info!("{}", self.message);
    }

    /// The view's state as a URL fragment (see [`crate::url_state`]).
    pub fn url_hash(&self) -> String {
        let st = &self.settings;
        UrlState {
            tab: Some(st.tab),
            sample: Some(self.sample),
            // A playing timeline changes the frame every tick: only a paused frame is worth a link
            // (and the page then rewrites its URL only when something the user chose changes).
            frame: (!st.timeline.playing).then_some(st.timeline.frame),
            joint: self.selected_joint,
            k: Some(st.focal.k),
            eps: Some(st.focal.eps),
            windows: Some(st.focal.windows.clone()),
            fusion: Some(st.focal.fusion),
            shown: Some(st.shown),
            side_by_side: Some(st.side_by_side),
            preview: Some(st.preview),
            seed: Some(st.mask_seed),
        }
        .to_hash()
    }

    /// Applies a URL fragment; what it leaves out stays. Bad keys are skipped and named in the message.
    pub fn apply_url_hash(&mut self, hash: &str) {
        let (u, errors) = UrlState::parse(hash);
        if let Some(seed) = u.seed {
            self.settings.mask_seed = seed;
        }
        let mut cmds = Vec::new();
        if let Some(t) = u.tab {
            cmds.push(AppCommand::Tab(t));
        }
        if let Some(i) = u.sample {
            cmds.push(AppCommand::Select(i));
        }
        if u.k.is_some() || u.eps.is_some() || u.windows.is_some() || u.fusion.is_some() {
            let f = &self.settings.focal;
            cmds.push(AppCommand::SetFocal(FocalConfig {
                k: u.k.unwrap_or(f.k),
                eps: u.eps.unwrap_or(f.eps),
                windows: u.windows.unwrap_or_else(|| f.windows.clone()),
                fusion: u.fusion.unwrap_or(f.fusion),
            }));
        }
        if let Some(s) = u.shown {
            cmds.push(AppCommand::Show(s));
        }
        if let Some(b) = u.side_by_side {
            cmds.push(AppCommand::SideBySide(b));
        }
        if let Some(p) = u.preview {
            cmds.push(AppCommand::Preview(p));
        }
        if u.frame.is_some() || u.joint.is_some() {
            let frame = u.frame.unwrap_or(self.settings.timeline.frame);
            match u.joint {
                Some(joint) => cmds.push(AppCommand::SelectCell { frame, joint }),
                None => cmds.push(AppCommand::SetFrame(frame)),
            }
        }
        for c in cmds {
            self.apply(c);
        }
        if !errors.is_empty() {
            self.notify(errors.join("; "));
        }
    }

    /// The last message to the user.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Takes the shell's requests.
    pub fn take_requests(&mut self) -> Vec<Request> {
        std::mem::take(&mut self.requests)
    }

    /// Queues a command as if a widget had (tests, shells, the URL).
    pub fn queue(&mut self, command: AppCommand) {
        self.commands.push(command);
    }

    /// Applies every queued command now (the App does this at the end of each frame).
    pub fn apply_commands(&mut self) {
        for c in std::mem::take(&mut self.commands) {
            self.apply(c);
        }
    }

    /// The training panel's config from a TOML file's text.
    pub fn load_config_text(&mut self, text: &str, path: &str) {
        match self.train.load_config_text(text, path) {
            Ok(()) => self.notify(format!("run config from {path}")),
            Err(e) => self.notify(e),
        }
    }

    /// A checkpoint from a file's bytes: a pretraining one feeds the reconstruction view, an evaluation
    /// one (a trained classifier) the prediction shown with the sequence. Says what it opened, or why
    /// the file is neither.
    pub fn load_checkpoint_bytes(&mut self, bytes: &[u8], path: &str) {
        match self.open_model_bytes(bytes, path) {
            Ok(m) | Err(m) => self.notify(m),
        }
    }

    /// [`Self::load_checkpoint_bytes`] returning its message: `Err` (the pretraining reader's error)
    /// when the bytes are no checkpoint at all, so that a shell can report its own reason instead.
    pub fn open_model_bytes(&mut self, bytes: &[u8], path: &str) -> Result<String, String> {
        let file = std::path::Path::new(path);
        let pretrain_error = match Checkpoint::<PretrainConfig>::from_bytes(bytes, file) {
            Ok(c) => {
                self.set_checkpoint(&c);
                return Ok(format!("checkpoint {path} (step {})", c.state.as_ref().map_or(0, |s| s.steps)));
            }
            Err(e) => e.to_string(),
        };
        let Ok(c) = EvalCheckpoint::from_bytes(bytes, file) else { return Err(pretrain_error) };
        // The classifier runs on the CPU backend: one sequence at a time, read back at once (also on
        // the web, where a GPU read-back cannot block).
        match Predictor::from_checkpoint(&c, &amr_core::backend::cpu_device()) {
            Ok(p) => {
                let classes = p.classes();
                self.predictor = Some(p);
                self.refresh_prediction();
                Ok(format!("classifier {path} ({} run, {classes} classes)", c.config.protocol.name()))
            }
            Err(e) => Ok(format!("{path}: {e}")),
        }
    }

    /// Uses `ckpt`'s model for the reconstruction view.
    pub fn set_checkpoint(&mut self, ckpt: &Checkpoint) {
        match Reconstructor::new(ckpt, &self.device) {
            Ok(r) => {
                self.reconstructor = Some(r);
                self.default_checkpoint = None;
                // The previous model's reconstruction is not shown as this one's.
                self.reconstruction = None;
                self.reconstruction_dirty = true;
            }
            Err(e) => self.notify(e),
        }
    }

    /// Uses the shipped model ([`crate::demo`]) for the reconstruction view unless a model is there
    /// already (opened or trained); says nothing when it is taken. The model is built when the view
    /// first needs it, not at start-up.
    pub fn set_default_checkpoint(&mut self, ckpt: Checkpoint) {
        if self.reconstructor.is_none() {
            self.default_checkpoint = Some(Box::new(ckpt));
            self.reconstruction_dirty = true;
        }
    }

    /// The loss history of the training panel.
    pub fn loss_history(&self) -> &[StepReport] {
        &self.train.history
    }

    /// The dataset shown.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// The sequence the views show (the sample, or its model clip).
    pub fn shown_sequence(&self) -> &Sequence {
        &self.shown_seq
    }

    /// The focal weights of the shown sequence and their parameters.
    pub fn weights(&self) -> (&FocalWeights, &FocalConfig) {
        (&self.weights, &self.settings.focal)
    }

    fn apply(&mut self, c: AppCommand) {
        match c {
            AppCommand::Select(i) if i < self.dataset.len() => {
                self.sample = i;
                self.settings.timeline.frame = 0;
                self.refresh_sample();
                self.refresh_prediction();
            }
            AppCommand::Select(_) => {}
            AppCommand::SetFocal(f) => match f.validate() {
                Ok(()) => {
                    self.settings.focal = f;
                    if let Shown::Scale(i) = self.settings.shown
                        && i >= self.settings.focal.windows.len()
                    {
                        self.settings.shown = Shown::Fused;
                    }
                    self.refresh_weights();
                }
                Err(e) => self.notify(e),
            },
            AppCommand::Show(s) => self.settings.shown = s,
            AppCommand::SideBySide(on) => self.settings.side_by_side = on,
            AppCommand::ClipView(on) => {
                self.settings.clip_view = on;
                if !on {
                    self.settings.preview = PreviewKind::Off;
                }
                self.refresh_sample();
            }
            AppCommand::Preview(kind) => {
                self.settings.preview = kind;
                if kind != PreviewKind::Off && !self.settings.clip_view {
                    self.settings.clip_view = true;
                    self.refresh_sample();
                }
                self.refresh_preview();
            }
            AppCommand::RedrawMask => {
                self.settings.mask_seed = self.settings.mask_seed.wrapping_add(1);
                self.refresh_preview();
            }
            AppCommand::SelectCell { frame, joint } => {
                self.selected_joint = (joint < self.shown_seq.joints).then_some(joint);
                self.settings.timeline.frame = frame.min(self.shown_seq.frames.saturating_sub(1));
                self.settings.timeline.playing = false;
            }
            AppCommand::Tab(t) => self.settings.tab = t,
            AppCommand::SetFrame(frame) => {
                self.settings.timeline.frame = frame.min(self.shown_seq.frames.saturating_sub(1));
                self.settings.timeline.playing = false;
            }
            AppCommand::Train(cmd) => match &mut self.runner {
                Some(r) => r.send(cmd),
                None => self.notify("training is not available in this shell"),
            },
        }
    }

    fn refresh_sample(&mut self) {
        let seq = match self.dataset.sequences.get(self.sample) {
            Some(s) if self.settings.clip_view => test_clip(s, &self.train.config.clip),
            Some(s) => s.clone(),
            None => Sequence::new("", -1, 0, 1, 0, vec![]),
        };
        self.shown_seq = Arc::new(seq);
        self.refresh_weights();
        self.refresh_preview();
        self.reconstruction_dirty = true;
    }

    /// The classifier's prediction for the sample (on its own test-time clip: the views' clip settings
    /// do not change it, so only a new sample, dataset or classifier calls this).
    fn refresh_prediction(&mut self) {
        self.prediction = self.predictor.as_ref().map(|p| {
            let mut top = p.predict(&self.dataset, &[self.sample], 5)?;
            top.pop().ok_or_else(|| "no sequence to classify".to_string())
        });
    }

    fn refresh_weights(&mut self) {
        self.weights = focal_weights(&self.shown_seq, &self.settings.focal);
    }

    fn refresh_preview(&mut self) {
        let b = &self.train.config.batch;
        self.preview = (self.settings.preview != PreviewKind::Off)
            .then(|| {
                MaskPreview::draw(
                    &self.shown_seq,
                    self.train.config.model.patch,
                    b.mask_ratio,
                    b.tau,
                    self.settings.mask_seed,
                )
            })
            .flatten();
    }

    fn refresh_reconstruction(&mut self) {
        self.reconstruction_dirty = false;
        if let Some(c) = self.default_checkpoint.take()
            && self.reconstructor.is_none()
        {
            self.set_checkpoint(&c);
            self.reconstruction_dirty = false;
        }
        let Some(r) = &self.reconstructor else {
            self.reconstruction = None;
            return;
        };
        let s = &self.settings.reconstruction;
        match r.start(&self.dataset, self.sample, 0, s.masking.kind(), s.seed) {
            Ok(pending) => self.pending_reconstruction = Some(FrameFuture::new(pending.finish())),
            Err(e) => self.reconstruction = Some(Err(e)),
        }
    }

    /// Takes the reconstruction whose read-back was waited for, once the device has answered.
    fn poll_reconstruction(&mut self, ctx: &egui::Context) {
        if let Some(done) = self.pending_reconstruction.as_mut().and_then(|f| f.poll(ctx)) {
            self.pending_reconstruction = None;
            self.reconstruction = Some(done);
        }
    }

    fn class_name(&self, label: i64) -> &str {
        usize::try_from(label).ok().and_then(|l| self.dataset.label_names.get(l)).map_or("-", String::as_str)
    }

    fn browser_ui(&mut self, ui: &mut egui::Ui) {
        ui.heading("Data");
        ui.label(&self.data_name);
        let st = &self.stats;
        ui.label(format!(
            "{} sequences, {} classes, {} joints, {} fps\nlength {} / {} / {} frames (min / median / max)",
            st.sequences,
            self.dataset.label_names.len(),
            self.dataset.layout.joint_count(),
            self.dataset.fps,
            st.length_min_median_max[0],
            st.length_min_median_max[1],
            st.length_min_median_max[2],
        ));
        if ui
            .button("Open data…")
            .on_hover_text("amr-skeleton-v1 (.safetensors), BVH or NTU .npz; or drop a file on the window")
            .clicked()
        {
            self.requests.push(Request::OpenData);
        }
        ui.separator();
        let class_text =
            self.class_filter.and_then(|c| self.dataset.label_names.get(c)).map_or("all classes", String::as_str);
        egui::ComboBox::from_id_salt("class-filter").selected_text(class_text).show_ui(ui, |ui| {
            ui.selectable_value(&mut self.class_filter, None, "all classes");
            for (i, name) in self.dataset.label_names.iter().enumerate() {
                let n = self.stats.class_counts.get(i).copied().unwrap_or(0);
                ui.selectable_value(&mut self.class_filter, Some(i), format!("{name} ({n})"));
            }
        });
        ui.add(egui::TextEdit::singleline(&mut self.filter).hint_text("search by name"));
        let filter = self.filter.to_lowercase();
        let mut chosen = None;
        egui::ScrollArea::vertical().show(ui, |ui| {
            for (i, s) in self.dataset.sequences.iter().enumerate() {
                if self.class_filter.is_some_and(|c| usize::try_from(s.label).ok() != Some(c)) {
                    continue;
                }
                let text = format!("{} [{}]", s.name, self.class_name(s.label));
                if !filter.is_empty() && !text.to_lowercase().contains(&filter) {
                    continue;
                }
                if ui.selectable_label(i == self.sample, text).clicked() {
                    chosen = Some(i);
                }
            }
        });
        if let Some(i) = chosen {
            self.commands.push(AppCommand::Select(i));
        }
    }

    fn top_bar_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            for (tab, name) in [
                (Tab::Explore, "Explore"),
                (Tab::Learn, "Learn"),
                (Tab::Train, "Train"),
                (Tab::Reconstruct, "Reconstruct"),
            ] {
                let r = ui.selectable_label(self.settings.tab == tab, name);
                remember_centre(ui, &format!("tab-{}", name.to_lowercase()), &r);
                if r.clicked() {
                    self.commands.push(AppCommand::Tab(tab));
                }
            }
            ui.separator();
            let menu = ui.menu_button("Export", |ui| {
                for (r, name, key) in [
                    (Request::ExportView, "view (PNG)", "export-view"),
                    (Request::ExportHeatmap, "heatmap (PNG, SVG)", "export-heatmap"),
                    (Request::ExportLoss, "loss curve (PNG, SVG)", "export-loss"),
                ] {
                    let b = ui.button(name);
                    remember_centre(ui, key, &b);
                    if b.clicked() {
                        self.requests.push(r);
                        ui.close();
                    }
                }
            });
            remember_centre(ui, "export", &menu.response);
            ui.separator();
            ui.label(&self.message);
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                ui.weak(format!("{:.0} fps", self.fps));
                if !self.device_label.is_empty() {
                    ui.weak(&self.device_label);
                }
            });
        });
    }

    fn explore_controls_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            ui.label("weights:");
            let mut shown = self.settings.shown;
            ui.selectable_value(&mut shown, Shown::Fused, "fused");
            for (i, n) in self.settings.focal.windows.iter().enumerate() {
                ui.selectable_value(&mut shown, Shown::Scale(i), format!("n={n}"));
            }
            if shown != self.settings.shown {
                self.commands.push(AppCommand::Show(shown));
            }
            let mut side = self.settings.side_by_side;
            if ui
                .checkbox(&mut side, "side by side")
                .on_hover_text("every window size and the fused weights together")
                .changed()
            {
                self.commands.push(AppCommand::SideBySide(side));
            }
            let mut clip = self.settings.clip_view;
            if ui.checkbox(&mut clip, format!("model clip (T={})", self.train.config.clip.frames)).changed() {
                self.commands.push(AppCommand::ClipView(clip));
            }
            ui.separator();
            ui.label("masking preview:");
            let mut kind = self.settings.preview;
            ui.selectable_value(&mut kind, PreviewKind::Off, "off");
            ui.selectable_value(&mut kind, PreviewKind::Motion, "motion-aware");
            ui.selectable_value(&mut kind, PreviewKind::Random, "random");
            if kind != self.settings.preview {
                self.commands.push(AppCommand::Preview(kind));
            }
            if self.settings.preview != PreviewKind::Off && ui.button("redraw").clicked() {
                self.commands.push(AppCommand::RedrawMask);
            }
        });
        let mut focal = self.settings.focal.clone();
        if focal_controls_ui(ui, &mut focal) {
            self.commands.push(AppCommand::SetFocal(focal));
        }
        if let Some(p) = &self.preview {
            let b = &self.train.config.batch;
            ui.label(format!(
                "{} hides {} of {} tokens (ratio {}, tau {}, seed {}); mean motion left visible: motion-aware {:.2e}, random {:.2e} (all tokens {:.2e})",
                if self.settings.preview == PreviewKind::Motion { "motion-aware masking" } else { "random masking" },
                p.hidden_count(self.settings.preview),
                p.motion.len(),
                b.mask_ratio,
                b.tau,
                self.settings.mask_seed,
                p.visible_motion[0],
                p.visible_motion[1],
                p.mean_motion
            ));
        }
        ui.horizontal(|ui| {
            legend_ui(ui, "focal weight");
            if let Some(v) = self.selected_joint {
                ui.label(format!("selected: {}", self.dataset.layout.joint_names.get(v).map_or("?", String::as_str)));
            }
        });
    }

    /// The views' weight choices: the shown one, or every scale and the fused weights side by side.
    fn views(&self) -> Vec<Shown> {
        if self.settings.side_by_side {
            (0..self.settings.focal.windows.len()).map(Shown::Scale).chain([Shown::Fused]).collect()
        } else {
            vec![self.settings.shown]
        }
    }

    /// The heatmaps; returns how many were drawn.
    fn heatmaps_ui(&mut self, ui: &mut egui::Ui, views: &[Shown], height: f32) -> usize {
        let seq = Arc::clone(&self.shown_seq);
        let names = &self.dataset.layout.joint_names;
        let each = ((height - 24.0 * views.len() as f32) / views.len() as f32).clamp(60.0, 320.0);
        let preview = self.preview.clone();
        let kind = self.settings.preview;
        for shown in views {
            let shown = *shown;
            ui.label(format!("{} (joints x frames)", shown.name(&self.settings.focal)));
            let weights = &self.weights;
            let value = |t: usize, v: usize| shown.weight(weights, t, 0, v);
            let hidden = |t: usize, v: usize| preview.as_ref().is_some_and(|p| p.hidden(kind, t, v));
            let id = shown.name(&self.settings.focal);
            let view = HeatmapView {
                frames: seq.frames,
                joint_names: names,
                cursor: self.settings.timeline.frame,
                selected_joint: self.selected_joint,
                value: &value,
                hidden: preview.is_some().then_some(&hidden as &dyn Fn(usize, usize) -> bool),
                height: each,
                id: &id,
            };
            let r = heatmap_ui(ui, &view);
            if let Some((t, v)) = r.hovered {
                let energies: Vec<String> = weights
                    .scales
                    .iter()
                    .map(|s| {
                        format!(
                            "n={}: e {:.2e} w {:.3}",
                            s.window,
                            s.energy_at_frame(t, 0, v, weights.joints),
                            s.weight_at_frame(t, 0, v, weights.joints)
                        )
                    })
                    .collect();
                let masked = if hidden(t, v) { "\nhidden by the masking preview" } else { "" };
                r.response.on_hover_text(format!(
                    "{} frame {t}: weight {:.4} ({})\n{}{masked}",
                    names.get(v).map_or("?", String::as_str),
                    value(t, v),
                    shown.name(&self.settings.focal),
                    energies.join("\n")
                ));
            }
            if let Some((frame, joint)) = r.clicked {
                self.commands.push(AppCommand::SelectCell { frame, joint });
            }
        }
        views.len()
    }

    /// The skeleton views; returns what the first drew and the joints drawn in all.
    fn skeletons_ui(&mut self, ui: &mut egui::Ui) -> (crate::skeleton_view::Drawn, usize) {
        let seq = Arc::clone(&self.shown_seq);
        let views = self.views();
        let preview = self.preview.clone();
        let kind = self.settings.preview;
        let mut camera = self.settings.camera;
        let mut first = None;
        let mut joints = 0;
        let frame = self.settings.timeline.frame;
        let weights = &self.weights;
        let layout = &self.dataset.layout;
        let focal = &self.settings.focal;
        let selected = self.selected_joint;
        let draw = |ui: &mut egui::Ui, shown: Shown, camera: &mut Camera| {
            let weight = |t: usize, m: usize, v: usize| shown.weight(weights, t, m, v);
            let hidden = |t: usize, _m: usize, v: usize| preview.as_ref().is_some_and(|p| p.hidden(kind, t, v));
            let view = SkeletonView {
                seq: &seq,
                layout,
                frame,
                weight: &weight,
                hidden: preview.is_some().then_some(&hidden as &dyn Fn(usize, usize, usize) -> bool),
                selected_joint: selected,
                ghost: None,
            };
            skeleton_ui(ui, &view, camera)
        };
        if views.len() == 1 {
            let d = draw(ui, views[0], &mut camera);
            first = Some(d);
            joints += d.joints;
        } else {
            // Columns take the full height of their parent; the heatmap panel below has its share.
            let height = ui.available_height();
            ui.columns(views.len(), |cols| {
                for (col, shown) in cols.iter_mut().zip(&views) {
                    col.set_max_height(height);
                    col.label(shown.name(focal));
                    let d = draw(col, *shown, &mut camera);
                    first.get_or_insert(d);
                    joints += d.joints;
                }
            });
        }
        self.settings.camera = camera;
        (first.unwrap_or_default(), joints)
    }

    fn explore_ui(&mut self, ui: &mut egui::Ui, report: &mut DrawReport) {
        let seq = Arc::clone(&self.shown_seq);
        ui.heading(format!(
            "{} [{}]  frame {}/{}",
            seq.name,
            self.class_name(seq.label),
            self.settings.timeline.frame + 1,
            seq.frames
        ));
        self.explore_controls_ui(ui);
        report.prediction = crate::prediction_view::prediction_ui(ui, self.prediction.as_ref());
        self.settings.timeline.timeline_ui(ui, seq.frames);
        let heatmap_height = if self.settings.side_by_side { ui.available_height() * 0.55 } else { 260.0 };
        let heatmaps = egui::Panel::bottom("heatmaps").resizable(true).default_size(heatmap_height).show(ui, |ui| {
            let height = ui.available_height();
            let views = self.views();
            egui::ScrollArea::vertical().show(ui, |ui| self.heatmaps_ui(ui, &views, height)).inner
        });
        report.heatmaps = heatmaps.inner;
        let (drawn, joints) = self.skeletons_ui(ui);
        report.joints = joints;
        report.bones = drawn.bones;
        report.persons = drawn.persons;
        report.hidden_tokens = self.preview.as_ref().map_or(0, |p| p.hidden_count(self.settings.preview));
    }

    /// The joint that moves most over the clip (largest summed fused weight).
    fn most_moving_joint(&self) -> usize {
        let w = &self.weights;
        (0..w.joints)
            .map(|v| (v, (0..w.frames).map(|t| w.fused_at(t, 0, v)).sum::<f32>()))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map_or(0, |(v, _)| v)
    }

    fn learn_ui(&mut self, ui: &mut egui::Ui, report: &mut DrawReport) {
        let seq = Arc::clone(&self.shown_seq);
        let ds = Arc::clone(&self.dataset);
        let joint = self.selected_joint.filter(|&v| v < seq.joints).unwrap_or_else(|| self.most_moving_joint());
        let frame = self.settings.timeline.frame;
        egui::ScrollArea::vertical().show(ui, |ui| {
            self.settings.timeline.timeline_ui(ui, seq.frames);
            let out = learn_steps_ui(
                ui,
                &mut self.settings.learn,
                &seq,
                &ds.layout.joint_names,
                &self.weights,
                &self.settings.focal,
                (joint, frame),
            );
            if let Some(f) = out.focal {
                self.commands.push(AppCommand::SetFocal(f));
            }
            ui.separator();
            learn_fusion_ui(ui, &self.settings.focal);
            let views: Vec<Shown> =
                (0..self.settings.focal.windows.len()).map(Shown::Scale).chain([Shown::Fused]).collect();
            report.heatmaps = self.heatmaps_ui(ui, &views, 110.0 * views.len() as f32);
            ui.separator();
            if let Some(v) = learn_loss_ui(ui, &ds.layout.joint_names, &self.weights) {
                self.commands.push(AppCommand::SelectCell { frame, joint: v });
            }
        });
    }

    fn train_ui(&mut self, ui: &mut egui::Ui) {
        let actions = self.train.panel_ui(ui, &self.settings.focal);
        for a in actions {
            match a {
                PanelAction::Train(cmd) => self.commands.push(AppCommand::Train(cmd)),
                PanelAction::LoadConfig => self.requests.push(Request::LoadConfig),
                PanelAction::LoadCheckpoint => self.requests.push(Request::LoadCheckpoint),
                PanelAction::ExportLoss => self.requests.push(Request::ExportLoss),
            }
        }
    }

    fn reconstruct_ui(&mut self, ui: &mut egui::Ui, report: &mut DrawReport) {
        let before = self.settings.reconstruction.clone();
        let has_model = self.reconstructor.is_some();
        report.prediction = crate::prediction_view::prediction_ui(ui, self.prediction.as_ref());
        let out = reconstruction_ui(
            ui,
            &mut self.settings.reconstruction,
            self.reconstruction.as_ref(),
            has_model,
            &self.dataset.layout,
            &mut self.settings.timeline,
            &mut self.settings.camera,
        );
        if out.load_checkpoint {
            self.requests.push(Request::LoadCheckpoint);
        }
        if self.settings.reconstruction != before {
            self.reconstruction_dirty = true;
        }
        report.joints = out.drawn.joints;
        report.bones = out.drawn.bones;
        report.persons = out.drawn.persons;
        report.heatmaps = out.heatmaps;
        report.reconstruction_error = out.mean_error;
    }

    /// Draws one frame into `ui` (the whole window); the shells call this from `eframe::App::ui`.
    pub fn ui_root(&mut self, ui: &mut egui::Ui) {
        let now = ui.input(|i| i.time);
        self.fps = self.clock.tick(now);
        let events = self.runner.as_mut().map(|r| r.poll()).unwrap_or_default();
        for e in events {
            if let crate::training::TrainEvent::Saved { checkpoint, .. } = &e {
                self.set_checkpoint(checkpoint);
            }
            self.train.handle(&e);
        }
        if self.reconstruction_dirty && self.settings.tab == Tab::Reconstruct {
            self.refresh_reconstruction();
        }
        self.poll_reconstruction(ui.ctx());
        egui::Panel::top("top-bar").show(ui, |ui| self.top_bar_ui(ui));
        egui::Panel::left("data").default_size(250.0).resizable(true).show(ui, |ui| self.browser_ui(ui));
        let frames = match self.settings.tab {
            Tab::Reconstruct => self.reconstruction.as_ref().and_then(|r| r.as_ref().ok()).map_or(0, |r| r.clip.frames),
            _ => self.shown_seq.frames,
        };
        let fps = self.dataset.fps;
        let mut report = DrawReport {
            tab: self.settings.tab,
            sample: self.shown_seq.name.clone(),
            frame: 0,
            joints: 0,
            bones: 0,
            persons: 0,
            weight_range: [0.0, 0.0],
            weights: self.settings.shown.name(&self.settings.focal),
            heatmaps: 0,
            hidden_tokens: 0,
            fps: self.fps,
            frame_cpu_ms: self.frame_cpu.map(|s| s * 1000.0),
            train_state: self.train.state,
            loss_points: self.train.history.len(),
            last_loss: self.train.history.last().map(|r| r.loss),
            buttons: Default::default(),
            reconstruction_error: None,
            prediction: None,
            message: self.message.clone(),
        };
        egui::CentralPanel::default().show(ui, |ui| match self.settings.tab {
            Tab::Explore => self.explore_ui(ui, &mut report),
            Tab::Train => self.train_ui(ui),
            Tab::Reconstruct => self.reconstruct_ui(ui, &mut report),
            Tab::Learn => self.learn_ui(ui, &mut report),
        });
        if self.settings.timeline.advance(now, fps, frames) || self.runner_busy() {
            ui.ctx().request_repaint();
        }
        let frame = self.settings.timeline.frame;
        report.frame = frame;
        let seq = &self.shown_seq;
        let ws: Vec<f32> = (0..seq.persons)
            .filter(|&m| !seq.person_absent(m))
            .flat_map(|m| (0..seq.joints).map(move |v| (m, v)))
            .map(|(m, v)| self.settings.shown.weight(&self.weights, frame.min(seq.frames.saturating_sub(1)), m, v))
            .collect();
        if !ws.is_empty() {
            report.weight_range =
                [ws.iter().copied().fold(f32::MAX, f32::min), ws.iter().copied().fold(f32::MIN, f32::max)];
        }
        report.buttons = ui.ctx().data_mut(|d| {
            d.get_temp_mut_or_default::<std::collections::BTreeMap<String, [f32; 2]>>(egui::Id::unique(BUTTONS)).clone()
        });
        ui.ctx().data_mut(|d| d.remove::<std::collections::BTreeMap<String, [f32; 2]>>(egui::Id::unique(BUTTONS)));
        if let Ok(mut r) = self.report.lock() {
            *r = Some(report);
        }
        self.apply_commands();
    }

    fn runner_busy(&self) -> bool {
        !matches!(self.train.state, crate::training::TrainState::Idle)
    }
}

impl eframe::App for AmrApp {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        self.frame_cpu = frame.info().cpu_usage;
        self.ui_root(ui);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> AmrApp {
        AmrApp::new(crate::demo::demo_dataset().unwrap(), "demo", Arc::new(Mutex::new(None)))
    }

    #[test]
    fn changing_k_changes_the_weights_and_a_bad_value_is_refused() {
        let mut a = app();
        let before = a.weights.fused.clone();
        let f = FocalConfig { k: 0.5, ..FocalConfig::default() };
        a.queue(AppCommand::SetFocal(f.clone()));
        a.apply_commands();
        assert_eq!(a.weights, focal_weights(&a.shown_seq, &f));
        assert_ne!(a.weights.fused, before);
        a.queue(AppCommand::SetFocal(FocalConfig { k: -1.0, ..f.clone() }));
        a.apply_commands();
        assert_eq!(a.settings.focal, f, "a negative k is refused");
        assert!(a.message.contains("focal.k"), "{}", a.message);
    }

    #[test]
    fn the_masking_preview_switches_to_the_model_clip_and_redraws() {
        let mut a = app();
        a.queue(AppCommand::Preview(PreviewKind::Motion));
        a.apply_commands();
        assert!(a.settings.clip_view);
        assert_eq!(a.shown_seq.frames, 120);
        let first = a.preview.clone().unwrap();
        a.queue(AppCommand::RedrawMask);
        a.apply_commands();
        assert_ne!(a.preview.as_ref().unwrap().motion, first.motion);
        a.queue(AppCommand::ClipView(false));
        a.apply_commands();
        assert!(a.preview.is_none() && a.settings.preview == PreviewKind::Off);
    }

    /// The App in a headless harness (no window, no GPU), its draw reports read back.
    fn harness() -> (egui_kittest::Harness<'static, AmrApp>, ReportSink) {
        let sink: ReportSink = Arc::new(Mutex::new(None));
        let app = AmrApp::new(crate::demo::demo_dataset().unwrap(), "demo", sink.clone());
        let h = egui_kittest::Harness::builder()
            .with_size([1280.0, 800.0])
            .with_accessibility_check(false)
            .build_ui_state(|ui, app: &mut AmrApp| app.ui_root(ui), app);
        (h, sink)
    }

    fn last(sink: &ReportSink) -> DrawReport {
        sink.lock().unwrap().clone().unwrap()
    }

    #[test]
    fn widgets_switch_scales_and_the_k_slider_changes_the_drawn_weights() {
        use egui_kittest::kittest::Queryable as _;
        let (mut h, sink) = harness();
        h.run_steps(3);
        h.get_by_label("Pause").click();
        h.run_steps(3);
        let before = last(&sink);
        assert_eq!((before.weights.as_str(), before.joints, before.heatmaps), ("fused", 21, 1));
        h.get_by_role_and_label(egui::Role::Slider, "k").set_value_accesskit(0.5);
        h.run_steps(3);
        let after = last(&sink);
        assert_eq!(after.frame, before.frame, "the timeline is paused");
        assert!((h.state().settings.focal.k - 0.5).abs() < 1e-6);
        assert_ne!(after.weight_range, before.weight_range, "k changes the weights drawn");
        // The drawn range is that of the reference weights at the new k.
        let w = focal_weights(&h.state().shown_seq, &FocalConfig { k: 0.5, ..FocalConfig::default() });
        let ws: Vec<f32> = (0..21).map(|v| w.fused_at(after.frame, 0, v)).collect();
        assert_eq!(after.weight_range[1], ws.iter().copied().fold(f32::MIN, f32::max));
        h.get_by_label("n=4").click();
        h.run_steps(3);
        assert_eq!(last(&sink).weights, "n=4");
        h.get_by_label("side by side").click();
        h.run_steps(3);
        let side = last(&sink);
        assert_eq!((side.heatmaps, side.joints), (4, 4 * 21), "three scales and the fused weights");
        h.get_by_label("motion-aware").click();
        h.run_steps(3);
        assert_eq!(last(&sink).hidden_tokens, 630 - 63);
        // A two-person dataset draws both persons.
        let two = amr_core::data::synthetic_dataset(&amr_core::skeleton::ntu25(), 2, 40, 2, 1);
        h.state_mut().set_dataset(two, "two.safetensors");
        h.get_by_label("side by side").click();
        h.run_steps(3);
        let r = last(&sink);
        assert_eq!((r.persons, r.joints, r.bones), (2, 50, 48), "{r:?}");
    }

    #[test]
    fn a_url_fragment_reopens_the_same_view() {
        let mut a = app();
        a.apply_url_hash("#tab=learn&s=5&f=12&j=7&k=0.2&n=4,10&view=scale1&side=1&mask=random&seed=3");
        assert_eq!(a.settings.tab, Tab::Learn);
        assert_eq!((a.sample, a.settings.timeline.frame, a.selected_joint), (5, 12, Some(7)));
        assert_eq!(a.settings.focal.windows, vec![4, 10]);
        assert_eq!(a.weights, focal_weights(&a.shown_seq, &a.settings.focal));
        assert_eq!((a.settings.shown, a.settings.side_by_side), (Shown::Scale(1), true));
        assert_eq!((a.settings.preview, a.settings.mask_seed), (PreviewKind::Random, 3));
        let hash = a.url_hash();
        let mut b = app();
        b.apply_url_hash(&hash);
        assert_eq!(b.url_hash(), hash);
        assert_eq!(b.weights, a.weights);
        b.apply_url_hash("k=oops");
        assert!(b.message.contains("k=oops"), "{}", b.message);
        assert_eq!(b.settings.focal.k, a.settings.focal.k);
        // Hundreds of window sizes (each would keep a copy of the clip's weights): named and skipped.
        let many = vec!["3"; 500].join(",");
        b.apply_url_hash(&format!("n={many}"));
        assert!(b.message.contains("at most 8 window sizes"), "{}", b.message);
        assert_eq!(b.settings.focal.windows, a.settings.focal.windows);
    }

    /// An evaluation checkpoint of a small random classifier for `joints` joints and 10 classes.
    fn classifier_bytes(joints: usize) -> Vec<u8> {
        let mut config = amr_core::eval::EvalConfig::for_protocol(amr_core::eval::Protocol::Finetune);
        config.model = config.model.with_joints(joints).with_dim(16).with_heads(2).with_mlp(32).with_encoder_depth(1);
        config.clip.frames = config.model.frames;
        let model =
            amr_core::eval::classifier::Classifier::new(&config.model, 8, 10, 1, &amr_core::backend::cpu_device());
        let ckpt = EvalCheckpoint {
            config,
            model: amr_core::model::named_params(&model),
            optimizer: Default::default(),
            state: None,
        };
        ckpt.to_bytes().unwrap()
    }

    #[test]
    fn a_loaded_classifier_predicts_the_shown_sequence_in_explore_and_reconstruct() {
        let (mut h, sink) = harness();
        h.state_mut().load_checkpoint_bytes(&classifier_bytes(21), "eval.safetensors");
        assert!(h.state().message().starts_with("classifier eval.safetensors (finetune run, 10 classes)"));
        h.run_steps(2);
        let first = last(&sink).prediction.expect("a prediction in the explore tab");
        let want = h.state().prediction.clone().unwrap().unwrap();
        assert_eq!(want.top.len(), 5);
        assert_eq!(first, want.top[0].name);
        assert!((want.top.iter().map(|c| c.probability).sum::<f32>()) <= 1.0 + 1e-5);
        // Another sample: the prediction follows it.
        h.state_mut().queue(AppCommand::Select(7));
        h.state_mut().apply_commands();
        let other = h.state().prediction.clone().unwrap().unwrap();
        assert_eq!(other.sequence, h.state().dataset().sequences[7].name);
        h.state_mut().queue(AppCommand::Tab(Tab::Reconstruct));
        h.run_steps(2);
        assert_eq!(last(&sink).prediction.as_deref(), Some(other.top[0].name.as_str()));
        // A classifier of another joint layout says so instead of predicting.
        h.state_mut().load_checkpoint_bytes(&classifier_bytes(25), "ntu.safetensors");
        h.run_steps(2);
        assert_eq!(last(&sink).prediction, None);
        let e = h.state().prediction.clone().unwrap().unwrap_err();
        assert!(e.contains("21 joints") && e.contains("25 joints"), "{e}");
        // Bytes that are no checkpoint at all keep the classifier and name the file.
        let before = h.state().prediction.clone();
        h.state_mut().load_checkpoint_bytes(b"not a checkpoint", "junk.safetensors");
        assert!(h.state().message().contains("junk.safetensors"), "{}", h.state().message());
        assert_eq!(h.state().prediction, before);
    }

    #[test]
    fn settings_survive_a_round_trip() {
        let mut a = app();
        a.queue(AppCommand::SetFocal(FocalConfig { k: 0.2, windows: vec![6, 10], ..FocalConfig::default() }));
        a.queue(AppCommand::SideBySide(true));
        a.apply_commands();
        let s = a.settings();
        let text = serde_json::to_string(&s).unwrap();
        let back: Settings = serde_json::from_str(&text).unwrap();
        assert_eq!(back, s);
        let b = app().with_settings(back);
        assert_eq!(b.settings.focal.windows, vec![6, 10]);
        assert!(b.settings.side_by_side);
        // Stored values out of bounds are named and reset, the rest kept.
        let mut stored = s.clone();
        stored.focal.windows = vec![4; 1000];
        stored.shown = Shown::Scale(700);
        let c = app().with_settings(stored);
        assert_eq!(c.settings.focal, FocalConfig::default());
        assert_eq!(c.settings.shown, Shown::Fused);
        assert!(c.settings.side_by_side);
        assert!(c.message.contains("stored settings") && c.message.contains("focal.windows"), "{}", c.message);
    }
}
