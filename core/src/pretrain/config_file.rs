//! The run config as a TOML file: the fields of [`PretrainConfig`] as top-level keys and tables
//! (`[model]`, `[clip]`, `[batch]`, `[batch.focal]`, `[schedule]`, `[run]`); every key may be left out
//! and keeps its default (the paper's). An unknown key, a wrong type or a value out of range is an error
//! naming the file and the field ([`crate::config_file`]).

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
    /// Optional wall-clock budget of this invocation in minutes (0: none); the run stops after the step
    /// that exceeds it, with its checkpoint written, and can be resumed.
    pub max_minutes: f64,
    /// Which sequences pretrain: `all`, or the training part of an evaluation split (so that the test
    /// sequences stay unseen).
    pub split: crate::data::Split,
    /// Devices every step is spread over (data parallelism), the first the main one: `cpu`, `gpu`,
    /// `gpu:N`; empty: the one device `--device` chooses.
    pub devices: Vec<String>,
}

impl Default for RunSettings {
    fn default() -> Self {
        Self {
            data: "embedded".into(),
            checkpoint_every: 50,
            max_steps: 0,
            max_minutes: 0.0,
            split: crate::data::Split::All,
            devices: Vec::new(),
        }
    }
}

/// Parses and checks a run config; `path` names the file in errors.
pub fn parse_pretrain_config(text: &str, path: &Path) -> Result<PretrainConfig, DataError> {
    crate::config_file::parse_config(text, path, &PretrainConfig::default(), PretrainConfig::validate)
}

/// The config as TOML (what a run folder's `config.toml` holds).
pub fn pretrain_config_toml(cfg: &PretrainConfig) -> String {
    crate::config_file::config_toml(cfg)
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
        let e = parse("[batch]\nnat_eps = 0.0\n").unwrap_err();
        assert!(e.contains("`batch.nat_eps`") && e.contains("positive"), "{e}");
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
