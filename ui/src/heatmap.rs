//! The joint x time heatmap: one cell per (frame, joint), coloured through the shared colour map,
//! hidden tokens greyed, a cursor at the current frame, the selected joint outlined. Hovering gives
//! the cell under the pointer, clicking selects it.

use crate::colormap::weight_color;

/// What one heatmap shows.
pub struct HeatmapView<'a> {
    /// Columns: frames.
    pub frames: usize,
    /// Rows: joints, by name.
    pub joint_names: &'a [String],
    /// The frame under the cursor line.
    pub cursor: usize,
    /// The joint outlined, if any.
    pub selected_joint: Option<usize>,
    /// The value of a cell, in [0, 1] for the colour map.
    pub value: &'a dyn Fn(usize, usize) -> f32,
    /// Cells to grey out (hidden tokens), if any.
    pub hidden: Option<&'a dyn Fn(usize, usize) -> bool>,
    /// Height in points.
    pub height: f32,
    /// Distinguishes several heatmaps in one frame (texture cache).
    pub id: &'a str,
}

/// What the pointer did on the heatmap.
pub struct HeatmapResponse {
    /// The cell (frame, joint) under the pointer.
    pub hovered: Option<(usize, usize)>,
    /// The cell clicked this frame.
    pub clicked: Option<(usize, usize)>,
    /// The widget's response (for hover text).
    pub response: egui::Response,
}

/// The image of a heatmap: frames across, joints down.
pub fn heatmap_image(view: &HeatmapView<'_>) -> egui::ColorImage {
    let (w, h) = (view.frames.max(1), view.joint_names.len().max(1));
    let mut pixels = Vec::with_capacity(w * h);
    for v in 0..h {
        for t in 0..w {
            let c = weight_color((view.value)(t, v));
            let hidden = view.hidden.is_some_and(|f| f(t, v));
            pixels.push(if hidden { c.gamma_multiply(0.25) } else { c });
        }
    }
    egui::ColorImage::new([w, h], pixels)
}

/// Draws `view`; see [`HeatmapResponse`].
pub fn heatmap_ui(ui: &mut egui::Ui, view: &HeatmapView<'_>) -> HeatmapResponse {
    let rows = view.joint_names.len().max(1);
    let label_w = 90.0;
    let size = egui::vec2(ui.available_width().max(label_w + 50.0), view.height);
    let (response, painter) = ui.allocate_painter(size, egui::Sense::click());
    let rect = response.rect;
    let grid = egui::Rect::from_min_max(egui::pos2(rect.left() + label_w, rect.top()), rect.right_bottom());
    let image = heatmap_image(view);
    // The texture is rebuilt only when the picture changes.
    let key = egui::Id::unique(("amr-heatmap", view.id));
    let hash = egui::util::hash(&image.pixels);
    let cached = ui.data(|d| d.get_temp::<(u64, egui::TextureHandle)>(key)).filter(|(h, _)| *h == hash);
    let texture = match cached {
        Some((_, t)) => t,
        None => {
            let t = ui.ctx().load_texture(format!("heatmap-{}", view.id), image, egui::TextureOptions::NEAREST);
            ui.data_mut(|d| d.insert_temp(key, (hash, t.clone())));
            t
        }
    };
    painter.image(
        texture.id(),
        grid,
        egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
        egui::Color32::WHITE,
    );
    let cw = grid.width() / view.frames.max(1) as f32;
    let rh = grid.height() / rows as f32;
    for (v, name) in view.joint_names.iter().enumerate() {
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
    if let Some(v) = view.selected_joint.filter(|&v| v < rows) {
        let r = egui::Rect::from_min_size(
            egui::pos2(grid.left(), grid.top() + v as f32 * rh),
            egui::vec2(grid.width(), rh),
        );
        painter.rect_stroke(r, 0.0, egui::Stroke::new(1.5, egui::Color32::LIGHT_BLUE), egui::StrokeKind::Outside);
    }
    let x = grid.left() + (view.cursor as f32 + 0.5) * cw;
    painter.line_segment(
        [egui::pos2(x, grid.top()), egui::pos2(x, grid.bottom())],
        egui::Stroke::new(1.5, egui::Color32::WHITE),
    );
    let cell = |pos: egui::Pos2| {
        grid.contains(pos).then(|| {
            let t = (((pos.x - grid.left()) / cw) as usize).min(view.frames.saturating_sub(1));
            let v = (((pos.y - grid.top()) / rh) as usize).min(rows - 1);
            (t, v)
        })
    };
    let hovered = response.hover_pos().and_then(cell);
    let clicked = if response.clicked() { response.interact_pointer_pos().and_then(cell) } else { None };
    HeatmapResponse { hovered, clicked, response }
}
