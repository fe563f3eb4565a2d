//! `amr --no-gui subset`: a smaller dataset that keeps the first N sequences of every group (for
//! example every class x style), optionally only some attribute values. The embedded demo data was
//! cut this way from the Bandai set (see assets/NOTICE.md).

use std::collections::BTreeMap;
use std::path::PathBuf;

use amr_core::data::{Dataset, Precision, save_amr_skeleton};
use anyhow::{Context, bail};
use clap::Args;

/// Arguments of `subset`.
#[derive(Args, Debug)]
pub struct SubsetArgs {
    /// Input amr-skeleton-v1 file.
    pub input: PathBuf,
    /// Output amr-skeleton-v1 file.
    pub output: PathBuf,
    /// Sequences kept per group, in file order.
    #[arg(long)]
    pub per_group: usize,
    /// Group by the label and these attributes (comma separated), e.g. `style`.
    #[arg(long, value_delimiter = ',')]
    pub by: Vec<String>,
    /// Keep only sequences whose attribute has one of these value names, e.g. `style=normal,active`.
    #[arg(long)]
    pub only: Option<String>,
}

fn value_index(ds: &Dataset, attr: &str, name: &str) -> anyhow::Result<i64> {
    let names = ds.attribute_names.get(attr).with_context(|| format!("--only: the file has no `{attr}_names`"))?;
    names
        .iter()
        .position(|n| n == name)
        .map(|i| i as i64)
        .with_context(|| format!("--only: `{name}` is not a value of `{attr}` ({})", names.join(", ")))
}

/// Runs the command.
pub fn run(a: &SubsetArgs) -> anyhow::Result<()> {
    let ds = amr_core::data::load_amr_skeleton(&a.input)?;
    if a.per_group == 0 {
        bail!("--per-group 0: expected 1 or more");
    }
    let allowed: Option<(String, Vec<i64>)> = match &a.only {
        None => None,
        Some(spec) => {
            let (attr, values) =
                spec.split_once('=').with_context(|| format!("--only `{spec}`: expected ATTR=VALUE[,VALUE]"))?;
            Some((
                attr.to_owned(),
                values.split(',').map(|v| value_index(&ds, attr, v)).collect::<anyhow::Result<_>>()?,
            ))
        }
    };
    for key in &a.by {
        if !ds.attribute_keys().contains(key) {
            bail!("--by `{key}`: the file has no such attribute ({})", ds.attribute_keys().join(", "));
        }
    }
    let mut counts: BTreeMap<Vec<i64>, usize> = BTreeMap::new();
    let mut keep = Vec::new();
    for (i, s) in ds.sequences.iter().enumerate() {
        if let Some((attr, values)) = &allowed
            && !s.attributes.get(attr).is_some_and(|v| values.contains(v))
        {
            continue;
        }
        let key: Vec<i64> =
            std::iter::once(s.label).chain(a.by.iter().map(|k| s.attributes.get(k).copied().unwrap_or(-1))).collect();
        let n = counts.entry(key).or_insert(0);
        if *n < a.per_group {
            *n += 1;
            keep.push(i);
        }
    }
    let mut out = ds.subset(&keep);
    out.source = format!(
        "{}; subset: {} per group of label{}",
        ds.source,
        a.per_group,
        a.by.iter().map(|b| format!(" x {b}")).collect::<String>()
    );
    let precision = Precision::F16;
    save_amr_skeleton(&out, precision, &a.output)?;
    println!("wrote {}: {} of {} sequences", a.output.display(), out.len(), ds.len());
    Ok(())
}
