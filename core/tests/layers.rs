//! core's modules in layers that only point down: a module may use modules of its own layer or
//! below, never one above. The order is written once, here (ARCHITECTURE.md explains it). Test code
//! (a file's `#[cfg(test)]` part, `*tests.rs` files and `test_data.rs`) and comments may reach
//! anywhere.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

/// core's layers, lowest first.
const LAYERS: &[&[&str]] = &[
    &["error", "io", "math", "rng", "backend", "config_file", "fused"],
    &["skeleton"],
    &["data"],
    &["masking", "model"],
    &["focal", "mamp", "features"],
    &["gpu"],
    &["train"],
    &["pretrain"],
    &["eval"],
    &["demo", "tiny_train"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// The first path segment of every `crate::` path in `code`, also inside `use crate::{a, b::c}`.
fn crate_refs(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level items of the group: split at commas outside nested braces.
            let (mut depth, mut start) = (0usize, 0usize);
            for (k, ch) in group.char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        out.push(segment(&group[start..k]));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.push(segment(&group[start..k]));
                        start = k + 1;
                    }
                    _ => {}
                }
            }
        } else {
            out.push(segment(rest));
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

fn segment(path: &str) -> String {
    path.trim_start().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn core_modules_only_use_their_own_layer_or_lower_ones() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut violations = Vec::new();
    let mut unknown = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let name = rel.file_name().unwrap().to_string_lossy().to_string();
        if rel == Path::new("lib.rs") || name.ends_with("tests.rs") || name == "test_data.rs" {
            continue;
        }
        let module = rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
        let Some(own) = layer_of(&module) else {
            unknown.push(module);
            continue;
        };
        let text = std::fs::read_to_string(f).unwrap();
        let code: String = text
            .split("#[cfg(test)]")
            .next()
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for used in crate_refs(&code) {
            match layer_of(&used) {
                Some(l) if l > own => violations.push(format!("{}: {module} uses {used}", rel.display())),
                Some(_) => {}
                // Items re-exported at the crate root (`crate::DataError`) belong to the lowest layer.
                None if used.chars().next().is_some_and(char::is_uppercase) => {}
                None => unknown.push(used),
            }
        }
    }
    assert!(unknown.is_empty(), "modules missing from LAYERS: {unknown:?}");
    assert!(violations.is_empty(), "imports against the layers:\n{}", violations.join("\n"));
}

#[test]
fn the_reference_finder_sees_grouped_and_nested_imports() {
    let code = "use crate::{data::{Dataset, clip}, model::X};\nlet a = crate::eval::Split::All;";
    assert_eq!(crate_refs(code), ["data", "model", "eval"]);
}
