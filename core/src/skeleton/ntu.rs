//! The Kinect layouts: NTU RGB+D's 25 joints (Kinect v2) and the older 20-joint Kinect v1 layout.

use super::{BodyPart, Layout};

const NTU25_NAMES: [&str; 25] = [
    "spine_base",
    "spine_mid",
    "neck",
    "head",
    "shoulder_left",
    "elbow_left",
    "wrist_left",
    "hand_left",
    "shoulder_right",
    "elbow_right",
    "wrist_right",
    "hand_right",
    "hip_left",
    "knee_left",
    "ankle_left",
    "foot_left",
    "hip_right",
    "knee_right",
    "ankle_right",
    "foot_right",
    "spine_shoulder",
    "hand_tip_left",
    "thumb_left",
    "hand_tip_right",
    "thumb_right",
];

/// Parents of the NTU-25 joints (0-based; the bone list of the NTU feeders, hand tips and thumbs on the hand).
const NTU25_PARENTS: [i64; 25] =
    [-1, 0, 20, 2, 20, 4, 5, 6, 20, 8, 9, 10, 0, 12, 13, 14, 0, 16, 17, 18, 1, 7, 7, 11, 11];

/// The NTU-25 layout with the body parts of the robustness protocols (reference spec 6.5):
/// head {3, 4}, left arm {5-8, 22, 23}, right arm {9-12, 24, 25}, left leg {13-16}, right leg {17-20},
/// trunk {1, 2, 21} (1-based, as the papers write them).
pub fn ntu25() -> Layout {
    use BodyPart::{Head, LeftArm, LeftLeg, RightArm, RightLeg, Trunk};
    let parts = vec![
        Trunk, Trunk, Head, Head, LeftArm, LeftArm, LeftArm, LeftArm, RightArm, RightArm, RightArm, RightArm, LeftLeg,
        LeftLeg, LeftLeg, LeftLeg, RightLeg, RightLeg, RightLeg, RightLeg, Trunk, LeftArm, LeftArm, RightArm, RightArm,
    ];
    Layout {
        name: "ntu25".into(),
        joint_names: NTU25_NAMES.iter().map(|s| (*s).to_owned()).collect(),
        parents: NTU25_PARENTS.iter().map(|&p| usize::try_from(p).ok()).collect(),
        parts,
    }
}

/// For each Kinect-20 joint, its NTU-25 joint.
pub const KINECT20_TO_NTU25: [usize; 20] = [0, 1, 20, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19];

/// The Kinect v1 20-joint layout (hip center, spine, shoulder center, head, then arms and legs as NTU-25).
pub fn kinect20() -> Layout {
    let ntu = ntu25();
    let joint_names: Vec<String> = ["hip_center", "spine", "shoulder_center"]
        .iter()
        .map(|s| (*s).to_owned())
        .chain(KINECT20_TO_NTU25[3..].iter().map(|&j| ntu.joint_names[j].clone()))
        .collect();
    let parents = vec![
        None,
        Some(0),
        Some(1),
        Some(2),
        Some(2),
        Some(4),
        Some(5),
        Some(6),
        Some(2),
        Some(8),
        Some(9),
        Some(10),
        Some(0),
        Some(12),
        Some(13),
        Some(14),
        Some(0),
        Some(16),
        Some(17),
        Some(18),
    ];
    let parts = KINECT20_TO_NTU25.iter().map(|&j| ntu.parts[j]).collect();
    Layout { name: "kinect20".into(), joint_names, parents, parts }
}

/// Maps one Kinect-20 frame (20 x xyz) into the NTU-25 layout. The five NTU joints Kinect v1 lacks are
/// filled from their neighbours: neck = midpoint of shoulder center and head, hand tips and thumbs = hand.
pub fn kinect20_to_ntu25(frame: &[[f32; 3]; 20]) -> [[f32; 3]; 25] {
    let mut out = [[0.0f32; 3]; 25];
    for (k, &j) in KINECT20_TO_NTU25.iter().enumerate() {
        out[j] = frame[k];
    }
    out[2] = [0, 1, 2].map(|c| 0.5 * (out[20][c] + out[3][c]));
    out[21] = out[7];
    out[22] = out[7];
    out[23] = out[11];
    out[24] = out[11];
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntu25_tree_and_parts_match_the_papers_index_sets() {
        let l = ntu25();
        assert_eq!(l.joint_count(), 25);
        assert_eq!(l.bones().len(), 24);
        let one_based = |p| l.joints_of(p).iter().map(|j| j + 1).collect::<Vec<_>>();
        assert_eq!(one_based(BodyPart::Head), vec![3, 4]);
        assert_eq!(one_based(BodyPart::LeftArm), vec![5, 6, 7, 8, 22, 23]);
        assert_eq!(one_based(BodyPart::RightArm), vec![9, 10, 11, 12, 24, 25]);
        assert_eq!(one_based(BodyPart::LeftLeg), vec![13, 14, 15, 16]);
        assert_eq!(one_based(BodyPart::RightLeg), vec![17, 18, 19, 20]);
        assert_eq!(one_based(BodyPart::Trunk), vec![1, 2, 21]);
        // Round trip through the file representation.
        let again = Layout::from_parents("ntu25", &l.parents_i64(), &l.joint_names).unwrap();
        assert_eq!(again.parents, l.parents);
    }

    #[test]
    fn kinect20_maps_into_ntu25() {
        let k = kinect20();
        assert_eq!(k.joint_count(), 20);
        assert_eq!(k.bones().len(), 19);
        let mut frame = [[0.0f32; 3]; 20];
        for (j, p) in frame.iter_mut().enumerate() {
            *p = [j as f32, 2.0 * j as f32, 0.0];
        }
        let n = kinect20_to_ntu25(&frame);
        assert_eq!(n[20], [2.0, 4.0, 0.0]); // shoulder center -> spine shoulder
        assert_eq!(n[3], [3.0, 6.0, 0.0]); // head
        assert_eq!(n[2], [2.5, 5.0, 0.0]); // neck between them
        assert_eq!(n[24], n[11]);
        assert_eq!(k.parts[7], BodyPart::LeftArm);
    }
}
