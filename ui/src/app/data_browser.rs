//! The data browser: the dataset's summary, the class filter and the list of sequences.

use super::AmrApp;
use crate::command::{AppCommand, Request};

impl AmrApp {
    pub(super) fn browser_ui(&mut self, ui: &mut egui::Ui) {
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
}
