//! Keeps the page drawing while a run trains beside it. On a machine with few cores (and a software
//! rasteriser that needs them) the training worker takes CPU time the page's frames need, wherever it
//! runs. The [`Pacer`] compares the page's frame rate while a run trains with its frame rate idle,
//! both measured while a clip plays (the page then draws continuously), and asks the trainer to rest
//! between steps, a multiple of the last step's time, so that the page keeps [`AIM`] of its idle
//! rate. Where the page keeps its frame rate anyway (more cores, a hardware renderer) the rest stays 0
//! and training runs at full speed. Plain Rust: tested natively.
//!
//! The rest comes from a model of the loss: a trainer that rests `r` step times after each step
//! works `d = 1 / (1 + r)` of the time, and the frame rate loses a share proportional to `d`:
//! `share = 1 - c d`. One measured share at a known rest gives `c`, and `c` the rest that keeps
//! [`AIM`]. (Measured in headless Chromium on 2 cores at 1280 x 800: rests 0, 0.54, 0.71 and 0.92 kept
//! 72, 82, 83-84 and 84-85 % of the idle rate, which one `c` of about 0.28 fits.) A window's share is
//! noisy (a few frames more or less), so the pacer acts on the mean of the last two windows since its
//! last change, and only outside a band around the aim. Near the idle rate `c` is mostly noise, so a
//! page that draws faster than the band halves the rest instead (to 0 below 0.05).

/// The share of the idle frame rate the pacer aims at (80 % wanted, and a margin).
pub const AIM: f64 = 0.86;
/// Below this share the trainer rests more.
const LOW: f64 = 0.83;
/// Above this share the trainer rests less.
const HIGH: f64 = 0.92;
/// Frame rates are measured over windows of this length (milliseconds).
const WINDOW_MS: f64 = 2000.0;
/// A longer gap between two frames (a hidden tab, whose frames the browser holds back) starts a new
/// window instead of counting as a slow page.
const MAX_GAP_MS: f64 = 5000.0;
/// The longest rest, in steps' times (the trainer then takes a fifth of the time it could).
pub const MAX_REST: f64 = 4.0;

/// What a frame says about the page's speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// A clip plays and no run steps: the idle frame rate.
    Idle,
    /// A clip plays and a run steps.
    Training,
    /// No clip plays: the page draws only when something happens, so its frame rate says nothing.
    Still,
}

/// The pacer's state (see the module's documentation).
#[derive(Debug, Clone, Default)]
pub struct Pacer {
    /// The frame rate idle (frames/s), once measured.
    reference: Option<f64>,
    /// The rest asked of the trainer between steps, in multiples of the last step's time.
    rest: f64,
    /// The current window: its phase, its first and last frames' times (ms) and its frames since the
    /// first.
    window: Option<(Phase, f64, f64, u32)>,
    /// The window size the reference was measured at.
    size: [f32; 2],
    /// The last two training windows' shares of the idle frame rate since the rest last changed
    /// (the one before, the last).
    shares: (Option<f64>, Option<f64>),
}

impl Pacer {
    /// The rest asked of the trainer, in multiples of a step's time.
    pub fn rest(&self) -> f64 {
        self.rest
    }

    /// The idle frame rate, once measured.
    pub fn reference(&self) -> Option<f64> {
        self.reference
    }

    /// The frame rate while training over the idle one: the mean of the last two windows since the
    /// rest last changed (or the one window).
    pub fn share(&self) -> Option<f64> {
        match self.shares {
            (Some(before), Some(last)) => Some(0.5 * (before + last)),
            (_, last) => last,
        }
    }

    /// Counts a frame drawn at `now_ms` in `phase` in a window of `size` points; the new rest when it
    /// changes.
    pub fn frame(&mut self, now_ms: f64, phase: Phase, size: [f32; 2]) -> Option<f64> {
        if size != self.size {
            // Another window size draws at another rate.
            self.size = size;
            self.reference = None;
            self.window = None;
            self.shares = (None, None);
        }
        let (start, frames) = match self.window {
            Some((p, start, last, frames)) if p == phase && now_ms - last <= MAX_GAP_MS => (start, frames + 1),
            // A new phase (or a frame after a long gap) starts a new window at this frame.
            _ => {
                self.window = Some((phase, now_ms, now_ms, 0));
                return None;
            }
        };
        if now_ms - start < WINDOW_MS {
            self.window = Some((phase, start, now_ms, frames));
            return None;
        }
        self.window = Some((phase, now_ms, now_ms, 0));
        let fps = f64::from(frames) * 1000.0 / (now_ms - start);
        match phase {
            Phase::Still => None,
            Phase::Idle => {
                self.reference = Some(self.reference.map_or(fps, |r| 0.5 * (r + fps)));
                // A run's shares say nothing about the next one's.
                self.shares = (None, None);
                None
            }
            Phase::Training => {
                let now = fps / self.reference?;
                self.shares = (self.shares.1, Some(now));
                let share = self.share()?;
                if self.shares.0.is_none() || (LOW..=HIGH).contains(&share) {
                    return None;
                }
                let rest = if share < LOW {
                    // share = 1 - c / (1 + rest): this measurement's c, and the rest that keeps AIM.
                    let c = (1.0 - share) * (1.0 + self.rest);
                    (c / (1.0 - AIM) - 1.0).clamp(0.0, MAX_REST)
                } else if self.rest < 0.1 {
                    0.0
                } else {
                    0.5 * self.rest
                };
                self.shares = (None, None);
                (rest != self.rest).then(|| {
                    self.rest = rest;
                    rest
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIZE: [f32; 2] = [1280.0, 800.0];

    /// Feeds a frame without a playing clip at `t0` (ms; it ends the window before), then `seconds` of
    /// frames at `fps` in `phase`; the rests asked and the end time.
    fn feed(p: &mut Pacer, t0: f64, seconds: f64, fps: f64, phase: Phase) -> (Vec<f64>, f64) {
        assert_eq!(p.frame(t0, Phase::Still, SIZE), None);
        let n = (seconds * fps).round() as usize;
        let asked = (1..=n).filter_map(|i| p.frame(t0 + i as f64 * 1000.0 / fps, phase, SIZE)).collect();
        (asked, t0 + n as f64 * 1000.0 / fps)
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    /// A pacer that knows an idle rate of 10 frames/s (one 2-second window of 20 frames after the
    /// first) and the time it has reached.
    fn idle_at_10() -> (Pacer, f64) {
        let mut p = Pacer::default();
        let (asked, t) = feed(&mut p, 0.0, 4.0, 10.0, Phase::Idle);
        assert!(asked.is_empty());
        assert!(close(p.reference().unwrap(), 10.0), "{:?}", p.reference());
        (p, t)
    }

    #[test]
    fn idle_windows_give_the_reference() {
        let (mut p, t) = idle_at_10();
        // Frames without a playing clip say nothing.
        let (_, t) = feed(&mut p, t, 4.0, 3.0, Phase::Still);
        assert!(close(p.reference().unwrap(), 10.0));
        // A second idle rate is averaged with the first.
        feed(&mut p, t, 3.0, 8.0, Phase::Idle);
        assert!(close(p.reference().unwrap(), 9.0), "{:?}", p.reference());
    }

    #[test]
    fn a_slow_page_asks_for_the_rest_the_model_gives_and_a_fast_one_gets_it_back() {
        let (mut p, t) = idle_at_10();
        // 7.3 frames/s while training (two windows of 15 frames after the first): 73 % of idle without rest, so
        // c = 0.27, and the rest that keeps 86 % is 0.27 / 0.14 - 1.
        let (asked, t) = feed(&mut p, t, 31.0 / 7.3, 7.3, Phase::Training);
        assert!(asked.len() == 1 && close(asked[0], 0.27 / (1.0 - AIM) - 1.0), "{asked:?}");
        assert!(close(p.rest(), asked[0]) && p.share().is_none());
        // Within the band (88 %) the rest stays, however long.
        let (asked, t) = feed(&mut p, t, 30.0, 8.8, Phase::Training);
        assert!(asked.is_empty(), "{asked:?}");
        assert!(close(p.share().unwrap(), 0.88), "{:?}", p.share());
        // A page at its idle rate halves the rest every two windows, to 0 below 0.05.
        let mut q = p.clone();
        let (asked, _) = feed(&mut q, t, 30.0, 10.2, Phase::Training);
        let mut expected = vec![];
        let mut r = p.rest();
        while r >= 0.05 {
            r = if r < 0.1 { 0.0 } else { 0.5 * r };
            expected.push(r);
        }
        assert!(expected.len() > 2 && expected.last() == Some(&0.0), "{expected:?}");
        assert_eq!(asked.len(), expected.len(), "{asked:?}");
        assert!(asked.iter().zip(&expected).all(|(&a, &e)| close(a, e)), "{asked:?} {expected:?}");
        // Just above the band (92.5 %) the same.
        let r = p.rest();
        let (asked, _) = feed(&mut p, t, 5.0, 9.25, Phase::Training);
        assert!(asked.len() == 1 && close(asked[0], 0.5 * r), "{asked:?}");
    }

    #[test]
    fn the_rest_is_bounded_and_needs_a_reference() {
        let mut p = Pacer::default();
        // No idle frame rate measured: training frames ask nothing.
        let (asked, t) = feed(&mut p, 0.0, 6.0, 2.0, Phase::Training);
        assert!(asked.is_empty() && p.share().is_none());
        let (_, t) = feed(&mut p, t, 4.0, 10.0, Phase::Idle);
        // 20 %: the model asks for more than the bound, once.
        let (asked, _) = feed(&mut p, t, 60.0, 2.0, Phase::Training);
        assert_eq!(asked, vec![MAX_REST]);
        assert_eq!(p.rest(), MAX_REST);
    }

    #[test]
    fn a_hidden_page_is_not_a_slow_one() {
        let (mut p, t) = idle_at_10();
        // Training at the idle rate, then nothing for 30 seconds (the tab hidden), then the idle
        // rate again: no window spans the gap, so nothing is asked.
        let (asked, t) = feed(&mut p, t, 3.0, 10.0, Phase::Training);
        assert!(asked.is_empty());
        let resumed = t + 30_000.0;
        let asked: Vec<f64> =
            (0..=50).filter_map(|i| p.frame(resumed + f64::from(i) * 100.0, Phase::Training, SIZE)).collect();
        assert!(asked.is_empty() && close(p.share().unwrap(), 1.0), "{asked:?} {:?}", p.share());
        assert_eq!(p.rest(), 0.0);
    }

    #[test]
    fn another_window_size_forgets_the_reference() {
        let (mut p, t) = idle_at_10();
        p.frame(t + 100.0, Phase::Idle, [960.0, 540.0]);
        assert!(p.reference().is_none());
    }
}
