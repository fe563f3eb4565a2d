//! The training panel: the key settings of the run config (the rest from a TOML file), start, pause,
//! continue, stop and save, the live loss (beside the trivial predictor's) and learning-rate curves,
//! throughput and ETA.

use amr_core::focal::FocalConfig;
use amr_core::pretrain::{Masking, PretrainConfig, StepReport, parse_pretrain_config};
use egui_plot::{Legend, Line, Plot, PlotPoints};

use crate::training::{RunStart, TrainCommand, TrainEvent, TrainState};

/// The loss curve's colour (UI tests look for it in screenshots).
pub const LOSS_COLOUR: egui::Color32 = egui::Color32::from_rgb(255, 120, 40);

/// The trivial predictor's curve: the loss of a model that explains nothing.
pub const TRIVIAL_COLOUR: egui::Color32 = egui::Color32::from_rgb(150, 150, 150);

/// What the panel asks of the App beyond the runner.
#[derive(Debug, Clone, PartialEq)]
pub enum PanelAction {
    /// A command for the runner.
    Train(TrainCommand),
    /// Open a TOML run config.
    LoadConfig,
    /// Open a checkpoint for the reconstruction view.
    LoadCheckpoint,
    /// Export the loss curve as PNG and SVG.
    ExportLoss,
}

/// The panel's state.
pub struct TrainPanel {
    /// The config the next run starts with.
    pub config: PretrainConfig,
    /// The run folder of the next run (or the one to resume).
    pub dir: String,
    /// Where the run stands.
    pub state: TrainState,
    /// Every step of the current run (a resumed run starts with its saved metrics).
    pub history: Vec<StepReport>,
    /// Steps of the current run's schedule.
    pub total_steps: usize,
    /// The current run's device, in words.
    pub device: String,
    /// The last thing that happened, in words.
    pub status: String,
    /// Whether the platform has a file system for run folders (not in the browser).
    pub has_files: bool,
}

impl TrainPanel {
    /// A panel with the demo config and run folder `dir`.
    pub fn new(dir: String, has_files: bool) -> Self {
        Self {
            config: PretrainConfig::demo(),
            dir,
            state: TrainState::Idle,
            history: Vec::new(),
            total_steps: 0,
            device: String::new(),
            status: "no run".into(),
            has_files,
        }
    }

    /// Replaces the config by the one in a TOML file's `text`; the error names the file and field.
    pub fn load_config_text(&mut self, text: &str, path: &str) -> Result<(), String> {
        self.config = parse_pretrain_config(text, std::path::Path::new(path)).map_err(|e| e.to_string())?;
        self.status = format!("config from {path}");
        Ok(())
    }

    /// Takes in a runner's event.
    pub fn handle(&mut self, event: &TrainEvent) {
        match event {
            TrainEvent::Started(start) => {
                let RunStart { dir, device, total_steps, history, config } = &**start;
                self.state = TrainState::Running;
                self.history.clone_from(history);
                self.total_steps = *total_steps;
                self.device.clone_from(device);
                self.config = config.clone();
                self.status = format!("training in {dir} on {device}");
            }
            TrainEvent::Step(r) => {
                if self.state == TrainState::Starting {
                    self.state = TrainState::Running;
                }
                self.history.push(r.clone());
            }
            TrainEvent::Paused => {
                self.state = TrainState::Paused;
                self.status = "paused".into();
            }
            TrainEvent::Continued => {
                self.state = TrainState::Running;
                self.status = "running".into();
            }
            TrainEvent::Saved { path, .. } => self.status = format!("checkpoint written: {path}"),
            TrainEvent::Ended { steps, reason } => {
                self.state = TrainState::Idle;
                self.status = format!("ended after step {steps}: {reason}");
            }
            TrainEvent::Failed(e) => {
                self.state = TrainState::Idle;
                self.status = format!("failed: {e}");
            }
        }
    }

    /// Mean seconds per step over the last 20 steps.
    fn seconds_per_step(&self) -> Option<f64> {
        let tail = &self.history[self.history.len().saturating_sub(20)..];
        (!tail.is_empty()).then(|| tail.iter().map(|r| r.seconds).sum::<f64>() / tail.len() as f64)
    }

    /// Throughput over the last 20 steps and the time left, in words.
    pub fn progress_text(&self) -> String {
        let Some(last) = self.history.last() else { return "no steps yet".into() };
        let spp = self.seconds_per_step().unwrap_or(0.0);
        let tail = &self.history[self.history.len().saturating_sub(20)..];
        let seqs: usize = tail.iter().map(|r| r.sequences).sum();
        let secs: f64 = tail.iter().map(|r| r.seconds).sum();
        let eta = spp * self.total_steps.saturating_sub(last.step) as f64;
        format!(
            "step {}/{}  epoch {:.2}  loss {:.4}  trivial {:.4}  ratio {:.3}  lr {:.2e}  {:.1} seq/s  ETA {}",
            last.step,
            self.total_steps,
            last.epoch,
            last.loss,
            last.trivial,
            last.ratio(),
            last.lr,
            if secs > 0.0 { seqs as f64 / secs } else { 0.0 },
            clock(eta)
        )
    }

    /// Draws the panel; `focal` is the explorer's weighting, which the run can take over.
    pub fn panel_ui(&mut self, ui: &mut egui::Ui, focal: &FocalConfig) -> Vec<PanelAction> {
        let mut actions = Vec::new();
        let idle = self.state == TrainState::Idle;
        ui.horizontal(|ui| {
            ui.heading("Pretraining");
            ui.label(format!("[{}]", state_word(self.state)));
        });
        ui.add_enabled_ui(idle, |ui| self.settings_ui(ui, focal, &mut actions));
        let valid = self.config.validate();
        if let Err(e) = &valid {
            ui.colored_label(ui.visuals().error_fg_color, &e.message);
        }
        ui.horizontal(|ui| {
            let start = ui.add_enabled(idle && valid.is_ok(), egui::Button::new("Start"));
            crate::draw_report::remember_centre(ui, "start", &start);
            if start.clicked() {
                actions.push(PanelAction::Train(TrainCommand::Start {
                    config: Box::new(self.config.clone()),
                    dir: self.dir.clone(),
                }));
                self.state = TrainState::Starting;
                self.history.clear();
                self.status = "starting".into();
            }
            if self.has_files && ui.add_enabled(idle, egui::Button::new("Resume folder")).clicked() {
                actions.push(PanelAction::Train(TrainCommand::Resume { dir: self.dir.clone() }));
                self.state = TrainState::Starting;
                self.status = "resuming".into();
            }
            match self.state {
                TrainState::Running => {
                    let pause = ui.button("Pause");
                    crate::draw_report::remember_centre(ui, "pause", &pause);
                    if pause.clicked() {
                        actions.push(PanelAction::Train(TrainCommand::Pause));
                    }
                }
                TrainState::Paused if ui.button("Continue").clicked() => {
                    actions.push(PanelAction::Train(TrainCommand::Continue));
                }
                _ => {}
            }
            let active = matches!(self.state, TrainState::Running | TrainState::Paused);
            let stop = ui.add_enabled(active, egui::Button::new("Stop"));
            crate::draw_report::remember_centre(ui, "stop", &stop);
            if stop.clicked() {
                actions.push(PanelAction::Train(TrainCommand::Stop));
                self.state = TrainState::Stopping;
            }
            let save_label = if self.has_files { "Save checkpoint" } else { "Download checkpoint" };
            let save = ui.add_enabled(active, egui::Button::new(save_label));
            crate::draw_report::remember_centre(ui, "save", &save);
            if save.clicked() {
                actions.push(PanelAction::Train(TrainCommand::Save));
            }
            if ui.button("Load checkpoint…").clicked() {
                actions.push(PanelAction::LoadCheckpoint);
            }
            if ui.add_enabled(!self.history.is_empty(), egui::Button::new("Export loss")).clicked() {
                actions.push(PanelAction::ExportLoss);
            }
        });
        ui.label(&self.status);
        ui.monospace(self.progress_text());
        if self.total_steps > 0
            && let Some(last) = self.history.last()
        {
            ui.add(egui::ProgressBar::new(last.step as f32 / self.total_steps as f32));
        }
        self.curves_ui(ui);
        actions
    }

    fn settings_ui(&mut self, ui: &mut egui::Ui, focal: &FocalConfig, actions: &mut Vec<PanelAction>) {
        let c = &mut self.config;
        egui::Grid::new("run-settings").num_columns(4).spacing([12.0, 4.0]).show(ui, |ui| {
            if self.has_files {
                ui.label("run folder");
                ui.text_edit_singleline(&mut self.dir);
                ui.label("data");
                ui.text_edit_singleline(&mut c.run.data).on_hover_text("`embedded` or a dataset file");
                ui.end_row();
            }
            ui.label("epochs");
            ui.add(egui::DragValue::new(&mut c.schedule.epochs).range(1.0..=1000.0).speed(1.0));
            ui.label("warm-up epochs");
            ui.add(egui::DragValue::new(&mut c.schedule.warmup_epochs).range(0.0..=100.0).speed(0.5));
            ui.end_row();
            ui.label("batch size");
            ui.add(egui::DragValue::new(&mut c.batch_size).range(1..=512));
            ui.label("learning rate");
            ui.add(egui::DragValue::new(&mut c.schedule.lr).range(1e-6..=1e-1).speed(1e-5).max_decimals(6));
            ui.end_row();
            ui.label("mask ratio");
            ui.add(egui::Slider::new(&mut c.batch.mask_ratio, 0.0..=0.98));
            ui.label("masking");
            egui::ComboBox::from_id_salt("masking").selected_text(format!("{:?}", c.batch.masking)).show_ui(ui, |ui| {
                ui.selectable_value(&mut c.batch.masking, Masking::Motion, "Motion");
                ui.selectable_value(&mut c.batch.masking, Masking::Random, "Random");
            });
            ui.end_row();
            ui.label("focal reconstruction");
            ui.checkbox(&mut c.batch.focal_reconstruction, "");
            ui.label("weighting");
            ui.horizontal(|ui| {
                ui.label(format!("k {} eps {:.0e} n {:?}", c.batch.focal.k, c.batch.focal.eps, c.batch.focal.windows));
                if ui.small_button("take explorer's").clicked() {
                    c.batch.focal = focal.clone();
                }
            });
            ui.end_row();
            ui.label("width / heads");
            ui.horizontal(|ui| {
                ui.add(egui::DragValue::new(&mut c.model.dim).range(8..=1024));
                ui.add(egui::DragValue::new(&mut c.model.heads).range(1..=32));
            });
            ui.label("encoder / decoder depth");
            ui.horizontal(|ui| {
                ui.add(egui::DragValue::new(&mut c.model.encoder_depth).range(1..=24));
                ui.add(egui::DragValue::new(&mut c.model.decoder_depth).range(1..=12));
            });
            ui.end_row();
            ui.label("seed");
            ui.add(egui::DragValue::new(&mut c.seed));
            ui.label("max steps (0: all)");
            ui.add(egui::DragValue::new(&mut c.run.max_steps).range(0..=10_000_000));
            ui.end_row();
        });
        if ui
            .button("Load run config (TOML)…")
            .on_hover_text("every key the file leaves out keeps its default")
            .clicked()
        {
            actions.push(PanelAction::LoadConfig);
        }
    }

    fn curves_ui(&self, ui: &mut egui::Ui) {
        let loss: Vec<[f64; 2]> = self.history.iter().map(|r| [r.step as f64, f64::from(r.loss)]).collect();
        let trivial: Vec<[f64; 2]> = self.history.iter().map(|r| [r.step as f64, f64::from(r.trivial)]).collect();
        let lr: Vec<[f64; 2]> = self.history.iter().map(|r| [r.step as f64, r.lr]).collect();
        let h = (ui.available_height() - 130.0).max(120.0);
        Plot::new("loss-curve").height(h).legend(Legend::default()).x_axis_label("step").y_axis_label("loss").show(
            ui,
            |p| {
                p.line(Line::new("trivial predictor", PlotPoints::from(trivial)).color(TRIVIAL_COLOUR).width(1.5));
                p.line(Line::new("loss", PlotPoints::from(loss)).color(LOSS_COLOUR).width(2.0));
            },
        );
        Plot::new("lr-curve")
            .height(110.0)
            .x_axis_label("step")
            .y_axis_label("learning rate")
            .y_axis_formatter(|m, _| format!("{:.1e}", m.value))
            .show(ui, |p| p.line(Line::new("lr", PlotPoints::from(lr))));
    }
}

fn state_word(s: TrainState) -> &'static str {
    match s {
        TrainState::Idle => "idle",
        TrainState::Starting => "starting",
        TrainState::Running => "running",
        TrainState::Paused => "paused",
        TrainState::Stopping => "stopping",
    }
}

/// Seconds as h:mm:ss.
fn clock(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(step: usize, seconds: f64) -> StepReport {
        StepReport {
            step,
            epoch: step as f64 / 10.0,
            loss: 1.0 / step as f32,
            trivial: 1.0,
            lr: 1e-3,
            sequences: 16,
            seconds,
        }
    }

    #[test]
    fn progress_gives_throughput_and_time_left() {
        let mut p = TrainPanel::new("runs/x".into(), true);
        p.handle(&TrainEvent::Started(Box::new(RunStart {
            dir: "runs/x".into(),
            device: "cpu".into(),
            total_steps: 100,
            history: vec![],
            config: PretrainConfig::demo(),
        })));
        for s in 1..=4 {
            p.handle(&TrainEvent::Step(report(s, 0.5)));
        }
        // 16 sequences per 0.5 s step = 32 seq/s; 96 steps left x 0.5 s = 48 s.
        let t = p.progress_text();
        assert!(t.contains("step 4/100") && t.contains("32.0 seq/s") && t.contains("ETA 0:00:48"), "{t}");
        assert_eq!(p.state, TrainState::Running);
        p.handle(&TrainEvent::Ended { steps: 4, reason: "stopped".into() });
        assert_eq!(p.state, TrainState::Idle);
        assert_eq!(clock(3725.0), "1:02:05");
    }

    #[test]
    fn a_bad_config_file_is_named_and_keeps_the_old_config() {
        let mut p = TrainPanel::new("runs/x".into(), true);
        let before = p.config.clone();
        let e = p.load_config_text("[schedule]\nlr = \"fast\"\n", "bad.toml").unwrap_err();
        assert!(e.contains("bad.toml") && e.contains("lr"), "{e}");
        assert_eq!(p.config, before);
        p.load_config_text("batch_size = 7\n", "ok.toml").unwrap();
        assert_eq!(p.config.batch_size, 7);
        assert_eq!(p.config.schedule.epochs, PretrainConfig::default().schedule.epochs);
    }
}
