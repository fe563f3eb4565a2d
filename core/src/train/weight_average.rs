//! A uniform running average of a model's parameters over the last epochs of a run (stochastic weight
//! averaging, Izmailov et al. 2018, "Averaging Weights Leads to Wider Optima and Better
//! Generalization"). Where the test accuracy swings from epoch to epoch, the averaged weights stand
//! for the whole window instead of one draw from it.

use crate::model::NamedParams;

/// The mean of the parameter sets added so far, keyed like [`NamedParams`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WeightAverage {
    mean: NamedParams,
    count: usize,
}

impl WeightAverage {
    /// An average of `count` sets whose mean is `mean` (as saved in a checkpoint); `count` 0 is empty.
    pub fn from_parts(mean: NamedParams, count: usize) -> Self {
        if count == 0 { Self::default() } else { Self { mean, count } }
    }

    /// Adds one parameter set: `mean += (w - mean) / (count + 1)`. Every set must have the keys and
    /// shapes of the first; a set that does not leaves the average as it was and names the first key
    /// that differs.
    pub fn add(&mut self, w: &NamedParams) -> Result<(), String> {
        if self.count == 0 {
            self.mean = w.clone();
            self.count = 1;
            return Ok(());
        }
        if let Some(k) =
            self.mean.keys().find(|k| !w.contains_key(*k)).or_else(|| w.keys().find(|k| !self.mean.contains_key(*k)))
        {
            return Err(format!("weight average: parameter {k} is in one set and not in the other"));
        }
        if let Some((k, _)) = self.mean.iter().find(|(k, m)| w[*k].shape != m.shape) {
            return Err(format!("weight average: parameter {k} changed shape"));
        }
        self.count += 1;
        let inv = 1.0 / self.count as f32;
        for (k, m) in &mut self.mean {
            for (a, b) in m.values.iter_mut().zip(&w[k].values) {
                *a += (b - *a) * inv;
            }
        }
        Ok(())
    }

    /// Parameter sets averaged (0: none yet).
    pub fn count(&self) -> usize {
        self.count
    }

    /// The mean (empty before the first set).
    pub fn mean(&self) -> &NamedParams {
        &self.mean
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NamedTensor;

    fn set(a: f32, b: [f32; 2]) -> NamedParams {
        NamedParams::from([
            ("a".to_string(), NamedTensor { shape: vec![1], values: vec![a] }),
            ("b".to_string(), NamedTensor { shape: vec![2], values: b.to_vec() }),
        ])
    }

    #[test]
    fn the_mean_of_three_sets_is_their_elementwise_mean() {
        let mut avg = WeightAverage::default();
        for s in [set(1.0, [0.0, 3.0]), set(2.0, [6.0, -3.0]), set(6.0, [3.0, 9.0])] {
            avg.add(&s).unwrap();
        }
        assert_eq!(avg.count(), 3);
        let close = |got: &[f32], want: &[f32]| got.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-6);
        assert!(close(&avg.mean()["a"].values, &[3.0]), "{:?}", avg.mean());
        assert!(close(&avg.mean()["b"].values, &[3.0, 3.0]), "{:?}", avg.mean());
        // A saved average continues where it stopped: (3 * 3 + 7) / 4 = 4.
        let mut resumed = WeightAverage::from_parts(avg.mean().clone(), avg.count());
        resumed.add(&set(7.0, [3.0, 3.0])).unwrap();
        assert!(close(&resumed.mean()["a"].values, &[4.0]), "{:?}", resumed.mean());
    }

    #[test]
    fn a_set_with_other_keys_or_shapes_is_refused_and_changes_nothing() {
        let mut avg = WeightAverage::default();
        avg.add(&set(1.0, [1.0, 1.0])).unwrap();
        let mut other = set(5.0, [5.0, 5.0]);
        other.remove("b");
        assert!(avg.add(&other).unwrap_err().contains("parameter b"));
        let mut reshaped = set(5.0, [5.0, 5.0]);
        reshaped.get_mut("b").unwrap().shape = vec![1, 2];
        assert!(avg.add(&reshaped).unwrap_err().contains("changed shape"));
        assert_eq!((avg.count(), avg.mean()["a"].values[0]), (1, 1.0));
    }
}
