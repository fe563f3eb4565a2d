//! Train/test splits: the published ones where they exist (NTU cross-subject, cross-view, cross-setup;
//! a dataset's own `split` attribute such as HDM05's) and a seeded stratified split by group (a Bandai
//! take) where none does.

use std::collections::BTreeMap;

use crate::data::Dataset;
use crate::error::ConfigError;
use crate::rng::SeededRng;

/// NTU RGB+D 60 cross-subject training performers (Shahroudy et al., CVPR 2016).
pub const NTU60_XSUB_TRAIN: [i64; 20] = [1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38];

/// NTU RGB+D 120 cross-subject training performers (Liu et al., TPAMI 2019): the NTU-60 list and these.
pub const NTU120_XSUB_EXTRA_TRAIN: [i64; 33] = [
    45, 46, 47, 49, 50, 52, 53, 54, 55, 56, 57, 58, 59, 70, 74, 78, 80, 81, 82, 83, 84, 85, 86, 89, 91, 92, 93, 94, 95,
    97, 98, 100, 103,
];

/// How sequences are divided into training and test sets.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Split {
    /// No split: every sequence trains (pretraining on a whole file); evaluation refuses it.
    All,
    /// By the values of a per-sequence attribute (HDM05: `split`, train [0], test [1]).
    Attribute {
        /// The attribute's name.
        attribute: String,
        /// Values that go to the training set.
        train: Vec<i64>,
        /// Values that go to the test set.
        test: Vec<i64>,
    },
    /// Seeded and stratified: for each class, whole groups (sequences of the class sharing the values
    /// of the `group` attributes; every sequence alone when `group` is empty) are drawn into the test
    /// set until it holds about `test_share` of the class's sequences.
    Stratified {
        /// Attributes whose values keep sequences together (Bandai: `["style", "take"]`, one recording).
        group: Vec<String>,
        /// Share of each class for the test set.
        test_share: f64,
        /// The draw's seed.
        seed: u64,
    },
    /// A validation split for choosing hyperparameters: the training part of `of` divided again,
    /// stratified by class and keeping `group`s whole, into training (`train`) and validation (`test`)
    /// sequences; the test part of `of` is left out entirely, so a recipe tuned on this split has never
    /// seen the test sequences.
    Validation {
        /// The split whose training part is divided.
        of: Box<Split>,
        /// Share of each class of that training part held out for validation.
        share: f64,
        /// Attributes whose values keep sequences together (as in `stratified`).
        group: Vec<String>,
        /// The draw's seed.
        seed: u64,
    },
    /// NTU-60 cross-subject (attribute `subject`).
    NtuXsub60,
    /// NTU-120 cross-subject (attribute `subject`).
    NtuXsub120,
    /// NTU cross-view: cameras 2 and 3 train, camera 1 tests (attribute `camera`).
    NtuXview,
    /// NTU-120 cross-setup: even setups train, odd setups test (attribute `setup`).
    NtuXset,
}

impl Default for Split {
    fn default() -> Self {
        Self::Attribute { attribute: "split".into(), train: vec![0], test: vec![1] }
    }
}

/// Training and test sequence indices, ascending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitIndices {
    /// Training sequences.
    pub train: Vec<usize>,
    /// Test sequences.
    pub test: Vec<usize>,
}

fn attribute(ds: &Dataset, name: &str) -> Result<Vec<i64>, String> {
    ds.sequences
        .iter()
        .enumerate()
        .map(|(i, s)| {
            s.attributes.get(name).copied().ok_or_else(|| {
                format!(
                    "split: sequence {i} (`{}`) has no attribute `{name}` (the file has: {})",
                    s.name,
                    ds.attribute_keys().join(", ")
                )
            })
        })
        .collect()
}

fn by_rule(ds: &Dataset, name: &str, is_train: impl Fn(i64) -> Option<bool>) -> Result<SplitIndices, String> {
    let values = attribute(ds, name)?;
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (i, v) in values.into_iter().enumerate() {
        match is_train(v) {
            Some(true) => train.push(i),
            Some(false) => test.push(i),
            None => {}
        }
    }
    Ok(SplitIndices { train, test })
}

impl Split {
    /// Checks the values, naming the field that is out of range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.check_fields().map_err(ConfigError::from_message)
    }

    fn check_fields(&self) -> Result<(), String> {
        match self {
            Self::Attribute { attribute, train, test } => {
                if attribute.is_empty() {
                    return Err("split.attribute: expected an attribute name".into());
                }
                if let Some(v) = train.iter().find(|v| test.contains(v)) {
                    return Err(format!("split.train: value {v} is also in split.test"));
                }
                Ok(())
            }
            Self::All => Ok(()),
            Self::Stratified { test_share, .. } if !(*test_share > 0.0 && *test_share < 1.0) => {
                Err(format!("split.test_share = {test_share}: expected a share in (0, 1)"))
            }
            Self::Validation { share, .. } if !(*share > 0.0 && *share < 1.0) => {
                Err(format!("split.share = {share}: expected a share in (0, 1)"))
            }
            Self::Validation { of, .. } if matches!(**of, Self::All) => {
                Err("split.of: `all` has no training part to validate on; name an evaluation split".into())
            }
            Self::Validation { of, .. } => of.validate().map_err(|e| e.message.replacen("split.", "split.of.", 1)),
            _ => Ok(()),
        }
    }

    /// The split of `ds`. Unlabelled sequences (label -1) are left out of both sets.
    pub fn apply(&self, ds: &Dataset) -> Result<SplitIndices, ConfigError> {
        self.split_indices(ds).map_err(ConfigError::from_message)
    }

    fn split_indices(&self, ds: &Dataset) -> Result<SplitIndices, String> {
        self.validate()?;
        let mut s = match self {
            // Pretraining sees every sequence, labelled or not.
            Self::All => return Ok(SplitIndices { train: (0..ds.len()).collect(), test: Vec::new() }),
            Self::Attribute { attribute, train, test } => by_rule(ds, attribute, |v| {
                if train.contains(&v) {
                    Some(true)
                } else if test.contains(&v) {
                    Some(false)
                } else {
                    None
                }
            })?,
            Self::NtuXsub60 => by_rule(ds, "subject", |v| Some(NTU60_XSUB_TRAIN.contains(&v)))?,
            Self::NtuXsub120 => {
                by_rule(ds, "subject", |v| Some(NTU60_XSUB_TRAIN.contains(&v) || NTU120_XSUB_EXTRA_TRAIN.contains(&v)))?
            }
            Self::NtuXview => by_rule(ds, "camera", |v| match v {
                2 | 3 => Some(true),
                1 => Some(false),
                _ => None,
            })?,
            Self::NtuXset => by_rule(ds, "setup", |v| (v > 0).then_some(v % 2 == 0))?,
            Self::Stratified { group, test_share, seed } => stratified(ds, None, group, *test_share, *seed)?,
            Self::Validation { of, share, group, seed } => {
                let outer = of.apply(ds)?;
                stratified(ds, Some(&outer.train), group, *share, *seed)?
            }
        };
        s.train.retain(|&i| ds.sequences[i].label >= 0);
        s.test.retain(|&i| ds.sequences[i].label >= 0);
        if s.train.is_empty() || s.test.is_empty() {
            return Err(format!(
                "split {self:?} leaves {} training and {} test sequences: both must be non-empty",
                s.train.len(),
                s.test.len()
            ));
        }
        Ok(s)
    }
}

/// The stratified draw over the labelled sequences of `within` (every sequence when `None`).
fn stratified(
    ds: &Dataset,
    within: Option<&[usize]>,
    group: &[String],
    share: f64,
    seed: u64,
) -> Result<SplitIndices, String> {
    let columns: Vec<Vec<i64>> = group.iter().map(|g| attribute(ds, g)).collect::<Result<_, _>>()?;
    let allowed = |i: usize| within.is_none_or(|w| w.binary_search(&i).is_ok());
    // (label, group values) -> its sequences; the sequence index stands in when there is no group.
    let mut members: BTreeMap<(i64, Vec<i64>), Vec<usize>> = BTreeMap::new();
    for (i, s) in ds.sequences.iter().enumerate() {
        if s.label >= 0 && allowed(i) {
            let key = if columns.is_empty() { vec![i as i64] } else { columns.iter().map(|c| c[i]).collect() };
            members.entry((s.label, key)).or_default().push(i);
        }
    }
    let mut by_class: BTreeMap<i64, Vec<(i64, Vec<i64>)>> = BTreeMap::new();
    for g in members.keys() {
        by_class.entry(g.0).or_default().push(g.clone());
    }
    let mut rng = SeededRng::new(seed);
    let mut test_groups: Vec<(i64, Vec<i64>)> = Vec::new();
    for gs in by_class.values_mut() {
        rng.shuffle(gs);
        let total: usize = gs.iter().map(|g| members[g].len()).sum();
        let want = (total as f64 * share).round() as usize;
        // Take groups while each brings the class's test count closer to the target (at least one
        // group, never the last one: a class of one group stays in training).
        if gs.len() < 2 {
            continue;
        }
        let mut taken = 0usize;
        for (k, g) in gs.iter().enumerate() {
            if k + 1 == gs.len() {
                break;
            }
            let size = members[g].len();
            let closer = (taken + size).abs_diff(want) < taken.abs_diff(want);
            if k == 0 || closer {
                taken += size;
                test_groups.push(g.clone());
            }
        }
    }
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (g, idx) in &members {
        if test_groups.contains(g) { test.extend(idx) } else { train.extend(idx) }
    }
    train.sort_unstable();
    test.sort_unstable();
    Ok(SplitIndices { train, test })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Sequence;

    fn ds(rows: &[(i64, &[(&str, i64)])]) -> Dataset {
        let mut d = Dataset::new(crate::skeleton::ntu25(), 1, 30.0);
        for (i, (label, attrs)) in rows.iter().enumerate() {
            let mut s = Sequence::new(format!("s{i}"), *label, 2, 1, 25, vec![0.1; 2 * 25 * 3]);
            for (k, v) in attrs.iter() {
                s.attributes.insert((*k).to_string(), *v);
            }
            d.sequences.push(s);
        }
        d
    }

    #[test]
    fn attribute_and_ntu_splits_follow_their_lists() {
        let d = ds(&[
            (0, &[("split", 0), ("subject", 1), ("camera", 1), ("setup", 2)]),
            (1, &[("split", 1), ("subject", 3), ("camera", 2), ("setup", 3)]),
            (1, &[("split", 0), ("subject", 45), ("camera", 3), ("setup", 4)]),
            (-1, &[("split", 0), ("subject", 2), ("camera", 2), ("setup", 1)]),
        ]);
        let s = Split::default().apply(&d).unwrap();
        assert_eq!((s.train, s.test), (vec![0, 2], vec![1]), "unlabelled sequence 3 is left out");
        let s = Split::NtuXsub60.apply(&d).unwrap();
        assert_eq!((s.train, s.test), (vec![0], vec![1, 2]), "performer 45 tests in NTU-60");
        let s = Split::NtuXsub120.apply(&d).unwrap();
        assert_eq!((s.train, s.test), (vec![0, 2], vec![1]), "but trains in NTU-120");
        let s = Split::NtuXview.apply(&d).unwrap();
        assert_eq!((s.train, s.test), (vec![1, 2], vec![0]));
        let s = Split::NtuXset.apply(&d).unwrap();
        assert_eq!((s.train, s.test), (vec![0, 2], vec![1]));
        let e = Split::Attribute { attribute: "style".into(), train: vec![0], test: vec![1] }.apply(&d).unwrap_err();
        assert!(e.message.contains("`style`") && e.message.contains("s0"), "{e}");
        let e = Split::Attribute { attribute: "split".into(), train: vec![0], test: vec![7] }.apply(&d).unwrap_err();
        assert!(e.message.contains("0 test"), "{e}");
    }

    #[test]
    fn a_validation_split_divides_the_training_part_and_never_touches_the_test_part() {
        // 4 classes x 5 takes x 3 sequences; the outer split holds one take per class out for test.
        let rows: Vec<(i64, Vec<(&str, i64)>)> = (0..60).map(|i| (i / 15, vec![("take", i / 3)])).collect();
        let refs: Vec<(i64, &[(&str, i64)])> = rows.iter().map(|(l, a)| (*l, a.as_slice())).collect();
        let d = ds(&refs);
        let outer = Split::Stratified { group: vec!["take".into()], test_share: 0.2, seed: 3 };
        let o = outer.apply(&d).unwrap();
        let split = Split::Validation { of: Box::new(outer), share: 0.25, group: vec!["take".into()], seed: 1 };
        let v = split.apply(&d).unwrap();
        // 48 training sequences = 4 takes per class; a quarter of each class (one take) validates.
        assert_eq!((v.train.len(), v.test.len()), (36, 12));
        assert!(v.train.iter().chain(&v.test).all(|i| o.train.contains(i)), "only training sequences");
        assert!(v.test.iter().all(|i| !v.train.contains(i)));
        for class in 0..4 {
            assert_eq!(v.test.iter().filter(|&&i| d.sequences[i].label == class).count(), 3, "class {class}");
        }
        let text = "kind = \"validation\"\nshare = 0.25\ngroup = [\"take\"]\nseed = 1\n\
                    [of]\nkind = \"stratified\"\ngroup = [\"take\"]\ntest_share = 0.2\nseed = 3\n";
        assert_eq!(toml::from_str::<Split>(text).unwrap(), split, "the TOML form");
        let bad = Split::Validation { of: Box::new(Split::All), share: 0.2, group: vec![], seed: 0 };
        assert!(bad.apply(&d).unwrap_err().message.contains("split.of"));
        let bad = Split::Validation { of: Box::new(Split::default()), share: 1.5, group: vec![], seed: 0 };
        assert!(bad.apply(&d).unwrap_err().message.contains("split.share"));
    }

    #[test]
    fn stratified_split_keeps_groups_whole_draws_each_class_and_repeats_per_seed() {
        // 4 classes x 5 takes x 3 sequences.
        let rows: Vec<(i64, Vec<(&str, i64)>)> = (0..60).map(|i| (i / 15, vec![("take", i / 3)])).collect();
        let refs: Vec<(i64, &[(&str, i64)])> = rows.iter().map(|(l, a)| (*l, a.as_slice())).collect();
        let d = ds(&refs);
        let split = Split::Stratified { group: vec!["take".into()], test_share: 0.2, seed: 3 };
        let a = split.apply(&d).unwrap();
        assert_eq!(a, split.apply(&d).unwrap(), "same seed, same split");
        assert_eq!((a.train.len(), a.test.len()), (48, 12));
        for class in 0..4 {
            let n = a.test.iter().filter(|&&i| d.sequences[i].label == class).count();
            assert_eq!(n, 3, "one take of class {class} tests");
        }
        for take in 0..20 {
            let in_test = a.test.iter().filter(|&&i| i / 3 == take).count();
            assert!(in_test == 0 || in_test == 3, "take {take} is split");
        }
        let b = Split::Stratified { group: vec!["take".into()], test_share: 0.2, seed: 4 }.apply(&d).unwrap();
        assert_ne!(a.test, b.test, "another seed draws other takes");
        let mut one = d.clone();
        one.sequences[59].label = 4;
        one.label_names = vec![String::new(); 5];
        let s = split.apply(&one).unwrap();
        assert!(s.train.contains(&59), "a class of one recording trains");
        let e = Split::Stratified { group: Vec::new(), test_share: 1.0, seed: 0 }.apply(&d).unwrap_err();
        assert!(e.message.contains("split.test_share"), "{e}");
    }
}
