//! Charts of evaluation runs (plotters, PNG): lines of accuracy against a number (epochs, noise) and
//! grouped bars of accuracy per condition (occluded body parts), one colour per model.

use std::path::Path;

use anyhow::Context;
use plotters::coord::Shift;
use plotters::prelude::*;

/// A named line or bar group.
pub type Series = (String, Vec<(f64, f64)>);

fn colour(i: usize) -> RGBColor {
    const C: [RGBColor; 6] = [
        RGBColor(31, 119, 180),
        RGBColor(214, 39, 40),
        RGBColor(44, 160, 44),
        RGBColor(255, 127, 14),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
    ];
    C[i % C.len()]
}

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow::anyhow!("{e:?}")
}

fn write_png(
    path: &Path,
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    crate::weights_plot::register_font()?;
    let tmp = path.with_extension("partial.png");
    {
        let root = BitMapBackend::new(&tmp, (900, 520)).into_drawing_area();
        draw(&root).with_context(|| format!("drawing {}", path.display()))?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

/// A line chart of `series` with y in [0, 100].
pub fn lines(path: &Path, title: &str, x_desc: &str, series: &[Series]) -> anyhow::Result<()> {
    let xs = series.iter().flat_map(|s| s.1.iter().map(|p| p.0));
    let (lo, hi) = xs.fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(x), b.max(x)));
    let (lo, hi) = if lo < hi { (lo, hi) } else { (lo.min(0.0), lo.max(0.0) + 1.0) };
    write_png(path, |root| {
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(lo..hi, 0.0..100.0)
            .map_err(err)?;
        chart.configure_mesh().x_desc(x_desc).y_desc("accuracy (%)").draw().map_err(err)?;
        for (i, (name, pts)) in series.iter().enumerate() {
            let c = colour(i);
            chart
                .draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))
                .map_err(err)?
                .label(name.as_str())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], c.stroke_width(2)));
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, c.filled()))).map_err(err)?;
        }
        chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw().map_err(err)?;
        root.present().map_err(err)
    })
}

/// Grouped bars: one group per `groups` entry, one bar per model (`series[m].1[g].1` is the height).
pub fn bars(path: &Path, title: &str, groups: &[String], series: &[Series]) -> anyhow::Result<()> {
    write_png(path, |root| {
        root.fill(&WHITE).map_err(err)?;
        let n = groups.len().max(1);
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..n as f64, 0.0..100.0)
            .map_err(err)?;
        chart.configure_mesh().disable_x_mesh().x_labels(0).y_desc("accuracy (%)").draw().map_err(err)?;
        // Group names inside the plot, above each group.
        chart
            .draw_series(
                groups
                    .iter()
                    .enumerate()
                    .map(|(g, name)| Text::new(name.clone(), (g as f64 + 0.1, 97.0), ("sans-serif", 15).into_font())),
            )
            .map_err(err)?;
        let k = series.len().max(1) as f64;
        let width = 0.8 / k;
        for (i, (name, pts)) in series.iter().enumerate() {
            let c = colour(i);
            chart
                .draw_series(pts.iter().enumerate().map(|(g, &(_, h))| {
                    let x0 = g as f64 + 0.1 + width * i as f64;
                    Rectangle::new([(x0, 0.0), (x0 + width * 0.95, h)], c.filled())
                }))
                .map_err(err)?
                .label(name.as_str())
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.filled()));
        }
        chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw().map_err(err)?;
        root.present().map_err(err)
    })
}
