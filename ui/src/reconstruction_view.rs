//! The reconstruction view: for the selected clip and the current checkpoint, the input with its
//! hidden tokens greyed, the model's reconstruction over it, and the error per frame and joint.

use amr_core::pretrain::{Masking, Reconstruction};
use amr_core::skeleton::Layout;
use egui_plot::{Bar, BarChart, Plot};

use crate::heatmap::{HeatmapView, heatmap_ui};
use crate::skeleton_view::{Camera, Drawn, SkeletonView, skeleton_ui};
use crate::timeline::Timeline;

/// Which masking the view draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MaskingChoice {
    /// The run's own masking.
    #[default]
    Run,
    /// Motion-aware masking.
    Motion,
    /// Random masking.
    Random,
}

impl MaskingChoice {
    /// The override for the reconstructor.
    pub fn kind(self) -> Option<Masking> {
        match self {
            Self::Run => None,
            Self::Motion => Some(Masking::Motion),
            Self::Random => Some(Masking::Random),
        }
    }
}

/// The view's choices.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ReconstructionSettings {
    /// Masking.
    pub masking: MaskingChoice,
    /// Seed of the mask.
    pub seed: u64,
}

/// What the view drew and asked for.
#[derive(Debug, Default)]
pub struct ReconstructionOutput {
    /// The first skeleton view.
    pub drawn: Drawn,
    /// Heatmaps drawn.
    pub heatmaps: usize,
    /// Mean of the per-joint errors.
    pub mean_error: Option<f32>,
    /// The user asked to open a checkpoint.
    pub load_checkpoint: bool,
}

/// Squared error of frame `t`, joint `v` (summed over the axes).
fn cell_error(r: &Reconstruction, t: usize, v: usize) -> f32 {
    let j = r.clip.joints;
    (0..3).map(|c| (r.prediction[(t * j + v) * 3 + c] - r.target[(t * j + v) * 3 + c]).powi(2)).sum()
}

/// Mean squared error of the hidden and of the visible cells.
pub fn hidden_visible_error(r: &Reconstruction) -> [f32; 2] {
    let mut sums = [0.0f64; 2];
    let mut counts = [0usize; 2];
    for t in 0..r.clip.frames {
        for v in 0..r.clip.joints {
            let k = usize::from(!r.is_masked(t, v));
            sums[k] += f64::from(cell_error(r, t, v)) / 3.0;
            counts[k] += 1;
        }
    }
    [0, 1].map(|k| (sums[k] / counts[k].max(1) as f64) as f32)
}

/// Draws the view.
pub fn reconstruction_ui(
    ui: &mut egui::Ui,
    settings: &mut ReconstructionSettings,
    rec: Option<&Result<Reconstruction, String>>,
    has_model: bool,
    layout: &Layout,
    timeline: &mut Timeline,
    camera: &mut Camera,
) -> ReconstructionOutput {
    let mut out = ReconstructionOutput::default();
    ui.horizontal(|ui| {
        ui.heading("Reconstruction");
        ui.label("masking:");
        ui.selectable_value(&mut settings.masking, MaskingChoice::Run, "the run's");
        ui.selectable_value(&mut settings.masking, MaskingChoice::Motion, "motion-aware");
        ui.selectable_value(&mut settings.masking, MaskingChoice::Random, "random");
        ui.add(egui::DragValue::new(&mut settings.seed).prefix("seed "));
        if ui.button("redraw").clicked() {
            settings.seed = settings.seed.wrapping_add(1);
        }
        if ui.button("Load checkpoint…").clicked() {
            out.load_checkpoint = true;
        }
    });
    if !has_model {
        ui.label("No model yet: train a few steps (the first checkpoint appears here) or load a checkpoint.");
        return out;
    }
    let r = match rec {
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            ui.colored_label(ui.visuals().error_fg_color, e);
            return out;
        }
        None => {
            // With a model, no result yet means its read-back is still on its way.
            ui.label("Waiting for the device to read the reconstruction back…");
            return out;
        }
    };
    let names = &layout.joint_names;
    let mean = r.joint_error.iter().sum::<f32>() / r.joint_error.len().max(1) as f32;
    out.mean_error = Some(mean);
    let [hidden_e, visible_e] = hidden_visible_error(r);
    ui.label(format!(
        "{} of {} tokens hidden; mean squared error {mean:.4} (hidden tokens {hidden_e:.4}, visible {visible_e:.4})",
        r.masked.iter().filter(|&&m| m).count(),
        r.masked.len()
    ));
    timeline.timeline_ui(ui, r.clip.frames);
    let frame = timeline.frame.min(r.clip.frames.saturating_sub(1));
    egui::Panel::bottom("reconstruction-maps").resizable(true).default_size(300.0).show(ui, |ui| {
        let max_err = (0..r.clip.frames)
            .flat_map(|t| (0..r.clip.joints).map(move |v| (t, v)))
            .map(|(t, v)| cell_error(r, t, v))
            .fold(1e-12f32, f32::max);
        let err = |t: usize, v: usize| cell_error(r, t, v) / max_err;
        let hidden = |t: usize, v: usize| r.is_masked(t, v);
        ui.label("squared error per frame and joint (hidden tokens dimmed; scale: largest cell = 1)");
        heatmap_ui(
            ui,
            &HeatmapView {
                frames: r.clip.frames,
                joint_names: names,
                cursor: frame,
                selected_joint: None,
                value: &err,
                hidden: Some(&hidden),
                height: 150.0,
                id: "reconstruction-error",
            },
        );
        out.heatmaps = 1;
        let bars: Vec<Bar> = r
            .joint_error
            .iter()
            .enumerate()
            .map(|(v, &e)| Bar::new(v as f64, f64::from(e)).name(names.get(v).map_or("?", String::as_str)))
            .collect();
        Plot::new("joint-error")
            .height(ui.available_height().max(80.0))
            .x_axis_label("joint")
            .y_axis_label("mean squared error")
            .show(ui, |p| p.bar_chart(BarChart::new("error per joint", bars)));
    });
    let error_colour = |_: usize, _: usize, v: usize| {
        r.joint_error.get(v).map_or(0.0, |e| e / r.joint_error.iter().copied().fold(1e-12, f32::max))
    };
    let hidden3 = |t: usize, _: usize, v: usize| r.is_masked(t, v);
    let uniform = |_: usize, _: usize, _: usize| 0.5;
    let height = ui.available_height();
    ui.columns(2, |cols| {
        for c in cols.iter_mut() {
            c.set_max_height(height);
        }
        cols[0].label("input, hidden tokens grey; reconstruction in cyan");
        out.drawn = skeleton_ui(
            &mut cols[0],
            &SkeletonView {
                seq: &r.clip,
                layout,
                frame,
                weight: &uniform,
                hidden: Some(&hidden3),
                selected_joint: None,
                ghost: r.predicted_clip.as_ref(),
            },
            camera,
        );
        match &r.predicted_clip {
            Some(p) => {
                cols[1].label("reconstruction, joints coloured by their error");
                skeleton_ui(
                    &mut cols[1],
                    &SkeletonView {
                        seq: p,
                        layout,
                        frame,
                        weight: &error_colour,
                        hidden: None,
                        selected_joint: None,
                        ghost: None,
                    },
                    camera,
                );
            }
            None => {
                cols[1].label("This run reconstructs motion (MAMP targets): there is no skeleton to draw.");
            }
        }
    });
    out
}
