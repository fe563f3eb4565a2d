//! The timeline: play, pause, step, loop, speed and scrub over a sequence's frames.

/// Playback state of the shown sequence.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Timeline {
    /// The frame shown.
    pub frame: usize,
    /// Whether frames advance on their own.
    pub playing: bool,
    /// Whether playback starts over at the end (else it stops on the last frame).
    pub looping: bool,
    /// Playback speed over the dataset's frame rate.
    pub speed: f32,
    #[serde(skip)]
    clock: f64,
}

impl Default for Timeline {
    fn default() -> Self {
        Self { frame: 0, playing: true, looping: true, speed: 1.0, clock: 0.0 }
    }
}

impl Timeline {
    /// Moves the frame on by the time elapsed since the last advance (`now`, seconds) at `fps` x speed;
    /// returns whether the view needs another frame soon.
    pub fn advance(&mut self, now: f64, fps: f32, frames: usize) -> bool {
        self.frame = self.frame.min(frames.saturating_sub(1));
        if !self.playing || frames == 0 {
            self.clock = now;
            return false;
        }
        let period = 1.0 / (f64::from(fps.max(1.0)) * f64::from(self.speed.max(0.01)));
        let due = ((now - self.clock) / period).floor();
        if due >= 1.0 {
            self.clock += due * period;
            let next = self.frame + due as usize;
            self.frame = if next < frames {
                next
            } else if self.looping {
                next % frames
            } else {
                self.playing = false;
                frames - 1
            };
        }
        true
    }

    /// Play/pause, step, loop, speed and a scrub slider for `frames` frames.
    pub fn timeline_ui(&mut self, ui: &mut egui::Ui, frames: usize) {
        let last = frames.saturating_sub(1);
        ui.horizontal(|ui| {
            if ui.button("|<").on_hover_text("first frame").clicked() {
                self.frame = 0;
            }
            if ui.button("<").on_hover_text("step back").clicked() {
                self.playing = false;
                self.frame = self.frame.saturating_sub(1);
            }
            if ui.button(if self.playing { "Pause" } else { "Play" }).clicked() {
                self.playing = !self.playing;
                if self.playing && self.frame >= last && !self.looping {
                    self.frame = 0;
                }
            }
            if ui.button(">").on_hover_text("step forward").clicked() {
                self.playing = false;
                self.frame = (self.frame + 1).min(last);
            }
            ui.checkbox(&mut self.looping, "loop");
            ui.add(egui::Slider::new(&mut self.speed, 0.1..=4.0).logarithmic(true).text("speed"));
        });
        let width = ui.available_width();
        ui.scope(|ui| {
            ui.spacing_mut().slider_width = (width - 140.0).max(100.0);
            if ui.add(egui::Slider::new(&mut self.frame, 0..=last).text("frame")).dragged() {
                self.playing = false;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advances_at_the_frame_rate_and_loops_or_stops() {
        let mut t = Timeline { clock: 0.0, ..Timeline::default() };
        // 10 fps x speed 1: 0.25 s is two whole frames.
        t.advance(0.25, 10.0, 5);
        assert_eq!(t.frame, 2);
        t.advance(0.55, 10.0, 5);
        assert_eq!(t.frame, 0, "frames 3, 4, then the loop starts over at 0");
        t.looping = false;
        t.advance(1.05, 10.0, 5);
        assert_eq!((t.frame, t.playing), (4, false), "without loop playback stops on the last frame");
        let mut fast = Timeline { speed: 2.0, ..Timeline::default() };
        fast.advance(0.0, 10.0, 100);
        fast.advance(0.51, 10.0, 100);
        assert_eq!(fast.frame, 10);
    }
}
