//! The one colour map of the product (focal weight 0 -> dark blue, 1 -> yellow; viridis-like), used by
//! the skeleton view, the heatmaps and the exported pictures.

/// Control points of the map at 0, 0.25, 0.5, 0.75, 1 (sRGB), after the viridis palette.
const STOPS: [[f32; 3]; 5] =
    [[68.0, 1.0, 84.0], [59.0, 82.0, 139.0], [33.0, 145.0, 140.0], [94.0, 201.0, 98.0], [253.0, 231.0, 37.0]];

/// The colour of a value in [0, 1] (clamped; NaN maps to 0), as sRGB bytes.
pub fn weight_rgb(value: f32) -> [u8; 3] {
    let x = if value.is_nan() { 0.0 } else { value.clamp(0.0, 1.0) } * (STOPS.len() - 1) as f32;
    let i = (x.floor() as usize).min(STOPS.len() - 2);
    let f = x - i as f32;
    [0, 1, 2].map(|c| (STOPS[i][c] + f * (STOPS[i + 1][c] - STOPS[i][c])).round() as u8)
}

/// [`weight_rgb`] as an egui colour.
pub fn weight_color(value: f32) -> egui::Color32 {
    let [r, g, b] = weight_rgb(value);
    egui::Color32::from_rgb(r, g, b)
}

/// Whether `rgb` lies within `tolerance` (per channel) of the colour map at one of 256 evenly spaced
/// values: how tests recognise the map's colours in screenshots.
pub fn is_map_colour(rgb: [u8; 3], tolerance: u8) -> bool {
    (0..256).any(|i| {
        let m = weight_rgb(i as f32 / 255.0);
        (0..3).all(|c| rgb[c].abs_diff(m[c]) <= tolerance)
    })
}

/// Draws a horizontal legend bar with its end labels.
pub fn legend_ui(ui: &mut egui::Ui, label: &str) {
    ui.horizontal(|ui| {
        ui.label(format!("{label}: 0"));
        let (rect, _) = ui.allocate_exact_size(egui::vec2(120.0, 12.0), egui::Sense::hover());
        let steps = 40;
        for i in 0..steps {
            let x0 = rect.left() + rect.width() * i as f32 / steps as f32;
            let x1 = rect.left() + rect.width() * (i + 1) as f32 / steps as f32;
            let r = egui::Rect::from_min_max(egui::pos2(x0, rect.top()), egui::pos2(x1 + 0.5, rect.bottom()));
            ui.painter().rect_filled(r, 0.0, weight_color(i as f32 / (steps - 1) as f32));
        }
        ui.label("1");
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_and_midpoint_are_the_stops_and_out_of_range_clamps() {
        assert_eq!(weight_rgb(0.0), [68, 1, 84]);
        assert_eq!(weight_rgb(1.0), [253, 231, 37]);
        assert_eq!(weight_rgb(0.5), [33, 145, 140]);
        assert_eq!(weight_rgb(-3.0), weight_rgb(0.0));
        assert_eq!(weight_rgb(f32::NAN), weight_rgb(0.0));
        assert_eq!(weight_rgb(7.0), weight_rgb(1.0));
    }

    #[test]
    fn map_colours_are_recognised_and_greys_are_not() {
        assert!(is_map_colour(weight_rgb(0.37), 0));
        assert!(is_map_colour([70, 3, 85], 3));
        assert!(!is_map_colour([128, 128, 128], 6));
        assert!(!is_map_colour([24, 24, 24], 6));
    }
}
