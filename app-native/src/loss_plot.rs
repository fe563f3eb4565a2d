//! The loss curve of a run folder (`loss.png`, `loss.svg`): loss per step, its moving average, the
//! trivial predictor's loss on the same batches (its moving average: the level of a model that explains
//! nothing), and the learning rate on a second axis.

use std::path::Path;

use amr_core::pretrain::StepReport;
use anyhow::Context;
use plotters::coord::Shift;
use plotters::prelude::*;

/// Draws `loss.png` and `loss.svg` into `dir` (nothing when there are no rows).
pub fn plot_loss(rows: &[StepReport], dir: &Path) -> anyhow::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    crate::weights_plot::register_font()?;
    for (name, svg) in [("loss.png", false), ("loss.svg", true)] {
        let out = dir.join(name);
        let tmp = dir.join(format!(".{name}.partial.{}", if svg { "svg" } else { "png" }));
        let result = if svg {
            draw(&SVGBackend::new(&tmp, (900, 520)).into_drawing_area(), rows)
        } else {
            draw(&BitMapBackend::new(&tmp, (900, 520)).into_drawing_area(), rows)
        };
        result.with_context(|| format!("drawing {}", out.display()))?;
        std::fs::rename(&tmp, &out).with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(())
}

/// Trailing mean over `window` points.
fn moving_average(values: &[f64], window: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(values.len());
    let mut sum = 0.0;
    for (i, v) in values.iter().enumerate() {
        sum += v;
        if i >= window {
            sum -= values[i - window];
        }
        out.push(sum / (i + 1).min(window) as f64);
    }
    out
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, rows: &[StepReport]) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow::anyhow!("{e:?}");
    root.fill(&WHITE).map_err(err)?;
    let steps: Vec<f64> = rows.iter().map(|r| r.step as f64).collect();
    let loss: Vec<f64> =
        rows.iter().flat_map(|r| [f64::from(r.loss), f64::from(r.trivial)]).filter(|l| l.is_finite()).collect();
    let (lo, hi) = loss.iter().fold((f64::MAX, f64::MIN), |(a, b), &l| (a.min(l), b.max(l)));
    let (lo, hi) = if lo < hi { (lo, hi) } else { (lo - 0.5, lo + 0.5) };
    let pad = (hi - lo) * 0.05;
    let x_end = steps.last().copied().unwrap_or(1.0).max(steps[0] + 1.0);
    let max_lr = rows.iter().map(|r| r.lr).fold(0.0, f64::max).max(1e-12);
    let mut chart = ChartBuilder::on(root)
        .caption("Pretraining loss", ("sans-serif", 24))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .right_y_label_area_size(64)
        .build_cartesian_2d(steps[0]..x_end, (lo - pad)..(hi + pad))
        .map_err(err)?
        .set_secondary_coord(steps[0]..x_end, 0.0..max_lr * 1.05);
    chart.configure_mesh().x_desc("step").y_desc("loss").draw().map_err(err)?;
    chart.configure_secondary_axes().y_desc("learning rate").draw().map_err(err)?;
    let raw: Vec<(f64, f64)> =
        rows.iter().filter(|r| r.loss.is_finite()).map(|r| (r.step as f64, f64::from(r.loss))).collect();
    let smooth = moving_average(&raw.iter().map(|p| p.1).collect::<Vec<_>>(), 20);
    chart
        .draw_series(LineSeries::new(raw.iter().copied(), RGBColor(160, 190, 230)))
        .map_err(err)?
        .label("loss per step")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RGBColor(160, 190, 230)));
    chart
        .draw_series(LineSeries::new(raw.iter().zip(&smooth).map(|(p, s)| (p.0, *s)), BLUE.stroke_width(2)))
        .map_err(err)?
        .label("moving mean (20 steps)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    let trivial: Vec<(f64, f64)> =
        rows.iter().filter(|r| r.trivial.is_finite()).map(|r| (r.step as f64, f64::from(r.trivial))).collect();
    let trivial_smooth = moving_average(&trivial.iter().map(|p| p.1).collect::<Vec<_>>(), 20);
    let grey = RGBColor(110, 110, 110);
    chart
        .draw_series(LineSeries::new(trivial.iter().zip(&trivial_smooth).map(|(p, s)| (p.0, *s)), grey.stroke_width(2)))
        .map_err(err)?
        .label("trivial predictor, moving mean (20 steps)")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], grey.stroke_width(2)));
    chart
        .draw_secondary_series(LineSeries::new(rows.iter().map(|r| (r.step as f64, r.lr)), RED))
        .map_err(err)?
        .label("learning rate (right axis)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED));
    chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw().map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn moving_average_is_the_trailing_mean() {
        let m = super::moving_average(&[1.0, 2.0, 3.0, 4.0], 2);
        assert_eq!(m, vec![1.0, 1.5, 2.5, 3.5]);
    }
}
