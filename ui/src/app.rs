//! The App both shells run: a sample browser, the skeleton coloured by focal weight, the joint x time
//! heatmap and the weighting controls.

use std::sync::{Arc, Mutex};

use amr_core::data::Dataset;
use amr_core::focal::{FocalConfig, FocalWeights, Fusion, focal_weights};

use crate::colormap::legend_ui;
use crate::heatmap::heatmap_ui;
use crate::skeleton_view::{Camera, skeleton_ui};

/// What the App drew in its last frame, for tests and status lines.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DrawReport {
    /// Name of the sample shown.
    pub sample: String,
    /// Frame shown.
    pub frame: usize,
    /// Joints drawn.
    pub joints: usize,
    /// Bones drawn.
    pub bones: usize,
    /// Persons drawn.
    pub persons: usize,
    /// Smallest and largest focal weight among the joints drawn.
    pub weight_range: [f32; 2],
    /// Which weights colour the joints (`fused` or `n=4`, ...).
    pub weights: String,
}

/// Where the App puts its [`DrawReport`]s; the shell keeps the other handle.
pub type ReportSink = Arc<Mutex<Option<DrawReport>>>;

/// Which weights the views show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    Fused,
    Scale(usize),
}

/// The AMR App.
pub struct AmrApp {
    /// Shared so a frame can borrow a sequence while the App's own state changes.
    dataset: Arc<Dataset>,
    sample: usize,
    filter: String,
    focal: FocalConfig,
    weights: FocalWeights,
    shown: Shown,
    frame: usize,
    playing: bool,
    speed: f32,
    clock: f64,
    camera: Camera,
    report: ReportSink,
}

impl AmrApp {
    /// An App showing `dataset` (sample 0); draw reports go to `report`.
    pub fn new(dataset: Dataset, report: ReportSink) -> Self {
        let focal = FocalConfig::default();
        let weights = dataset.sequences.first().map_or_else(
            || focal_weights(&amr_core::data::Sequence::new("", -1, 0, 1, 0, vec![]), &focal),
            |s| focal_weights(s, &focal),
        );
        Self {
            dataset: Arc::new(dataset),
            sample: 0,
            filter: String::new(),
            focal,
            weights,
            shown: Shown::Fused,
            frame: 0,
            playing: true,
            speed: 1.0,
            clock: 0.0,
            camera: Camera::default(),
            report,
        }
    }

    fn select(&mut self, i: usize) {
        self.sample = i;
        self.frame = 0;
        self.recompute();
    }

    fn recompute(&mut self) {
        if let Some(s) = self.dataset.sequences.get(self.sample) {
            self.weights = focal_weights(s, &self.focal);
        }
    }

    fn weight_at(&self, t: usize, m: usize, v: usize) -> f32 {
        match self.shown {
            Shown::Fused => self.weights.fused_at(t, m, v),
            Shown::Scale(i) => {
                self.weights.scales.get(i).map_or(0.0, |s| s.weight_at_frame(t, m, v, self.weights.joints))
            }
        }
    }

    fn browser_ui(&mut self, ui: &mut egui::Ui) {
        ui.heading("Samples");
        ui.label(format!(
            "{} sequences, {} classes, {} fps",
            self.dataset.len(),
            self.dataset.label_names.len(),
            self.dataset.fps
        ));
        ui.text_edit_singleline(&mut self.filter);
        let filter = self.filter.to_lowercase();
        let mut chosen = None;
        egui::ScrollArea::vertical().show(ui, |ui| {
            for (i, s) in self.dataset.sequences.iter().enumerate() {
                let class = usize::try_from(s.label)
                    .ok()
                    .and_then(|l| self.dataset.label_names.get(l))
                    .map_or("-", String::as_str);
                let text = format!("{} [{class}]", s.name);
                if !filter.is_empty() && !text.to_lowercase().contains(&filter) {
                    continue;
                }
                if ui.selectable_label(i == self.sample, text).clicked() {
                    chosen = Some(i);
                }
            }
        });
        if let Some(i) = chosen {
            self.select(i);
        }
    }

    fn controls_ui(&mut self, ui: &mut egui::Ui, frames: usize) {
        ui.horizontal(|ui| {
            if ui.button(if self.playing { "Pause" } else { "Play" }).clicked() {
                self.playing = !self.playing;
            }
            ui.add(egui::Slider::new(&mut self.frame, 0..=frames.saturating_sub(1)).text("frame"));
            ui.add(egui::Slider::new(&mut self.speed, 0.1..=4.0).text("speed"));
        });
        ui.horizontal(|ui| {
            ui.label("weights:");
            ui.selectable_value(&mut self.shown, Shown::Fused, "fused");
            for (i, n) in self.focal.windows.clone().iter().enumerate() {
                ui.selectable_value(&mut self.shown, Shown::Scale(i), format!("n={n}"));
            }
            let mut changed =
                ui.add(egui::Slider::new(&mut self.focal.k, 0.001..=1.0).logarithmic(true).text("k")).changed();
            let mut max = self.focal.fusion == Fusion::Max;
            if ui.checkbox(&mut max, "max fusion").changed() {
                self.focal.fusion = if max { Fusion::Max } else { Fusion::Mean };
                changed = true;
            }
            if changed {
                self.recompute();
            }
            legend_ui(ui, "focal weight");
        });
    }
}

impl eframe::App for AmrApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::Panel::left("samples").default_size(240.0).show(ui, |ui| self.browser_ui(ui));
        let dataset = Arc::clone(&self.dataset);
        let Some(seq) = dataset.sequences.get(self.sample) else {
            egui::CentralPanel::default().show(ui, |ui| ui.label("No sequences in this dataset."));
            return;
        };
        let now = ui.input(|i| i.time);
        if self.playing && seq.frames > 0 {
            let dt = now - self.clock;
            if dt >= 1.0 / (f64::from(self.dataset.fps) * f64::from(self.speed)) {
                self.frame = (self.frame + 1) % seq.frames;
                self.clock = now;
            }
            ui.ctx().request_repaint();
        }
        egui::CentralPanel::default().show(ui, |ui| {
            ui.heading(format!("{}  (frame {}/{})", seq.name, self.frame + 1, seq.frames));
            self.controls_ui(ui, seq.frames);
            let names = &dataset.layout.joint_names;
            let hovered = egui::Panel::bottom("heatmap")
                .default_size(200.0)
                .show(ui, |ui| heatmap_ui(ui, seq.frames, names, self.frame, &|t, v| self.weight_at(t, 0, v)));
            if let Some((t, v)) = hovered.inner {
                let e = match self.shown {
                    Shown::Scale(i) => {
                        self.weights.scales.get(i).map_or(0.0, |s| s.energy_at_frame(t, 0, v, self.weights.joints))
                    }
                    Shown::Fused => f32::NAN,
                };
                hovered.response.on_hover_text(format!(
                    "{} frame {t}: weight {:.4}, energy {e:.3e}",
                    names[v],
                    self.weight_at(t, 0, v)
                ));
            }
            let mut camera = self.camera;
            let frame = self.frame;
            let drawn = skeleton_ui(ui, seq, &dataset.layout, frame, &mut camera, &|t, m, v| self.weight_at(t, m, v));
            self.camera = camera;
            let ws: Vec<f32> = (0..seq.persons)
                .flat_map(|m| (0..seq.joints).map(move |v| (m, v)))
                .map(|(m, v)| self.weight_at(frame, m, v))
                .collect();
            let report = DrawReport {
                sample: seq.name.clone(),
                frame,
                joints: drawn.joints,
                bones: drawn.bones,
                persons: drawn.persons,
                weight_range: [
                    ws.iter().copied().fold(f32::MAX, f32::min),
                    ws.iter().copied().fold(f32::MIN, f32::max),
                ],
                weights: match self.shown {
                    Shown::Fused => "fused".into(),
                    Shown::Scale(i) => format!("n={}", self.focal.windows.get(i).copied().unwrap_or(0)),
                },
            };
            if let Ok(mut r) = self.report.lock() {
                *r = Some(report);
            }
        });
    }
}
