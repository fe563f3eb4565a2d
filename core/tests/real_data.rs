//! Readers against the real files in ../shared/data (run with `AMR_SHARED` set, see
//! tests/support/shared.rs): BVH and ASF/AMC takes must reproduce the
//! sequences of the same sample name in the converted datasets, joint by joint (by name), within the
//! f16 rounding of the stored files.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use amr_core::data::{BvhOptions, Dataset, Sequence, load_amc, load_amr_skeleton, load_asf, load_bvh};

#[path = "../../tests/support/shared.rs"]
mod shared;

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

/// f16 keeps 11 significant bits: half an ulp is at most 2^-11 of the value; allow one ulp.
fn within_f16(parsed: f32, stored: f32) -> bool {
    (parsed - stored).abs() <= stored.abs() * 2f32.powi(-10) + 1e-4
}

/// Compares `parsed` (every `step`-th frame) with `stored`, matching joints by name. Returns the
/// largest absolute difference.
fn compare(parsed: &Sequence, parsed_names: &[String], stored: &Sequence, ds: &Dataset, step: usize) -> f32 {
    let expected_frames = parsed.frames.div_ceil(step);
    assert_eq!(stored.frames, expected_frames, "{}: frame count", stored.name);
    let mut worst = 0.0f32;
    for (sv, name) in ds.layout.joint_names.iter().enumerate() {
        let pv = parsed_names
            .iter()
            .position(|n| n == name)
            .unwrap_or_else(|| panic!("joint {name} missing from the parsed take"));
        for t in 0..stored.frames {
            let a = parsed.joint(t * step, 0, pv);
            let b = stored.joint(t, 0, sv);
            for c in 0..3 {
                assert!(
                    within_f16(a[c], b[c]),
                    "{} frame {t} joint {name} axis {c}: parsed {} stored {}",
                    stored.name,
                    a[c],
                    b[c]
                );
                worst = worst.max((a[c] - b[c]).abs());
            }
        }
    }
    worst
}

#[test]
fn every_bvh_take_matches_the_15fps_dataset() {
    let Some(shared) = shared::shared("every_bvh_take_matches_the_15fps_dataset") else { return };
    let ds = load_amr_skeleton(&shared.join("data/bandai2_15fps.safetensors")).unwrap();
    let bvhs = files(&shared.join("data/raw/bvh"), "bvh");
    assert_eq!(bvhs.len(), 10);
    for f in bvhs {
        let take = load_bvh(&f, BvhOptions::default()).unwrap();
        assert_eq!(take.layout.joint_count(), 21, "joint_Root is dropped");
        let stored = &ds.sequences
            [ds.find(&take.sequence.name).unwrap_or_else(|| panic!("{} not in the dataset", take.sequence.name))];
        let worst = compare(&take.sequence, &take.layout.joint_names, stored, &ds, 2);
        assert!(worst < 5e-3, "{worst}");
    }
}

#[test]
fn every_amc_motion_matches_the_30fps_dataset() {
    let Some(shared) = shared::shared("every_amc_motion_matches_the_30fps_dataset") else { return };
    let dir = shared.join("data/raw/asf-amc");
    let ds = load_amr_skeleton(&shared.join("data/hdm05_subset_30fps.safetensors")).unwrap();
    let amcs = files(&dir, "amc");
    assert_eq!(amcs.len(), 11);
    for f in amcs {
        let stem = f.file_stem().unwrap().to_string_lossy().into_owned();
        let actor = stem.split('_').take(2).collect::<Vec<_>>().join("_");
        let skel = load_asf(&dir.join(format!("{actor}.asf"))).unwrap();
        assert_eq!(skel.layout.joint_count(), 31);
        let seq = load_amc(&f, &skel).unwrap();
        let stored = &ds.sequences[ds.find(&stem).unwrap_or_else(|| panic!("{stem} not in the dataset"))];
        compare(&seq, &skel.layout.joint_names, stored, &ds, 4);
    }
}

#[test]
fn shipped_datasets_have_body_parts_for_every_layout() {
    use amr_core::skeleton::BodyPart;
    let Some(shared) = shared::shared("shipped_datasets_have_body_parts_for_every_layout") else { return };
    for (file, v) in
        [("bandai2_15fps.safetensors", 21), ("bandai1_30fps.safetensors", 21), ("hdm05_subset_30fps.safetensors", 31)]
    {
        let ds = load_amr_skeleton(&shared.join("data").join(file)).unwrap();
        assert_eq!(ds.layout.joint_count(), v);
        for part in BodyPart::ALL {
            assert!(!ds.layout.joints_of(part).is_empty(), "{file}: no joint in {part:?}");
        }
        let names = |p| ds.layout.joints_of(p).iter().map(|&j| ds.layout.joint_names[j].clone()).collect::<Vec<_>>();
        if v == 21 {
            assert_eq!(names(BodyPart::LeftArm), ["Shoulder_L", "UpperArm_L", "LowerArm_L", "Hand_L"]);
            assert_eq!(names(BodyPart::RightLeg), ["UpperLeg_R", "LowerLeg_R", "Foot_R", "Toes_R"]);
            assert_eq!(names(BodyPart::Head), ["Neck", "Head"]);
        } else {
            assert_eq!(names(BodyPart::LeftLeg), ["lhipjoint", "lfemur", "ltibia", "lfoot", "ltoes"]);
            assert!(names(BodyPart::RightArm).contains(&"rclavicle".to_owned()));
            assert!(names(BodyPart::Trunk).contains(&"lowerback".to_owned()));
        }
    }
}
