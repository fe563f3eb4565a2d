//! NTU RGB+D `.npz` files as the MAMP / CTR-GCN pipelines write them: `x_train`, `y_train`, `x_test`,
//! `y_test`; x float32 (N, T, 150) = T frames x 2 persons x 25 joints x xyz; y one-hot (N, classes).

use std::path::Path;

use super::npy::read_npz_members;
use super::{Dataset, Sequence};
use crate::error::DataError;
use crate::skeleton::ntu25;

/// Reads an NTU `.npz` into a 2-person NTU-25 dataset. Train and test samples are kept in one dataset
/// with the attribute `split` (0 = train, 1 = test); trailing all-zero frames of each sample are trimmed.
pub fn read_ntu_npz(bytes: &[u8], path: &Path) -> Result<Dataset, DataError> {
    let arrays = read_npz_members(bytes, path, &["x_train", "y_train", "x_test", "y_test"])?;
    let [xtr, ytr, xte, yte] = <[_; 4]>::try_from(arrays).map_err(|_| DataError::in_file(path, "expected 4 arrays"))?;
    // The class count is y_train's column count; with at least one training row the file holds that
    // many values, so the names made from it are bounded by the file's size.
    let classes = match ytr.shape.as_slice() {
        &[n, c] if n > 0 && c > 0 => c,
        s => {
            return Err(DataError::at_field(
                path,
                "y_train",
                format!("shape {s:?}, expected (N, classes) one-hot with N >= 1 and classes >= 1"),
            ));
        }
    };
    let mut ds = Dataset::new(ntu25(), 2, 30.0);
    ds.label_names = (1..=classes).map(|c| format!("A{c:03}")).collect();
    ds.attribute_names.insert("split".into(), vec!["train".into(), "test".into()]);
    ds.axes = "Kinect v2 camera space, metres, centred on the first frame's spine".into();
    ds.source = format!("NTU RGB+D npz ({})", path.display());
    for (split, (x, y, xn, yn)) in
        [(&xtr, &ytr, "x_train", "y_train"), (&xte, &yte, "x_test", "y_test")].into_iter().enumerate()
    {
        if x.shape.len() != 3 || x.shape[2] != 150 {
            return Err(DataError::at_field(path, xn, format!("shape {:?}, expected (N, T, 150)", x.shape)));
        }
        let (n, t) = (x.shape[0], x.shape[1]);
        if y.shape.len() != 2 || y.shape[0] != n || y.shape[1] != classes {
            return Err(DataError::at_field(
                path,
                yn,
                format!("shape {:?}, expected ({n}, {classes}) one-hot", y.shape),
            ));
        }
        if let Some(i) = x.data.iter().position(|v| !v.is_finite()) {
            return Err(DataError::at_field(path, xn, format!("non-finite value in sample {}", i / (t * 150))));
        }
        for i in 0..n {
            let row = &y.data[i * classes..(i + 1) * classes];
            let label =
                row.iter().enumerate().fold((0usize, f32::MIN), |b, (k, &v)| if v > b.1 { (k, v) } else { b }).0;
            if row[label] <= 0.0 {
                return Err(DataError::at_field(path, yn, format!("sample {i} has no class set (all zeros)")));
            }
            let sample = &x.data[i * t * 150..(i + 1) * t * 150];
            let frames =
                (0..t).rev().find(|&f| sample[f * 150..(f + 1) * 150].iter().any(|&v| v != 0.0)).map_or(0, |f| f + 1);
            if frames == 0 {
                return Err(DataError::at_field(path, xn, format!("sample {i} is all zeros")));
            }
            let mut s =
                Sequence::new(format!("{xn}_{i}"), label as i64, frames, 2, 25, sample[..frames * 150].to_vec());
            s.attributes.insert("split".into(), split as i64);
            ds.sequences.push(s);
        }
    }
    Ok(ds)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::data::npy::write_npz_f32;

    /// Writes an npz in the MAMP layout (stored members, like `np.savez`).
    pub fn write_npz(members: &[(&str, &[usize], &[f32])]) -> Vec<u8> {
        write_npz_f32(members).unwrap()
    }

    fn sample(frames: usize, total: usize, seed: f32, second: bool) -> Vec<f32> {
        let mut x = vec![0.0f32; total * 150];
        for f in 0..frames {
            for k in 0..150 {
                if k < 75 || second {
                    x[f * 150 + k] = ((f * 150 + k) as f32 * 0.01 + seed).sin() + 0.001;
                }
            }
        }
        x
    }

    #[test]
    fn reads_the_mamp_layout_and_trims_trailing_zero_frames() {
        let (t, c) = (20usize, 3usize);
        let xtr: Vec<f32> = [sample(12, t, 0.0, true), sample(20, t, 1.0, false)].concat();
        let ytr = [0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
        let xte = sample(5, t, 2.0, false);
        let yte = [1.0, 0.0, 0.0];
        let bytes = write_npz(&[
            ("x_train", &[2, t, 150], &xtr),
            ("y_train", &[2, c], &ytr),
            ("x_test", &[1, t, 150], &xte),
            ("y_test", &[1, c], &yte),
        ]);
        let ds = read_ntu_npz(&bytes, Path::new("ntu.npz")).unwrap();
        assert_eq!(ds.len(), 3);
        assert_eq!((ds.persons, ds.layout.joint_count()), (2, 25));
        assert_eq!(ds.sequences.iter().map(|s| s.frames).collect::<Vec<_>>(), vec![12, 20, 5]);
        assert_eq!(ds.sequences.iter().map(|s| s.label).collect::<Vec<_>>(), vec![1, 2, 0]);
        assert_eq!(ds.sequences[2].attributes["split"], 1);
        // x[f, m*75 + v*3 + c] lands at [f, m, v, c].
        let s = &ds.sequences[0];
        assert_eq!(s.joint(3, 1, 4), [xtr[3 * 150 + 75 + 12], xtr[3 * 150 + 75 + 13], xtr[3 * 150 + 75 + 14]]);
        assert!(ds.sequences[1].person_absent(1));
        assert!(!ds.sequences[0].person_absent(1));
    }

    #[test]
    fn bad_npz_names_the_member() {
        let x = sample(3, 4, 0.0, false);
        let e = read_ntu_npz(
            &write_npz(&[("x_train", &[1, 4, 150], &x), ("y_train", &[1, 2], &[1.0, 0.0])]),
            Path::new("n.npz"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("n.npz") && e.contains("`x_test`") && e.contains("missing"), "{e}");
        let bad_y = write_npz(&[
            ("x_train", &[1, 4, 150], &x),
            ("y_train", &[2, 2], &[1.0, 0.0, 0.0, 1.0]),
            ("x_test", &[1, 4, 150], &x),
            ("y_test", &[1, 2], &[1.0, 0.0]),
        ]);
        let e = read_ntu_npz(&bad_y, Path::new("n.npz")).unwrap_err().to_string();
        assert!(e.contains("`y_train`") && e.contains("expected (1, 2)"), "{e}");
        // A one-hot array of no columns, or one declaring a huge class count over no rows, is refused
        // before anything is indexed or allocated from it.
        for (shape, data) in [(vec![1usize, 0], vec![]), (vec![0, 1_000_000_000_000], vec![])] {
            let bytes = write_npz(&[
                ("x_train", &[1, 4, 150], &x),
                ("y_train", &shape, &data),
                ("x_test", &[1, 4, 150], &x),
                ("y_test", &[1, 2], &[1.0, 0.0]),
            ]);
            let e = read_ntu_npz(&bytes, Path::new("n.npz")).unwrap_err().to_string();
            assert!(e.contains("`y_train`") && e.contains("classes >= 1"), "{e}");
        }
        let mut nan = x.clone();
        nan[7] = f32::NAN;
        let bytes = write_npz(&[
            ("x_train", &[1, 4, 150], &nan),
            ("y_train", &[1, 2], &[1.0, 0.0]),
            ("x_test", &[1, 4, 150], &x),
            ("y_test", &[1, 2], &[1.0, 0.0]),
        ]);
        let e = read_ntu_npz(&bytes, Path::new("n.npz")).unwrap_err().to_string();
        assert!(e.contains("`x_train`") && e.contains("non-finite"), "{e}");
        let wrong = write_npz(&[
            ("x_train", &[1, 4, 75], &x[..300]),
            ("y_train", &[1, 2], &[1.0, 0.0]),
            ("x_test", &[1, 4, 150], &x),
            ("y_test", &[1, 2], &[1.0, 0.0]),
        ]);
        assert!(read_ntu_npz(&wrong, Path::new("n.npz")).unwrap_err().to_string().contains("(N, T, 150)"));
        assert!(read_ntu_npz(b"not a zip", Path::new("n.npz")).unwrap_err().to_string().contains("not an .npz"));
    }
}
