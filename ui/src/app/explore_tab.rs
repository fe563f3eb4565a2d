//! The Explore tab: weighting controls, the joint x time heatmaps (one per scale or fused) and the
//! skeleton views coloured by the weights.

use std::sync::Arc;

use super::AmrApp;
use crate::colormap::legend_ui;
use crate::command::AppCommand;
use crate::draw_report::DrawReport;
use crate::explorer::{PreviewKind, Shown, focal_controls_ui};
use crate::heatmap::{HeatmapView, heatmap_ui};
use crate::skeleton_view::{Camera, SkeletonView, skeleton_ui};

impl AmrApp {
    pub(super) fn explore_controls_ui(&mut self, ui: &mut egui::Ui) {
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
    pub(super) fn views(&self) -> Vec<Shown> {
        if self.settings.side_by_side {
            (0..self.settings.focal.windows.len()).map(Shown::Scale).chain([Shown::Fused]).collect()
        } else {
            vec![self.settings.shown]
        }
    }

    /// The heatmaps; returns how many were drawn.
    pub(super) fn heatmaps_ui(&mut self, ui: &mut egui::Ui, views: &[Shown], height: f32) -> usize {
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
    pub(super) fn skeletons_ui(&mut self, ui: &mut egui::Ui) -> (crate::skeleton_view::Drawn, usize) {
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

    pub(super) fn explore_ui(&mut self, ui: &mut egui::Ui, report: &mut DrawReport) {
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
    pub(super) fn most_moving_joint(&self) -> usize {
        let w = &self.weights;
        (0..w.joints)
            .map(|v| (v, (0..w.frames).map(|t| w.fused_at(t, 0, v)).sum::<f32>()))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map_or(0, |(v, _)| v)
    }
}
