//! The run config as a TOML file: the fields of [`PretrainConfig`] as top-level keys and tables
//! (`[model]`, `[clip]`, `[batch]`, `[batch.focal]`, `[schedule]`, `[run]`); every key may be left out
//! and keeps its default (the paper's). An unknown key, a wrong type or a value out of range is an error
//! naming the file and the field.

use std::path::Path;

use super::PretrainConfig;
use crate::error::DataError;

/// Where and how often a headless run writes.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunSettings {
    /// The dataset file (amr-skeleton-v1), or `embedded` for the demo data.
    pub data: String,
    /// Write the checkpoint every this many steps (and at the end).
    pub checkpoint_every: usize,
    /// Optional cap on the optimiser steps of this invocation (0: run the schedule to its end).
    pub max_steps: usize,
}

impl Default for RunSettings {
    fn default() -> Self {
        Self { data: "embedded".into(), checkpoint_every: 50, max_steps: 0 }
    }
}

/// Lays `user` over `reference`, table by table, collecting keys the reference lacks and turning
/// integers into floats where the reference holds a float (`epochs = 400` for an f64 field).
fn overlay(reference: &mut toml::Value, user: &toml::Value, prefix: &str, unknown: &mut Vec<String>) {
    let (toml::Value::Table(r), toml::Value::Table(u)) = (&mut *reference, user) else {
        *reference = match (&*reference, user) {
            (toml::Value::Float(_), toml::Value::Integer(i)) => toml::Value::Float(*i as f64),
            _ => user.clone(),
        };
        return;
    };
    for (k, v) in u {
        let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match r.get_mut(k) {
            None => unknown.push(path),
            Some(rv) => overlay(rv, v, &path, unknown),
        }
    }
}

fn leaves(v: &toml::Value, prefix: &str, out: &mut Vec<(String, toml::Value)>) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                leaves(v, &if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") }, out);
            }
        }
        other => out.push((prefix.to_string(), other.clone())),
    }
}

fn single(path: &str, v: &toml::Value) -> toml::Value {
    path.rsplit('.').fold(v.clone(), |acc, k| {
        let mut t = toml::map::Map::new();
        t.insert(k.to_string(), acc);
        toml::Value::Table(t)
    })
}

/// Parses and checks a run config; `path` names the file in errors.
pub fn parse_pretrain_config(text: &str, path: &Path) -> Result<PretrainConfig, DataError> {
    let user: toml::Value =
        toml::from_str(text).map_err(|e| DataError::in_file(path, format!("not valid TOML: {}", e.message())))?;
    let reference = toml::Value::try_from(PretrainConfig::default())
        .map_err(|e| DataError::in_file(path, format!("internal: {e}")))?;
    let mut merged = reference.clone();
    let mut unknown = Vec::new();
    overlay(&mut merged, &user, "", &mut unknown);
    if let Some(first) = unknown.first() {
        return Err(DataError::at_field(path, first, format!("unknown field (unknown: {})", unknown.join(", "))));
    }
    let cfg: PretrainConfig = match merged.try_into() {
        Ok(c) => c,
        Err(e) => {
            // Name the field: lay the user's values over the defaults one at a time.
            let mut all = Vec::new();
            leaves(&user, "", &mut all);
            for (field, v) in all {
                let mut one = reference.clone();
                overlay(&mut one, &single(&field, &v), "", &mut Vec::new());
                if let Err(e) = one.try_into::<PretrainConfig>() {
                    return Err(DataError::at_field(path, field, e.message().to_string()));
                }
            }
            return Err(DataError::in_file(path, e.message().to_string()));
        }
    };
    cfg.validate().map_err(|m| {
        let field = m.split(' ').next().unwrap_or("").trim_end_matches(':').to_string();
        DataError::at_field(path, field, m)
    })?;
    Ok(cfg)
}

/// The config as TOML (what a run folder's `config.toml` holds).
pub fn pretrain_config_toml(cfg: &PretrainConfig) -> String {
    toml::to_string_pretty(cfg).unwrap_or_else(|e| format!("# cannot write the config: {e}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<PretrainConfig, String> {
        parse_pretrain_config(text, Path::new("run.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_overrides_and_errors_name_the_field() {
        assert_eq!(parse("").unwrap(), PretrainConfig::default());
        let c = parse("seed = 7\n[model]\ndim = 128\nheads = 4\n[batch]\nfocal_reconstruction = false\n").unwrap();
        assert_eq!((c.seed, c.model.dim, c.model.heads, c.batch.focal_reconstruction), (7, 128, 4, false));
        assert_eq!(c.model.frames, 120, "other fields keep their defaults");
        let round = parse(&pretrain_config_toml(&c)).unwrap();
        assert_eq!(round, c, "the written config reads back the same");

        let e = parse("[model]\ndimm = 3\n").unwrap_err();
        assert!(e.contains("run.toml") && e.contains("`model.dimm`") && e.contains("unknown"), "{e}");
        let e = parse("[batch.focal]\nk = 0.01\nwindow = [4]\n").unwrap_err();
        assert!(e.contains("batch.focal.window"), "{e}");
        let e = parse("[batch]\nmask_ratio = 1.5\n").unwrap_err();
        assert!(e.contains("`batch.mask_ratio`") && e.contains("[0, 1)"), "{e}");
        let e = parse("[model]\nr = 7\n").unwrap_err();
        assert!(e.contains("`model.r`"), "{e}");
        let e = parse("[schedule]\nlr = \"fast\"\n").unwrap_err();
        assert!(e.contains("run.toml") && e.contains("`schedule.lr`"), "{e}");
        let e = parse("[model]\ndecoder = \"gpt\"\n").unwrap_err();
        assert!(e.contains("`model.decoder`") && e.contains("mamp"), "{e}");
        assert_eq!(parse("[schedule]\nepochs = 40\n").unwrap().schedule.epochs, 40.0, "integers fill float fields");
        let e = parse("seed = [").unwrap_err();
        assert!(e.contains("not valid TOML"), "{e}");
    }
}
