//! The 3D skeleton view: bones and joints of one frame, joints coloured and sized by focal weight,
//! orbit by dragging, zoom by scrolling.

use amr_core::data::Sequence;
use amr_core::skeleton::Layout;

use crate::colormap::weight_color;

/// Camera of the view: yaw and pitch of an orbit around the sequence's centre, and a zoom factor.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Camera {
    /// Rotation about the vertical axis, radians.
    pub yaw: f32,
    /// Rotation about the horizontal screen axis, radians.
    pub pitch: f32,
    /// Magnification over the fitted size.
    pub zoom: f32,
}

impl Default for Camera {
    fn default() -> Self {
        Self { yaw: 0.6, pitch: 0.25, zoom: 1.0 }
    }
}

/// What one call drew.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Drawn {
    /// Joints drawn (all persons).
    pub joints: usize,
    /// Bones drawn.
    pub bones: usize,
    /// Persons drawn (absent persons are skipped).
    pub persons: usize,
}

/// Maps world points (metres, Y up) to screen points for one sequence: an orthographic camera
/// centred on the sequence's bounding box and fitted to `rect`.
pub struct ScreenFromWorld {
    centre: [f32; 3],
    scale: f32,
    rect_centre: egui::Pos2,
    cam: Camera,
}

impl ScreenFromWorld {
    /// Fits the whole sequence (every frame, present persons) into `rect`.
    pub fn fit(seq: &Sequence, rect: egui::Rect, cam: Camera) -> Self {
        let mut lo = [f32::MAX; 3];
        let mut hi = [f32::MIN; 3];
        for m in (0..seq.persons).filter(|&m| !seq.person_absent(m)) {
            for t in 0..seq.frames {
                for v in 0..seq.joints {
                    let p = seq.joint(t, m, v);
                    for c in 0..3 {
                        lo[c] = lo[c].min(p[c]);
                        hi[c] = hi[c].max(p[c]);
                    }
                }
            }
        }
        if lo[0] > hi[0] {
            lo = [-1.0; 3];
            hi = [1.0; 3];
        }
        let centre = [0, 1, 2].map(|c| 0.5 * (lo[c] + hi[c]));
        let extent = (0..3).map(|c| hi[c] - lo[c]).fold(0.1f32, f32::max);
        let scale = 0.9 * rect.width().min(rect.height()) / extent * cam.zoom;
        Self { centre, scale, rect_centre: rect.center(), cam }
    }

    /// The screen position of a world point.
    pub fn apply(&self, p: [f32; 3]) -> egui::Pos2 {
        let [x, y, z] = [0, 1, 2].map(|c| p[c] - self.centre[c]);
        let (sy, cy) = self.cam.yaw.sin_cos();
        let (x, z) = (cy * x + sy * z, -sy * x + cy * z);
        let (sp, cp) = self.cam.pitch.sin_cos();
        let y = cp * y - sp * z;
        egui::pos2(self.rect_centre.x + x * self.scale, self.rect_centre.y - y * self.scale)
    }
}

/// What one skeleton view shows.
pub struct SkeletonView<'a> {
    /// The sequence.
    pub seq: &'a Sequence,
    /// Its joint layout (bones).
    pub layout: &'a Layout,
    /// The frame drawn.
    pub frame: usize,
    /// Each joint's focal weight in [0, 1]: `weight(t, m, v)`.
    pub weight: &'a dyn Fn(usize, usize, usize) -> f32,
    /// Joints to draw greyed (hidden tokens), if any: `hidden(t, m, v)`.
    pub hidden: Option<&'a dyn Fn(usize, usize, usize) -> bool>,
    /// A joint to ring.
    pub selected_joint: Option<usize>,
    /// A second skeleton drawn over the first in outline (a reconstruction), same frame.
    pub ghost: Option<&'a Sequence>,
}

/// Draws `view` into the space left in `ui`: drag to orbit, scroll to zoom, double-click to reset.
pub fn skeleton_ui(ui: &mut egui::Ui, view: &SkeletonView<'_>, cam: &mut Camera) -> Drawn {
    let seq = view.seq;
    let size = ui.available_size().max(egui::vec2(64.0, 64.0));
    let (response, painter) = ui.allocate_painter(size, egui::Sense::drag());
    if response.dragged() {
        let d = response.drag_delta();
        cam.yaw += d.x * 0.01;
        cam.pitch = (cam.pitch + d.y * 0.01).clamp(-1.5, 1.5);
    }
    if response.hovered() {
        let scroll = ui.input(|i| i.smooth_scroll_delta.y);
        cam.zoom = (cam.zoom * (1.0 + scroll * 0.002)).clamp(0.2, 8.0);
    }
    if response.double_clicked() {
        *cam = Camera::default();
    }
    let response = response.on_hover_text("drag: orbit · scroll: zoom · double-click: reset the view");
    let rect = response.rect;
    painter.rect_filled(rect, 4.0, egui::Color32::from_gray(24));
    let screen_from_world = ScreenFromWorld::fit(seq, rect, *cam);
    let t = view.frame.min(seq.frames.saturating_sub(1));
    let mut drawn = Drawn::default();
    for m in (0..seq.persons).filter(|&m| !seq.person_absent(m)) {
        drawn.persons += 1;
        for (child, parent) in view.layout.bones() {
            let a = screen_from_world.apply(seq.joint(t, m, child));
            let b = screen_from_world.apply(seq.joint(t, m, parent));
            painter.line_segment([a, b], egui::Stroke::new(2.0, egui::Color32::from_gray(170)));
            drawn.bones += 1;
        }
        for v in 0..seq.joints {
            let w = (view.weight)(t, m, v);
            let p = screen_from_world.apply(seq.joint(t, m, v));
            let hidden = view.hidden.is_some_and(|f| f(t, m, v));
            let colour = if hidden { egui::Color32::from_gray(90) } else { weight_color(w) };
            painter.circle_filled(p, 3.0 + 6.0 * w.clamp(0.0, 1.0), colour);
            if view.selected_joint == Some(v) {
                painter.circle_stroke(p, 11.0, egui::Stroke::new(1.5, egui::Color32::LIGHT_BLUE));
            }
            drawn.joints += 1;
        }
    }
    if let Some(g) = view.ghost.filter(|g| g.joints == seq.joints && g.frames > 0) {
        let tg = t.min(g.frames - 1);
        let stroke = egui::Stroke::new(1.5, egui::Color32::from_rgb(120, 220, 255));
        for (child, parent) in view.layout.bones() {
            let a = screen_from_world.apply(g.joint(tg, 0, child));
            let b = screen_from_world.apply(g.joint(tg, 0, parent));
            painter.line_segment([a, b], stroke);
        }
        for v in 0..g.joints {
            painter.circle_stroke(screen_from_world.apply(g.joint(tg, 0, v)), 3.0, stroke);
        }
    }
    drawn
}
