//! `amr --no-gui inspect`: what a dataset file holds (sequences, lengths, joints, classes, attributes).

use std::fmt::Write as _;

use crate::inputs::load_dataset;

/// Runs `inspect`.
pub fn run(file: &str) -> anyhow::Result<()> {
    let ds = load_dataset(file)?;
    let st = ds.stats();
    let mut o = String::new();
    let _ = writeln!(o, "file:       {file}");
    let _ = writeln!(
        o,
        "sequences:  {}  ({} frames in all, {:.1} min at {} fps)",
        st.sequences,
        st.frames,
        st.frames as f64 / f64::from(ds.fps) / 60.0,
        ds.fps
    );
    let [lo, med, hi] = st.length_min_median_max;
    let _ = writeln!(o, "lengths:    min {lo}, median {med}, max {hi} frames");
    let _ = writeln!(o, "persons:    {}", ds.persons);
    let _ = writeln!(o, "joints:     {} ({})", ds.layout.joint_count(), ds.layout.joint_names.join(", "));
    let _ = writeln!(o, "axes:       {}", ds.axes);
    let _ = writeln!(o, "source:     {}", ds.source);
    let _ = writeln!(o, "license:    {}", ds.license);
    let _ = writeln!(o, "classes:    {}", ds.label_names.len());
    for (i, (name, n)) in ds.label_names.iter().zip(&st.class_counts).enumerate() {
        let _ = writeln!(o, "  {i:>3}  {name:<32} {n}");
    }
    if st.unlabelled > 0 {
        let _ = writeln!(o, "  unlabelled: {}", st.unlabelled);
    }
    for key in ds.attribute_keys() {
        let mut values: Vec<i64> = ds.sequences.iter().filter_map(|s| s.attributes.get(&key).copied()).collect();
        values.sort_unstable();
        values.dedup();
        let names = ds.attribute_names.get(&key);
        let shown: Vec<String> = values
            .iter()
            .take(12)
            .map(|v| {
                names
                    .and_then(|n| usize::try_from(*v).ok().and_then(|i| n.get(i)))
                    .map_or_else(|| v.to_string(), |n| format!("{v}={n}"))
            })
            .collect();
        let _ = writeln!(
            o,
            "attribute:  {key} ({} values: {}{})",
            values.len(),
            shown.join(", "),
            if values.len() > 12 { ", ..." } else { "" }
        );
    }
    // Ignore a closed pipe (`amr ... | head`), as command-line tools do.
    let _ = std::io::Write::write_all(&mut std::io::stdout(), o.as_bytes());
    Ok(())
}
