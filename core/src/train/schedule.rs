//! The learning-rate schedule of MAMP and AMR pretraining (reference spec 1.8): linear warm-up from 0,
//! then a half cosine down to the minimum, updated every iteration (epoch = iteration / iterations per
//! epoch, fractional).

use crate::error::ConfigError;

/// Linear warm-up then half-cosine decay.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LrSchedule {
    /// Peak learning rate (paper: 1e-3).
    pub lr: f64,
    /// Final learning rate (paper: 5e-4).
    pub min_lr: f64,
    /// Warm-up epochs (paper: 20).
    pub warmup_epochs: f64,
    /// Total epochs (paper: 400).
    pub epochs: f64,
}

impl Default for LrSchedule {
    fn default() -> Self {
        Self { lr: 1e-3, min_lr: 5e-4, warmup_epochs: 20.0, epochs: 400.0 }
    }
}

impl LrSchedule {
    /// The learning rate at a (fractional) epoch.
    pub fn at_epoch(&self, epoch: f64) -> f64 {
        if epoch < self.warmup_epochs {
            return self.lr * epoch / self.warmup_epochs;
        }
        let span = (self.epochs - self.warmup_epochs).max(f64::MIN_POSITIVE);
        let progress = ((epoch - self.warmup_epochs) / span).clamp(0.0, 1.0);
        self.min_lr + (self.lr - self.min_lr) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
    }

    /// The learning rate at iteration `it` with `per_epoch` iterations per epoch.
    pub fn at_iteration(&self, it: usize, per_epoch: usize) -> f64 {
        self.at_epoch(it as f64 / per_epoch.max(1) as f64)
    }

    /// Checks the values, naming the field that is out of range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.check_fields().map_err(ConfigError::from_message)
    }

    fn check_fields(&self) -> Result<(), String> {
        let ok = |x: f64| x.is_finite() && x >= 0.0;
        if !(ok(self.lr) && self.lr > 0.0) {
            return Err(format!("schedule.lr = {}: expected a positive number", self.lr));
        }
        if !ok(self.min_lr) || self.min_lr > self.lr {
            return Err(format!("schedule.min_lr = {}: expected a number in [0, lr]", self.min_lr));
        }
        if !ok(self.warmup_epochs) || self.warmup_epochs > self.epochs {
            return Err(format!("schedule.warmup_epochs = {}: expected a number in [0, epochs]", self.warmup_epochs));
        }
        if !(ok(self.epochs) && self.epochs > 0.0) {
            return Err(format!("schedule.epochs = {}: expected a positive number", self.epochs));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_then_cosine_by_hand() {
        let s = LrSchedule::default();
        assert_eq!(s.at_epoch(0.0), 0.0);
        assert!((s.at_epoch(10.0) - 5e-4).abs() < 1e-15, "half-way through warm-up");
        assert!((s.at_epoch(20.0) - 1e-3).abs() < 1e-15, "peak at the end of warm-up");
        // Half-way through the cosine: (lr + min_lr) / 2.
        assert!((s.at_epoch(210.0) - 7.5e-4).abs() < 1e-15);
        assert!((s.at_epoch(400.0) - 5e-4).abs() < 1e-15);
        assert!((s.at_epoch(500.0) - 5e-4).abs() < 1e-15, "stays at the minimum");
        // Per iteration: 100 iterations per epoch, iteration 150 = epoch 1.5.
        assert!((s.at_iteration(150, 100) - 1e-3 * 1.5 / 20.0).abs() < 1e-15);
        // Monotone up in warm-up, down after.
        let lrs: Vec<f64> = (0..4000).map(|i| s.at_iteration(i, 10)).collect();
        assert!(lrs[..200].windows(2).all(|w| w[1] >= w[0]) && lrs[200..].windows(2).all(|w| w[1] <= w[0]));
    }

    #[test]
    fn validation_names_the_field() {
        assert!(LrSchedule::default().validate().is_ok());
        assert!(
            LrSchedule { min_lr: 1.0, ..Default::default() }
                .validate()
                .unwrap_err()
                .message
                .contains("schedule.min_lr")
        );
        assert!(
            LrSchedule { epochs: 0.0, warmup_epochs: 0.0, ..Default::default() }
                .validate()
                .unwrap_err()
                .message
                .contains("schedule.epochs")
        );
    }
}
