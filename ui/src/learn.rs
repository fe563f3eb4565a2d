//! The motion-energy explorer: AMR's focal weighting explained step by step on the shown clip, every
//! number computed live from the current k, eps and windows. One joint and one window at a time:
//! its trajectory and mean (Eq. 3), the sequence's threshold e_t, the weight curve w(e_s) (Eq. 4), the
//! single-window heatmaps against the fused one, and what the weights do to the loss (Eq. 5).

use amr_core::data::Sequence;
use amr_core::focal::{FocalConfig, FocalWeights, weight};
use egui_plot::{Bar, BarChart, Legend, Line, Plot, PlotPoints, Points, VLine};

/// The explorer's choices.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct LearnSettings {
    /// Index of the window size shown in steps 1-3.
    pub scale: usize,
}

/// One window of one joint, written out: the numbers of Eq. 3 and Eq. 4.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowStudy {
    /// Window size n.
    pub n: usize,
    /// The window's index and frames [t0, t1).
    pub window: usize,
    /// First frame.
    pub t0: usize,
    /// One past the last frame.
    pub t1: usize,
    /// Joint positions in the window, [t1 - t0] x [x, y, z].
    pub positions: Vec<[f64; 3]>,
    /// Their mean mu.
    pub mean: [f64; 3],
    /// e_s = 1/n sum |s_t - mu|^2, computed here from the positions.
    pub energy: f64,
    /// e_t: the mean of e_s over every window and joint of the person.
    pub threshold: f64,
    /// w(e_s) with the current k and eps.
    pub weight: f64,
}

/// Writes out window `window` of size `n` for joint `v` of person 0 of `seq` (Eq. 3 and 4), with the
/// threshold taken from `all` (the core's energies of that window size).
pub fn study_window(
    seq: &Sequence,
    v: usize,
    n: usize,
    window: usize,
    threshold: f64,
    cfg: &FocalConfig,
) -> Option<WindowStudy> {
    let n = n.max(1);
    let t0 = window * n;
    let t1 = ((window + 1) * n).min(seq.frames);
    if t0 >= t1 || v >= seq.joints {
        return None;
    }
    let positions: Vec<[f64; 3]> = (t0..t1).map(|t| seq.joint(t, 0, v).map(f64::from)).collect();
    let len = positions.len() as f64;
    let mut mean = [0.0; 3];
    for p in &positions {
        for c in 0..3 {
            mean[c] += p[c] / len;
        }
    }
    let energy = positions.iter().map(|p| (0..3).map(|c| (p[c] - mean[c]).powi(2)).sum::<f64>()).sum::<f64>() / len;
    let w = weight(energy, threshold, f64::from(cfg.k), f64::from(cfg.eps));
    Some(WindowStudy { n, window, t0, t1, positions, mean, energy, threshold, weight: w })
}

/// Share of the focal loss each joint carries for an equal error everywhere (Eq. 5): the joint's summed
/// weight over frames divided by the total; without focal weights every joint carries 1 / V.
pub fn loss_shares(w: &FocalWeights) -> Vec<f64> {
    let per_joint: Vec<f64> =
        (0..w.joints).map(|v| (0..w.frames).map(|t| f64::from(w.fused_at(t, 0, v))).sum()).collect();
    let total: f64 = per_joint.iter().sum();
    per_joint.iter().map(|x| if total > 0.0 { x / total } else { 1.0 / w.joints.max(1) as f64 }).collect()
}

/// What the explorer wants changed.
#[derive(Debug, Default)]
pub struct LearnOutput {
    /// New weighting parameters.
    pub focal: Option<FocalConfig>,
}

/// Draws steps 1-3 of the explorer for joint `joint` at frame `frame` of `seq`.
pub fn learn_steps_ui(
    ui: &mut egui::Ui,
    settings: &mut LearnSettings,
    seq: &Sequence,
    names: &[String],
    weights: &FocalWeights,
    focal: &FocalConfig,
    (joint, frame): (usize, usize),
) -> LearnOutput {
    let mut out = LearnOutput::default();
    if weights.scales.is_empty() || seq.frames == 0 {
        ui.label("No frames to explain.");
        return out;
    }
    settings.scale = settings.scale.min(weights.scales.len() - 1);
    let scale = &weights.scales[settings.scale];
    let n = scale.window;
    let window = (frame / n).min(scale.windows.saturating_sub(1));
    let threshold = f64::from(scale.threshold.first().copied().unwrap_or(0.0));
    let joint_name = names.get(joint).map_or("?", String::as_str);
    let Some(study) = study_window(seq, joint, n, window, threshold, focal) else {
        ui.label("The joint or window is outside the clip.");
        return out;
    };
    ui.heading("How AMR weights the reconstruction");
    ui.label(format!(
        "Clip `{}`, joint {joint_name} (click a heatmap cell or a bar below to pick another), window {} of size n = {n} \
         (frames {}..{}, follows the timeline).",
        seq.name,
        window,
        study.t0,
        study.t1 - 1
    ));
    ui.horizontal(|ui| {
        ui.label("window size for steps 1-3:");
        for (i, s) in weights.scales.iter().enumerate() {
            ui.selectable_value(&mut settings.scale, i, format!("n={}", s.window));
        }
    });
    ui.separator();

    ui.strong("1. Motion energy of a window (Eq. 3): e_s = 1/n Σ |s_t − μ|²");
    ui.label(format!(
        "The joint's positions in the window, relative to their mean μ = ({:.3}, {:.3}, {:.3}) m. e_s is their mean \
         squared distance from μ: here {:.3e} m² (the engine's value: {:.3e} m²).",
        study.mean[0],
        study.mean[1],
        study.mean[2],
        study.energy,
        scale.energy[window * weights.joints + joint]
    ));
    let axes = ["x", "y", "z"];
    Plot::new("learn-trajectory")
        .height(150.0)
        .legend(Legend::default())
        .x_axis_label("frame")
        .y_axis_label("position − μ (m)")
        .show(ui, |p| {
            for (c, axis) in axes.iter().enumerate() {
                let pts: Vec<[f64; 2]> = study
                    .positions
                    .iter()
                    .enumerate()
                    .map(|(i, s)| [(study.t0 + i) as f64, s[c] - study.mean[c]])
                    .collect();
                p.line(Line::new(*axis, PlotPoints::from(pts)));
            }
        });
    ui.separator();

    ui.strong("2. The sequence's threshold e_t");
    let energies: Vec<f64> = scale.energy[..scale.windows * weights.joints].iter().map(|&e| f64::from(e)).collect();
    ui.label(format!(
        "e_t is the mean motion energy over all {} windows × {} joints of the clip: {threshold:.3e} m². This window's \
         e_s is {:.2}× e_t. The histogram shows log10(e_s) of every window; the line is e_t.",
        scale.windows,
        weights.joints,
        study.energy / threshold.max(f64::MIN_POSITIVE)
    ));
    let logs: Vec<f64> = energies.iter().map(|&e| e.max(1e-12).log10()).collect();
    let (lo, hi) = (logs.iter().copied().fold(f64::MAX, f64::min), logs.iter().copied().fold(f64::MIN, f64::max));
    let bins = 30usize;
    let width = ((hi - lo) / bins as f64).max(1e-3);
    let mut counts = vec![0usize; bins];
    for l in &logs {
        counts[(((l - lo) / width) as usize).min(bins - 1)] += 1;
    }
    let bars: Vec<Bar> = counts
        .iter()
        .enumerate()
        .map(|(i, &c)| Bar::new(lo + (i as f64 + 0.5) * width, c as f64).width(width * 0.9))
        .collect();
    Plot::new("learn-energy-histogram").height(130.0).x_axis_label("log10 e_s").y_axis_label("windows").show(ui, |p| {
        p.bar_chart(BarChart::new("windows", bars));
        p.vline(VLine::new("e_t", threshold.max(1e-12).log10()));
        p.vline(VLine::new("this window", study.energy.max(1e-12).log10()));
    });
    ui.separator();

    ui.strong("3. The weight function (Eq. 4): w(e_s) = 1 / (1 + k · e_t / (e_s + ε))");
    ui.label(format!(
        "With k = {} and ε = {:.1e}: this window gets w = {:.4}. A window far below e_t gets a weight near 0, one far \
         above it near 1; k moves the bend (w = 1/2 where e_s = k·e_t). The dots are every window of the clip.",
        focal.k, focal.eps, study.weight
    ));
    let mut f = focal.clone();
    if crate::explorer::focal_controls_ui(ui, &mut f) {
        out.focal = Some(f);
    }
    let curve: Vec<[f64; 2]> = (0..=200)
        .map(|i| {
            let l = lo - 1.0 + (hi - lo + 2.0) * f64::from(i) / 200.0;
            [l, weight(10f64.powf(l), threshold, f64::from(focal.k), f64::from(focal.eps))]
        })
        .collect();
    let dots: Vec<[f64; 2]> = energies
        .iter()
        .map(|&e| [e.max(1e-12).log10(), weight(e, threshold, f64::from(focal.k), f64::from(focal.eps))])
        .collect();
    Plot::new("learn-weight-curve")
        .height(160.0)
        .x_axis_label("log10 e_s")
        .y_axis_label("w")
        .include_y(0.0)
        .include_y(1.0)
        .show(ui, |p| {
            p.line(Line::new("w(e_s)", PlotPoints::from(curve)));
            p.points(Points::new("windows", PlotPoints::from(dots)).radius(1.5));
            p.points(
                Points::new("this window", PlotPoints::from(vec![[study.energy.max(1e-12).log10(), study.weight]]))
                    .radius(5.0),
            );
        });
    out
}

/// Step 4's text; the App draws the heatmaps below it.
pub fn learn_fusion_ui(ui: &mut egui::Ui, focal: &FocalConfig) {
    ui.strong("4. One window size against the fusion");
    ui.label(format!(
        "Short windows (n = 4) react to brief movements, long ones (n = 12) to sustained motion. AMR fuses the scales \
         ({:?} of {:?}) into one weight per frame and joint.",
        focal.fusion, focal.windows
    ));
}

/// Step 5: each joint's share of the loss; returns a joint the user clicked.
pub fn learn_loss_ui(ui: &mut egui::Ui, names: &[String], weights: &FocalWeights) -> Option<usize> {
    ui.strong("5. The effect on the loss (Eq. 5): L = 1/N |√W ⊙ (X_p − X_t)|²");
    let shares = loss_shares(weights);
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|&a, &b| shares[b].total_cmp(&shares[a]));
    let top: f64 = order.iter().take(5).map(|&v| shares[v]).sum();
    ui.label(format!(
        "For an equal reconstruction error everywhere, each joint's share of the loss is its share of the weights. \
         With these weights the 5 most moving joints ({}) carry {:.0} % of the loss; without them they would carry {:.0} %.",
        order.iter().take(5).filter_map(|&v| names.get(v)).cloned().collect::<Vec<_>>().join(", "),
        100.0 * top,
        100.0 * 5.0 / shares.len().max(1) as f64
    ));
    let bars: Vec<Bar> = shares
        .iter()
        .enumerate()
        .map(|(v, &s)| Bar::new(v as f64, 100.0 * s).name(names.get(v).map_or("?", String::as_str)))
        .collect();
    let uniform = 100.0 / shares.len().max(1) as f64;
    let r = Plot::new("learn-loss-shares").height(150.0).x_axis_label("joint").y_axis_label("% of the loss").show(
        ui,
        |p| {
            p.bar_chart(BarChart::new("focal", bars));
            p.hline(egui_plot::HLine::new("unweighted", uniform));
            p.pointer_coordinate()
        },
    );
    let c = r.inner.filter(|_| r.response.clicked())?;
    let v = c.x.round();
    (v >= 0.0 && (v as usize) < shares.len()).then_some(v as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use amr_core::focal::focal_weights;

    #[test]
    fn the_written_out_window_matches_the_engine_and_eq_4() {
        let ds = amr_core::demo::demo_dataset().unwrap();
        let seq = ds.sequences.iter().find(|s| s.frames >= 120).unwrap();
        let cfg = FocalConfig::default();
        let w = focal_weights(seq, &cfg);
        let s = &w.scales[1];
        let threshold = f64::from(s.threshold[0]);
        for (v, window) in [(0, 0), (9, 3), (20, 5)] {
            let st = study_window(seq, v, s.window, window, threshold, &cfg).unwrap();
            let engine = f64::from(s.energy[window * w.joints + v]);
            assert!((st.energy - engine).abs() <= 1e-5 * engine.max(1e-9), "{} vs {engine}", st.energy);
            let hand = 1.0 / (1.0 + f64::from(cfg.k) * threshold / (st.energy + f64::from(cfg.eps)));
            assert!((st.weight - hand).abs() < 1e-12);
            assert!((st.weight - f64::from(s.weight[window * w.joints + v])).abs() < 1e-5);
            assert_eq!(st.positions.len(), s.window);
        }
        // The threshold is the mean energy of all windows and joints.
        let mean = s.energy.iter().map(|&e| f64::from(e)).sum::<f64>() / s.energy.len() as f64;
        assert!((mean - threshold).abs() <= 1e-5 * threshold);
    }

    #[test]
    fn loss_shares_follow_the_weights_and_sum_to_one() {
        let ds = amr_core::demo::demo_dataset().unwrap();
        let w = focal_weights(&ds.sequences[40], &FocalConfig::default());
        let shares = loss_shares(&w);
        assert!((shares.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        let sums: Vec<f64> =
            (0..w.joints).map(|v| (0..w.frames).map(|t| f64::from(w.fused_at(t, 0, v))).sum()).collect();
        let (a, b) = (3, 17);
        assert!(((shares[a] / shares[b]) - (sums[a] / sums[b])).abs() < 1e-9);
    }
}
