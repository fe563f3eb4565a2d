//! The view's state as a URL fragment, so a link reopens the same view:
//! `#tab=learn&s=12&f=30&j=9&k=0.01&eps=1e-8&n=4,8,12&fusion=mean&view=fused&side=1&mask=motion&seed=3`.
//! Keys left out keep their current value; a bad value is named and skipped.

use amr_core::focal::Fusion;

use crate::explorer::{PreviewKind, Shown};

/// The shareable part of the App's state. `None` fields were not in the fragment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UrlState {
    /// Tab: explore, learn, train, reconstruct.
    pub tab: Option<crate::command::Tab>,
    /// Sample index.
    pub sample: Option<usize>,
    /// Frame.
    pub frame: Option<usize>,
    /// Selected joint.
    pub joint: Option<usize>,
    /// Curvature k.
    pub k: Option<f32>,
    /// Stabiliser eps.
    pub eps: Option<f32>,
    /// Window sizes.
    pub windows: Option<Vec<usize>>,
    /// Fusion.
    pub fusion: Option<Fusion>,
    /// Weights shown.
    pub shown: Option<Shown>,
    /// Side by side.
    pub side_by_side: Option<bool>,
    /// Masking preview.
    pub preview: Option<PreviewKind>,
    /// Seed of the preview's masks.
    pub seed: Option<u64>,
}

fn tab_name(t: crate::command::Tab) -> &'static str {
    match t {
        crate::command::Tab::Explore => "explore",
        crate::command::Tab::Learn => "learn",
        crate::command::Tab::Train => "train",
        crate::command::Tab::Reconstruct => "reconstruct",
    }
}

impl UrlState {
    /// The fragment (without `#`), keys in a fixed order.
    pub fn to_hash(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                parts.push(format!("{k}={v}"));
            }
        };
        put("tab", self.tab.map(|t| tab_name(t).to_string()));
        put("s", self.sample.map(|v| v.to_string()));
        put("f", self.frame.map(|v| v.to_string()));
        put("j", self.joint.map(|v| v.to_string()));
        put("k", self.k.map(|v| v.to_string()));
        put("eps", self.eps.map(|v| format!("{v:e}")));
        put("n", self.windows.as_ref().map(|w| w.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")));
        put("fusion", self.fusion.map(|f| if f == Fusion::Max { "max".into() } else { "mean".into() }));
        put(
            "view",
            self.shown.map(|s| match s {
                Shown::Fused => "fused".into(),
                Shown::Scale(i) => format!("scale{i}"),
            }),
        );
        put("side", self.side_by_side.map(|b| u8::from(b).to_string()));
        put(
            "mask",
            self.preview.map(|p| {
                match p {
                    PreviewKind::Off => "off",
                    PreviewKind::Motion => "motion",
                    PreviewKind::Random => "random",
                }
                .into()
            }),
        );
        put("seed", self.seed.map(|v| v.to_string()));
        parts.join("&")
    }

    /// Reads a fragment (with or without `#`); returns what it read and one message per bad key.
    pub fn parse(hash: &str) -> (Self, Vec<String>) {
        let mut s = Self::default();
        let mut errors = Vec::new();
        for pair in hash.trim_start_matches('#').split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let bad = |expected: &str| format!("URL `{key}={value}`: expected {expected}");
            let ok = match key {
                "tab" => [
                    crate::command::Tab::Explore,
                    crate::command::Tab::Learn,
                    crate::command::Tab::Train,
                    crate::command::Tab::Reconstruct,
                ]
                .into_iter()
                .find(|t| tab_name(*t) == value)
                .map(|t| s.tab = Some(t))
                .ok_or_else(|| bad("explore, learn, train or reconstruct")),
                "s" => value.parse().map(|v| s.sample = Some(v)).map_err(|_| bad("a sample index")),
                "f" => value.parse().map(|v| s.frame = Some(v)).map_err(|_| bad("a frame index")),
                "j" => value.parse().map(|v| s.joint = Some(v)).map_err(|_| bad("a joint index")),
                "k" => value
                    .parse::<f32>()
                    .ok()
                    .filter(|k| k.is_finite() && *k > 0.0)
                    .map(|v| s.k = Some(v))
                    .ok_or_else(|| bad("a positive number")),
                "eps" => value
                    .parse::<f32>()
                    .ok()
                    .filter(|e| e.is_finite() && *e >= 0.0)
                    .map(|v| s.eps = Some(v))
                    .ok_or_else(|| bad("a number >= 0")),
                "n" => value
                    .split(',')
                    .map(|x| x.parse::<usize>().ok().filter(|&n| n >= 1))
                    .collect::<Option<Vec<_>>>()
                    .map(|w| s.windows = Some(w))
                    .ok_or_else(|| bad("window sizes >= 1 separated by commas")),
                "fusion" => [("mean", Fusion::Mean), ("max", Fusion::Max)]
                    .into_iter()
                    .find(|(name, _)| *name == value)
                    .map(|(_, f)| s.fusion = Some(f))
                    .ok_or_else(|| bad("mean or max")),
                "view" => (if value == "fused" {
                    Some(Shown::Fused)
                } else {
                    value.strip_prefix("scale").and_then(|i| i.parse().ok()).map(Shown::Scale)
                })
                .map(|v| s.shown = Some(v))
                .ok_or_else(|| bad("fused or scale0, scale1, ...")),
                "side" => [("0", false), ("1", true)]
                    .into_iter()
                    .find(|(name, _)| *name == value)
                    .map(|(_, b)| s.side_by_side = Some(b))
                    .ok_or_else(|| bad("0 or 1")),
                "mask" => [("off", PreviewKind::Off), ("motion", PreviewKind::Motion), ("random", PreviewKind::Random)]
                    .into_iter()
                    .find(|(name, _)| *name == value)
                    .map(|(_, p)| s.preview = Some(p))
                    .ok_or_else(|| bad("off, motion or random")),
                "seed" => value.parse().map(|v| s.seed = Some(v)).map_err(|_| bad("a seed (unsigned integer)")),
                _ => Err(format!("URL key `{key}` is unknown")),
            };
            if let Err(e) = ok {
                errors.push(e);
            }
        }
        (s, errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fragment_round_trips_and_bad_keys_are_named() {
        let s = UrlState {
            tab: Some(crate::command::Tab::Learn),
            sample: Some(12),
            frame: Some(30),
            joint: Some(9),
            k: Some(0.05),
            eps: Some(1e-8),
            windows: Some(vec![4, 10]),
            fusion: Some(Fusion::Max),
            shown: Some(Shown::Scale(1)),
            side_by_side: Some(true),
            preview: Some(PreviewKind::Random),
            seed: Some(7),
        };
        let hash = s.to_hash();
        assert_eq!(
            hash,
            "tab=learn&s=12&f=30&j=9&k=0.05&eps=1e-8&n=4,10&fusion=max&view=scale1&side=1&mask=random&seed=7"
        );
        assert_eq!(UrlState::parse(&format!("#{hash}")), (s, vec![]));
        let (p, errors) = UrlState::parse("#k=-1&n=4,x&zoom=2&f=3");
        assert_eq!(p, UrlState { frame: Some(3), ..UrlState::default() });
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].contains("k=-1") && errors[0].contains("positive"), "{errors:?}");
        assert!(errors[2].contains("zoom"), "{errors:?}");
    }
}
