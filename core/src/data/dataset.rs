//! A dataset: sequences sharing one skeleton layout, with class names and per-sequence attributes.

use std::collections::BTreeMap;

use super::Sequence;
use crate::skeleton::Layout;

/// Sequences of one layout, as read from any supported file.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// The skeleton layout shared by all sequences.
    pub layout: Layout,
    /// Persons per frame M.
    pub persons: usize,
    /// Frames per second.
    pub fps: f32,
    /// Class names; a label is an index into them.
    pub label_names: Vec<String>,
    /// Names of the values of each attribute (`split` -> [`train`, `test`]), where known.
    pub attribute_names: BTreeMap<String, Vec<String>>,
    /// Axis convention, free text.
    pub axes: String,
    /// Where the data came from.
    pub source: String,
    /// Under which terms.
    pub license: String,
    /// The sequences.
    pub sequences: Vec<Sequence>,
}

/// Summary numbers of a dataset, as `amr --no-gui inspect` prints them.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DatasetStats {
    /// Number of sequences.
    pub sequences: usize,
    /// Total frames.
    pub frames: usize,
    /// Shortest, median and longest sequence in frames.
    pub length_min_median_max: [usize; 3],
    /// Sequences per class (index = label); unlabelled ones are not counted.
    pub class_counts: Vec<usize>,
    /// Unlabelled sequences.
    pub unlabelled: usize,
}

impl Dataset {
    /// An empty dataset of a layout.
    pub fn new(layout: Layout, persons: usize, fps: f32) -> Self {
        Self {
            layout,
            persons,
            fps,
            label_names: Vec::new(),
            attribute_names: BTreeMap::new(),
            axes: String::new(),
            source: String::new(),
            license: String::new(),
            sequences: Vec::new(),
        }
    }

    /// Number of sequences.
    pub fn len(&self) -> usize {
        self.sequences.len()
    }

    /// Whether there are no sequences.
    pub fn is_empty(&self) -> bool {
        self.sequences.is_empty()
    }

    /// The index of the sequence with this name.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.sequences.iter().position(|s| s.name == name)
    }

    /// Names of all per-sequence attributes present in any sequence.
    pub fn attribute_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.sequences.iter().flat_map(|s| s.attributes.keys().cloned()).collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// Summary statistics.
    pub fn stats(&self) -> DatasetStats {
        let mut lengths: Vec<usize> = self.sequences.iter().map(|s| s.frames).collect();
        lengths.sort_unstable();
        let pick = |i: usize| lengths.get(i).copied().unwrap_or(0);
        let mut class_counts = vec![0; self.label_names.len()];
        let mut unlabelled = 0;
        for s in &self.sequences {
            match usize::try_from(s.label).ok().and_then(|l| class_counts.get_mut(l)) {
                Some(c) => *c += 1,
                None => unlabelled += 1,
            }
        }
        DatasetStats {
            sequences: self.sequences.len(),
            frames: lengths.iter().sum(),
            length_min_median_max: [pick(0), pick(lengths.len() / 2), pick(lengths.len().saturating_sub(1))],
            class_counts,
            unlabelled,
        }
    }

    /// A dataset holding the chosen sequences (in the given order), with the same layout and names.
    pub fn subset(&self, indices: &[usize]) -> Self {
        let sequences = indices.iter().filter_map(|&i| self.sequences.get(i).cloned()).collect();
        Self { sequences, ..self.clone_header() }
    }

    /// Everything but the sequences.
    pub fn clone_header(&self) -> Self {
        Self {
            layout: self.layout.clone(),
            persons: self.persons,
            fps: self.fps,
            label_names: self.label_names.clone(),
            attribute_names: self.attribute_names.clone(),
            axes: self.axes.clone(),
            source: self.source.clone(),
            license: self.license.clone(),
            sequences: Vec::new(),
        }
    }
}
