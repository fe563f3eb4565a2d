//! Body parts: the groups of joints that occlusion tests and views speak of.

/// A body part. Every joint of a layout belongs to exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum BodyPart {
    /// Neck and head.
    Head,
    /// Left shoulder (clavicle) to fingers.
    LeftArm,
    /// Right shoulder (clavicle) to fingers.
    RightArm,
    /// Left hip to toes.
    LeftLeg,
    /// Right hip to toes.
    RightLeg,
    /// Pelvis and spine.
    Trunk,
}

impl BodyPart {
    /// All parts, in display order.
    pub const ALL: [Self; 6] = [Self::Head, Self::LeftArm, Self::RightArm, Self::LeftLeg, Self::RightLeg, Self::Trunk];

    /// A short lowercase name (`left-arm`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Head => "head",
            Self::LeftArm => "left-arm",
            Self::RightArm => "right-arm",
            Self::LeftLeg => "left-leg",
            Self::RightLeg => "right-leg",
            Self::Trunk => "trunk",
        }
    }

    /// Guesses the part of a joint from its name, for layouts read from files (BVH, ASF, ...).
    ///
    /// Side: a `_L`/`_R` or `.L`/`.R` suffix, a `Left`/`Right` word, or an `l`/`r` prefix before a limb word
    /// (CMU/HDM05 style: `lfemur`). Limb: arm words (shoulder, clavicle, arm, humerus, radius, elbow, wrist,
    /// hand, finger, thumb) or leg words (hip, femur, leg, knee, tibia, ankle, foot, toe). Head: head, neck,
    /// nose, eye, ear. Everything else is trunk.
    pub fn guess_from_name(name: &str) -> Self {
        const ARM: [&str; 10] =
            ["shoulder", "clavicle", "arm", "humerus", "radius", "elbow", "wrist", "hand", "finger", "thumb"];
        const LEG: [&str; 8] = ["hip", "femur", "leg", "knee", "tibia", "ankle", "foot", "toe"];
        const HEAD: [&str; 5] = ["head", "neck", "nose", "eye", "ear"];
        let lower = name.to_ascii_lowercase();
        let has = |words: &[&str], s: &str| words.iter().any(|w| s.contains(w));
        if has(&HEAD, &lower) {
            return Self::Head;
        }
        let limb_arm = has(&ARM, &lower);
        let limb_leg = has(&LEG, &lower);
        if !limb_arm && !limb_leg {
            return Self::Trunk;
        }
        let mut side = None;
        for (suffix, s) in [("_l", 'l'), ("_r", 'r'), (".l", 'l'), (".r", 'r')] {
            if lower.ends_with(suffix) {
                side = Some(s);
            }
        }
        if side.is_none() {
            if lower.contains("left") {
                side = Some('l');
            } else if lower.contains("right") {
                side = Some('r');
            }
        }
        if side.is_none() {
            let rest = &lower[1.min(lower.len())..];
            if (lower.starts_with('l') || lower.starts_with('r')) && (has(&ARM, rest) || has(&LEG, rest)) {
                side = lower.chars().next();
            }
        }
        match (side, limb_arm) {
            (Some('l'), true) => Self::LeftArm,
            (Some('r'), true) => Self::RightArm,
            (Some('l'), false) => Self::LeftLeg,
            (Some('r'), false) => Self::RightLeg,
            // A limb word without a side (a central hip joint) belongs to the trunk.
            _ => Self::Trunk,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_bvh_and_asf_conventions() {
        assert_eq!(BodyPart::guess_from_name("UpperArm_L"), BodyPart::LeftArm);
        assert_eq!(BodyPart::guess_from_name("Toes_R"), BodyPart::RightLeg);
        assert_eq!(BodyPart::guess_from_name("lfemur"), BodyPart::LeftLeg);
        assert_eq!(BodyPart::guess_from_name("rclavicle"), BodyPart::RightArm);
        assert_eq!(BodyPart::guess_from_name("lowerback"), BodyPart::Trunk);
        assert_eq!(BodyPart::guess_from_name("Hips"), BodyPart::Trunk);
        assert_eq!(BodyPart::guess_from_name("upperneck"), BodyPart::Head);
        assert_eq!(BodyPart::guess_from_name("LeftHand"), BodyPart::LeftArm);
    }
}
