//! The top bar: tabs, the export menu, the last message, frame rate and device.

use super::AmrApp;
use crate::command::{AppCommand, Request, Tab};
use crate::draw_report::remember_centre;

impl AmrApp {
    pub(super) fn top_bar_ui(&mut self, ui: &mut egui::Ui) {
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
}
