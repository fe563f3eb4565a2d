//! The App both shells run: the data browser, the weighting explorer (skeleton, heatmaps, single vs
//! multi-scale, masking preview), the training panel and the reconstruction view.
//!
//! Widgets queue [`AppCommand`]s that the App applies at the end of the frame; what needs the platform
//! (files, pictures, the trainer) leaves as [`Request`]s or goes to the shell's [`TrainRunner`].
//! This file keeps the App's state, the command reducer and the frame root; the tabs and panels have
//! their own files.

mod data_browser;
mod explore_tab;
mod top_bar;

use std::sync::Arc;

use amr_core::backend::Device;
use amr_core::data::clip::test_clip;
use amr_core::data::{Dataset, DatasetStats, Sequence};
use amr_core::eval::{EvalCheckpoint, Prediction, Predictor};
use amr_core::focal::{FocalConfig, FocalWeights, focal_weights};
use amr_core::pretrain::{Checkpoint, PretrainConfig, Reconstruction, Reconstructor, StepReport};

use crate::command::{AppCommand, Request, Tab};
use crate::draw_report::{DrawReport, ReportSink, take_button_centres};
use crate::explorer::{MaskPreview, PreviewKind, Shown};
use crate::frame_clock::FrameClock;
use crate::frame_future::FrameFuture;
use crate::learn::{learn_fusion_ui, learn_loss_ui, learn_steps_ui};
use crate::reconstruction_view::reconstruction_ui;
use crate::settings::Settings;
use crate::training::TrainRunner;
use crate::training_panel::{PanelAction, TrainPanel};
use crate::url_state::UrlState;

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
            bad.push(e.message);
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
            Err(e) => self.notify(e.to_string()),
        }
    }

    /// Uses the shipped model ([`amr_core::demo`]) for the reconstruction view unless a model is there
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
            let mut top = p.predict(&self.dataset, &[self.sample], 5).map_err(|e| e.to_string())?;
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
            Ok(pending) => {
                self.pending_reconstruction =
                    Some(FrameFuture::new(async move { pending.finish().await.map_err(|e| e.to_string()) }));
            }
            Err(e) => self.reconstruction = Some(Err(e.to_string())),
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
            animating: false,
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
        // A playing clip needs the next frame soon. A training run does not: every runner wakes the
        // App on each of its events, and drawing between them would take the CPU the run needs.
        report.animating = self.settings.timeline.advance(now, fps, frames);
        if report.animating {
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
        report.buttons = take_button_centres(ui.ctx());
        if let Ok(mut r) = self.report.lock() {
            *r = Some(report);
        }
        self.apply_commands();
    }
}

impl eframe::App for AmrApp {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        self.frame_cpu = frame.info().cpu_usage;
        self.ui_root(ui);
    }
}

#[cfg(test)]
mod tests;
