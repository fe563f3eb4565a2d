//! The frame rate over the last second.

use std::collections::VecDeque;

/// Frame times of the last second, for the frame rate.
#[derive(Default)]
pub(crate) struct FrameClock {
    times: VecDeque<f64>,
}

impl FrameClock {
    pub(crate) fn tick(&mut self, now: f64) -> f32 {
        self.times.push_back(now);
        while self.times.front().is_some_and(|&t| now - t > 1.0) {
            self.times.pop_front();
        }
        match (self.times.front(), self.times.len()) {
            (Some(&first), n) if n > 1 && now > first => ((n - 1) as f64 / (now - first)) as f32,
            _ => 0.0,
        }
    }
}
