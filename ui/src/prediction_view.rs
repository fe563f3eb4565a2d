//! The prediction of a loaded classifier (an evaluation run's checkpoint) for the sequence shown: its
//! most probable classes as bars, the sequence's own label marked.

use amr_core::eval::Prediction;

/// Draws `prediction` (nothing when no classifier is loaded); returns the top class's name.
pub fn prediction_ui(ui: &mut egui::Ui, prediction: Option<&Result<Prediction, String>>) -> Option<String> {
    let p = match prediction? {
        Ok(p) => p,
        Err(e) => {
            ui.colored_label(ui.visuals().warn_fg_color, format!("classifier: {e}"));
            return None;
        }
    };
    ui.horizontal_wrapped(|ui| {
        ui.label("classifier:");
        for c in &p.top {
            let own = p.label.as_deref() == Some(c.name.as_str());
            let text = format!("{}{} {:.1} %", if own { "✔ " } else { "" }, c.name, 100.0 * c.probability);
            ui.add(egui::ProgressBar::new(c.probability.clamp(0.0, 1.0)).desired_width(150.0).text(text))
                .on_hover_text(if own { "the sequence's own label" } else { "" });
        }
    });
    p.top.first().map(|c| c.name.clone())
}
