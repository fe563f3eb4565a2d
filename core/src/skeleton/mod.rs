//! Skeleton layouts: joint names, the kinematic tree, bones and body parts.

mod body_part;
mod ntu;

pub use body_part::BodyPart;
pub use ntu::{KINECT20_TO_NTU25, kinect20, kinect20_to_ntu25, ntu25};

/// Why a layout could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    /// `parents` and `joint_names` differ in length.
    #[error("{parents} parents but {names} joint names")]
    LengthMismatch {
        /// Length of `parents`.
        parents: usize,
        /// Length of `joint_names`.
        names: usize,
    },
    /// A parent index is out of range, or the tree has no single root or a cycle.
    #[error("joint {joint}: {message}")]
    BadParent {
        /// The joint whose parent is wrong.
        joint: usize,
        /// What is wrong.
        message: String,
    },
}

/// A skeleton layout: V joints with names, parents (None for a root) and a body part each.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Layout {
    /// A short name (`ntu25`, `bandai21`, `file31`, ...).
    pub name: String,
    /// Joint names, length V.
    pub joint_names: Vec<String>,
    /// Parent of each joint; `None` for a root.
    pub parents: Vec<Option<usize>>,
    /// Body part of each joint.
    pub parts: Vec<BodyPart>,
}

impl Layout {
    /// Builds a layout from a file's `parents` (-1 = root) and `joint_names`; body parts are guessed from
    /// the names ([`BodyPart::guess_from_name`]).
    pub fn from_parents(name: &str, parents: &[i64], joint_names: &[String]) -> Result<Self, LayoutError> {
        if parents.len() != joint_names.len() {
            return Err(LayoutError::LengthMismatch { parents: parents.len(), names: joint_names.len() });
        }
        let v = parents.len();
        let mut out = Vec::with_capacity(v);
        for (j, &p) in parents.iter().enumerate() {
            if p < 0 {
                out.push(None);
            } else if (p as usize) < v && p as usize != j {
                out.push(Some(p as usize));
            } else {
                return Err(LayoutError::BadParent { joint: j, message: format!("parent {p} not in [-1, {v})") });
            }
        }
        // Every joint must reach a root without a cycle.
        for j in 0..v {
            let mut cur = j;
            let mut steps = 0;
            while let Some(p) = out[cur] {
                cur = p;
                steps += 1;
                if steps > v {
                    return Err(LayoutError::BadParent { joint: j, message: "parents form a cycle".into() });
                }
            }
        }
        let parts = joint_names.iter().map(|n| BodyPart::guess_from_name(n)).collect();
        Ok(Self { name: name.to_owned(), joint_names: joint_names.to_vec(), parents: out, parts })
    }

    /// Number of joints V.
    pub fn joint_count(&self) -> usize {
        self.joint_names.len()
    }

    /// Bones as (child, parent) pairs.
    pub fn bones(&self) -> Vec<(usize, usize)> {
        self.parents.iter().enumerate().filter_map(|(j, p)| p.map(|p| (j, p))).collect()
    }

    /// The joints of one body part, in index order.
    pub fn joints_of(&self, part: BodyPart) -> Vec<usize> {
        self.parts.iter().enumerate().filter(|(_, p)| **p == part).map(|(j, _)| j).collect()
    }

    /// The joint of a body part that hangs from outside it (the first such in index order: the
    /// shoulder of an arm, the hip of a leg), or `None` when the layout has no joint of that part.
    pub fn top_of(&self, part: BodyPart) -> Option<usize> {
        (0..self.parts.len()).find(|&j| self.parts[j] == part && self.parents[j].is_none_or(|p| self.parts[p] != part))
    }

    /// Parents as a file stores them (-1 for a root).
    pub fn parents_i64(&self) -> Vec<i64> {
        self.parents.iter().map(|p| p.map_or(-1, |p| p as i64)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn from_parents_accepts_a_tree_and_rejects_bad_ones() {
        let n = names(&["Hips", "Spine", "Head", "UpperLeg_L"]);
        let l = Layout::from_parents("t", &[-1, 0, 1, 0], &n).unwrap();
        assert_eq!(l.bones(), vec![(1, 0), (2, 1), (3, 0)]);
        assert_eq!(l.joints_of(BodyPart::LeftLeg), vec![3]);
        assert_eq!(l.parents_i64(), vec![-1, 0, 1, 0]);
        assert!(matches!(Layout::from_parents("t", &[-1, 0], &n), Err(LayoutError::LengthMismatch { .. })));
        assert!(matches!(Layout::from_parents("t", &[-1, 0, 9, 0], &n), Err(LayoutError::BadParent { joint: 2, .. })));
        assert!(matches!(Layout::from_parents("t", &[2, 0, 1, 0], &n), Err(LayoutError::BadParent { .. })));
    }
}
