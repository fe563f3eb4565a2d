//! The joint x time heatmap of focal weights, with a cursor at the current frame.

use crate::colormap::weight_color;

/// Draws a heatmap of `value(t, v)` for T frames (columns) and the named joints (rows), a cursor
/// at `cursor`; returns the (frame, joint) under the pointer if any.
pub fn heatmap_ui(
    ui: &mut egui::Ui,
    frames: usize,
    joint_names: &[String],
    cursor: usize,
    value: &dyn Fn(usize, usize) -> f32,
) -> Option<(usize, usize)> {
    let rows = joint_names.len().max(1);
    let label_w = 90.0;
    let height = (rows as f32 * 9.0).clamp(80.0, 320.0);
    let size = egui::vec2(ui.available_width().max(label_w + 50.0), height);
    let (response, painter) = ui.allocate_painter(size, egui::Sense::hover());
    let rect = response.rect;
    let grid = egui::Rect::from_min_max(egui::pos2(rect.left() + label_w, rect.top()), rect.right_bottom());
    let cw = grid.width() / frames.max(1) as f32;
    let rh = grid.height() / rows as f32;
    for (v, name) in joint_names.iter().enumerate() {
        for t in 0..frames {
            let r = egui::Rect::from_min_size(
                egui::pos2(grid.left() + t as f32 * cw, grid.top() + v as f32 * rh),
                egui::vec2(cw + 0.5, rh + 0.5),
            );
            painter.rect_filled(r, 0.0, weight_color(value(t, v)));
        }
        if rh >= 7.0 {
            painter.text(
                egui::pos2(rect.left() + 2.0, grid.top() + (v as f32 + 0.5) * rh),
                egui::Align2::LEFT_CENTER,
                name,
                egui::FontId::proportional(rh.min(11.0)),
                ui.visuals().text_color(),
            );
        }
    }
    let x = grid.left() + (cursor as f32 + 0.5) * cw;
    painter.line_segment(
        [egui::pos2(x, grid.top()), egui::pos2(x, grid.bottom())],
        egui::Stroke::new(1.5, egui::Color32::WHITE),
    );
    let pos = response.hover_pos()?;
    if !grid.contains(pos) {
        return None;
    }
    let t = (((pos.x - grid.left()) / cw) as usize).min(frames.saturating_sub(1));
    let v = (((pos.y - grid.top()) / rh) as usize).min(rows - 1);
    Some((t, v))
}
