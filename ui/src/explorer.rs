//! The weighting explorer's settings and pure computations: which weights are shown, the live
//! controls for k, eps, the windows and the fusion, and the masking preview (which tokens the
//! motion-aware and the random masking would hide for a clip).

use amr_core::data::Sequence;
use amr_core::focal::{FocalConfig, FocalWeights, Fusion};
use amr_core::masking::{motion_aware_mask, random_mask, token_motion};
use amr_core::rng::SeededRng;

/// Which weights colour the views.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Shown {
    /// The fused multi-scale weights.
    #[default]
    Fused,
    /// The weights of one window size (index into the config's windows).
    Scale(usize),
}

impl Shown {
    /// The name shown in the UI and the draw report: `fused` or `n=8`.
    pub fn name(self, focal: &FocalConfig) -> String {
        match self {
            Self::Fused => "fused".into(),
            Self::Scale(i) => format!("n={}", focal.windows.get(i).copied().unwrap_or(0)),
        }
    }

    /// The weight of frame `t`, person `m`, joint `v` under this choice.
    pub fn weight(self, w: &FocalWeights, t: usize, m: usize, v: usize) -> f32 {
        match self {
            Self::Fused => w.fused_at(t, m, v),
            Self::Scale(i) => w.scales.get(i).map_or(0.0, |s| s.weight_at_frame(t, m, v, w.joints)),
        }
    }
}

/// Which masking the preview shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PreviewKind {
    /// No preview.
    #[default]
    Off,
    /// MAMP's motion-aware masking.
    Motion,
    /// Uniform random masking.
    Random,
}

/// The hidden tokens of both maskings for one clip and one seed, with how much motion each leaves
/// visible.
#[derive(Debug, Clone, PartialEq)]
pub struct MaskPreview {
    /// Patch length l.
    pub patch: usize,
    /// Joints V.
    pub joints: usize,
    /// Motion-aware: hidden per token [(T / l) V].
    pub motion: Vec<bool>,
    /// Random: hidden per token.
    pub random: Vec<bool>,
    /// Mean token motion of the tokens each masking leaves visible: [motion-aware, random].
    pub visible_motion: [f64; 2],
    /// Mean token motion over all tokens.
    pub mean_motion: f64,
}

impl MaskPreview {
    /// Draws both masks of person 0 of `clip` (T divisible by `patch`) from `seed`.
    pub fn draw(clip: &Sequence, patch: usize, ratio: f64, tau: f64, seed: u64) -> Option<Self> {
        if patch == 0 || clip.frames < patch || !clip.frames.is_multiple_of(patch) {
            return None;
        }
        let motion = token_motion(clip, 0, patch);
        let m = motion_aware_mask(&motion, ratio, tau, &mut SeededRng::new(seed));
        let r = random_mask(motion.len(), ratio, &mut SeededRng::new(seed));
        let mean_visible = |mask: &[bool]| {
            let vis: Vec<f64> = motion.iter().zip(mask).filter(|(_, h)| !**h).map(|(x, _)| *x).collect();
            vis.iter().sum::<f64>() / vis.len().max(1) as f64
        };
        Some(Self {
            patch,
            joints: clip.joints,
            visible_motion: [mean_visible(&m.masked), mean_visible(&r.masked)],
            mean_motion: motion.iter().sum::<f64>() / motion.len().max(1) as f64,
            motion: m.masked,
            random: r.masked,
        })
    }

    /// Whether `kind` hides frame `t` of joint `v`.
    pub fn hidden(&self, kind: PreviewKind, t: usize, v: usize) -> bool {
        let mask = match kind {
            PreviewKind::Off => return false,
            PreviewKind::Motion => &self.motion,
            PreviewKind::Random => &self.random,
        };
        mask.get((t / self.patch) * self.joints + v).copied().unwrap_or(false)
    }

    /// Hidden tokens of `kind`.
    pub fn hidden_count(&self, kind: PreviewKind) -> usize {
        match kind {
            PreviewKind::Off => 0,
            PreviewKind::Motion => self.motion.iter().filter(|&&h| h).count(),
            PreviewKind::Random => self.random.iter().filter(|&&h| h).count(),
        }
    }
}

/// The live weighting controls: k, eps, the windows and the fusion. Returns whether anything changed.
pub fn focal_controls_ui(ui: &mut egui::Ui, focal: &mut FocalConfig) -> bool {
    let mut changed = false;
    ui.horizontal_wrapped(|ui| {
        changed |= ui
            .add(egui::Slider::new(&mut focal.k, 0.0001..=1.0).logarithmic(true).text("k"))
            .on_hover_text("curvature of the weight function (Eq. 4); the paper uses 0.01")
            .changed();
        changed |= ui
            .add(
                egui::Slider::new(&mut focal.eps, 1e-12..=1e-2)
                    .logarithmic(true)
                    .custom_formatter(|v, _| format!("{v:.1e}"))
                    .text("eps"),
            )
            .on_hover_text("stabiliser of Eq. 4, in m²")
            .changed();
        ui.label("windows n:");
        let mut remove = None;
        for (i, n) in focal.windows.iter_mut().enumerate() {
            changed |= ui.add(egui::DragValue::new(n).range(1..=120)).changed();
            if ui.small_button("×").on_hover_text("remove this window").clicked() {
                remove = Some(i);
            }
        }
        if let Some(i) = remove.filter(|_| focal.windows.len() > 1) {
            focal.windows.remove(i);
            changed = true;
        }
        if focal.windows.len() < 6 && ui.small_button("+").on_hover_text("add a window").clicked() {
            let next = focal.windows.last().copied().unwrap_or(4) + 4;
            focal.windows.push(next.min(120));
            changed = true;
        }
        let mut max = focal.fusion == Fusion::Max;
        if ui
            .checkbox(&mut max, "max fusion")
            .on_hover_text("fuse the scales by their maximum instead of their mean")
            .changed()
        {
            focal.fusion = if max { Fusion::Max } else { Fusion::Mean };
            changed = true;
        }
        if ui.small_button("paper defaults").clicked() {
            *focal = FocalConfig::default();
            changed = true;
        }
    });
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn motion_aware_masking_leaves_less_motion_visible_than_random() {
        let ds = amr_core::demo::demo_dataset().unwrap();
        let clip = amr_core::data::clip::test_clip(&ds.sequences[3], &amr_core::data::clip::ClipConfig::default());
        let p = MaskPreview::draw(&clip, 4, 0.9, 0.8, 1).unwrap();
        let tokens = (120 / 4) * 21;
        assert_eq!(p.motion.len(), tokens);
        // floor(630 x 0.1) = 63 visible tokens either way.
        assert_eq!(p.hidden_count(PreviewKind::Motion), tokens - 63);
        assert_eq!(p.hidden_count(PreviewKind::Random), tokens - 63);
        // Motion-aware masking hides the moving tokens more often, so what stays visible moves less.
        assert!(p.visible_motion[0] < p.visible_motion[1], "{:?}", p.visible_motion);
        // Token (s, v) covers frames s l .. (s + 1) l of joint v.
        let j = p.motion.iter().position(|&h| h).unwrap();
        assert!(p.hidden(PreviewKind::Motion, (j / 21) * 4 + 3, j % 21));
        assert!(!p.hidden(PreviewKind::Off, 0, 0));
        // Another seed, another draw.
        assert_ne!(MaskPreview::draw(&clip, 4, 0.9, 0.8, 2).unwrap().random, p.random);
        assert!(MaskPreview::draw(&clip, 7, 0.9, 0.8, 1).is_none(), "7 does not divide 120");
    }
}
