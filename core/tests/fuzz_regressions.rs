//! Every input the fuzzers (`fuzz/`, `scripts/fuzz.sh`) found crashing, hanging or allocating without
//! bound is kept in `tests/data/fuzz/<target>/` and read here the way its target reads it: each must
//! now end in the error that names what is wrong.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

/// The findings of `target`, by file.
fn findings(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/fuzz").join(target);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no findings in {}", dir.display());
    out
}

#[test]
fn a_pickle_with_huge_keys_ends_in_an_error() {
    // A short pickle builds a deeply shared value and uses it as a class's module name: the key was
    // rendered with `{:?}`, which took longer than the fuzzer's 2 s (see the unit tests of
    // `mamp::pickle` for the bounded rendering and the copy budget).
    for (path, bytes) in findings("mamp_pickle") {
        let e = amr_core::mamp::pickle::read_pickle(&bytes).expect_err(&path.display().to_string()).0;
        assert!(e.contains("at byte"), "{}: {e}", path.display());
    }
}
