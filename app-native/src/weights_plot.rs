//! Focal-weight outputs of `amr --no-gui weights`: joint x time heatmaps (plotters, PNG or SVG) and
//! the numbers (JSON, CSV).

use std::fmt::Write as _;
use std::path::Path;

use amr_core::data::{Dataset, Sequence};
use amr_core::focal::{FocalConfig, FocalWeights};
use anyhow::Context;
use plotters::coord::Shift;
use plotters::prelude::*;

/// Registers the embedded font under `sans-serif` for plotters.
pub fn register_font() -> anyhow::Result<()> {
    plotters::style::register_font("sans-serif", FontStyle::Normal, epaint_default_fonts::UBUNTU_LIGHT)
        .map_err(|_| anyhow::anyhow!("cannot load the embedded font"))
}

/// Draws one panel per window size and the fused weights, side by side, for person 0.
pub fn plot(ds: &Dataset, seq: &Sequence, fw: &FocalWeights, cfg: &FocalConfig, out: &Path) -> anyhow::Result<()> {
    register_font()?;
    let panels = cfg.windows.len() + 1;
    let v = seq.joints;
    let (w, h) = ((panels as u32) * 420 + 40, (v as u32) * 18 + 150);
    let svg = out.extension().is_some_and(|e| e.eq_ignore_ascii_case("svg"));
    // Draw beside the target and rename, so a failure never leaves a half-drawn picture in its place.
    let stem = out.file_stem().and_then(|s| s.to_str()).unwrap_or("weights");
    let tmp = out.with_file_name(format!(".{stem}.partial.{}", if svg { "svg" } else { "png" }));
    let result = if svg {
        draw(&SVGBackend::new(&tmp, (w, h)).into_drawing_area(), ds, seq, fw, cfg)
    } else {
        draw(&BitMapBackend::new(&tmp, (w, h)).into_drawing_area(), ds, seq, fw, cfg)
    };
    result.with_context(|| format!("drawing {}", out.display()))?;
    std::fs::rename(&tmp, out).with_context(|| format!("writing {}", out.display()))?;
    Ok(())
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    ds: &Dataset,
    seq: &Sequence,
    fw: &FocalWeights,
    cfg: &FocalConfig,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow::anyhow!("{e:?}");
    root.fill(&WHITE).map_err(err)?;
    let class =
        usize::try_from(seq.label).ok().and_then(|l| ds.label_names.get(l)).map_or("unlabelled", String::as_str);
    let title = format!(
        "Focal weights of `{}` ({class}, {} frames at {} fps), k = {}, eps = {:e}",
        seq.name, seq.frames, ds.fps, cfg.k, cfg.eps
    );
    let root = root.titled(&title, ("sans-serif", 22)).map_err(err)?;
    let (body, legend) = root.split_vertically(root.dim_in_pixel().1 - 40);
    let panels = body.split_evenly((1, cfg.windows.len() + 1));
    let names = &ds.layout.joint_names;
    let (t_len, v_len) = (seq.frames as i32, seq.joints as i32);
    for (p, area) in panels.iter().enumerate() {
        let (caption, value): (String, Box<dyn Fn(usize, usize) -> f32>) = match fw.scales.get(p) {
            Some(s) => {
                (format!("window n = {}", s.window), Box::new(move |t, v| s.weight_at_frame(t, 0, v, fw.joints)))
            }
            None => (format!("fused ({:?})", cfg.fusion).to_lowercase(), Box::new(|t, v| fw.fused_at(t, 0, v))),
        };
        let mut chart = ChartBuilder::on(area)
            .caption(caption, ("sans-serif", 18))
            .margin(6)
            .x_label_area_size(30)
            .y_label_area_size(if p == 0 { 90 } else { 10 })
            .build_cartesian_2d(0..t_len, (0..v_len).into_segmented())
            .map_err(err)?;
        // Joint v is drawn in row V-1-v, so the first joint is at the top; labels sit at row centres.
        let label = |y: &SegmentValue<i32>| match y {
            SegmentValue::CenterOf(r) if p == 0 => names.get((v_len - 1 - r) as usize).cloned().unwrap_or_default(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("frame")
            .y_labels(v_len as usize)
            .y_label_formatter(&label)
            .label_style(("sans-serif", 12))
            .draw()
            .map_err(err)?;
        chart
            .draw_series((0..t_len).flat_map(|t| (0..v_len).map(move |v| (t, v))).map(|(t, v)| {
                let [r, g, b] = amr_ui::colormap::weight_rgb(value(t as usize, v as usize));
                let row = v_len - 1 - v;
                Rectangle::new(
                    [(t, SegmentValue::Exact(row)), (t + 1, SegmentValue::Exact(row + 1))],
                    RGBColor(r, g, b).filled(),
                )
            }))
            .map_err(err)?;
    }
    // Colour bar.
    let (lw, _) = legend.dim_in_pixel();
    let x0 = lw as i32 / 2 - 200;
    for i in 0..200 {
        let [r, g, b] = amr_ui::colormap::weight_rgb(i as f32 / 199.0);
        legend
            .draw(&Rectangle::new([(x0 + 2 * i, 8), (x0 + 2 * i + 2, 24)], RGBColor(r, g, b).filled()))
            .map_err(err)?;
    }
    legend.draw(&Text::new("weight 0", (x0 - 80, 8), ("sans-serif", 14))).map_err(err)?;
    legend.draw(&Text::new("1", (x0 + 406, 8), ("sans-serif", 14))).map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

/// Writes per frame, person and joint: each window's energy and weight, and the fused weight.
pub fn write_json(
    ds: &Dataset,
    seq: &Sequence,
    fw: &FocalWeights,
    cfg: &FocalConfig,
    out: &Path,
) -> anyhow::Result<()> {
    let mut rows = Vec::with_capacity(seq.frames * seq.persons * seq.joints);
    for t in 0..seq.frames {
        for m in 0..seq.persons {
            for v in 0..seq.joints {
                let energy: serde_json::Map<String, serde_json::Value> = fw
                    .scales
                    .iter()
                    .map(|s| (s.window.to_string(), serde_json::json!(s.energy_at_frame(t, m, v, fw.joints))))
                    .collect();
                let weight: serde_json::Map<String, serde_json::Value> = fw
                    .scales
                    .iter()
                    .map(|s| (s.window.to_string(), serde_json::json!(s.weight_at_frame(t, m, v, fw.joints))))
                    .collect();
                rows.push(serde_json::json!({"frame": t, "person": m, "joint": ds.layout.joint_names[v], "energy": energy, "weight": weight, "fused": fw.fused_at(t, m, v)}));
            }
        }
    }
    let thresholds: serde_json::Map<String, serde_json::Value> =
        fw.scales.iter().map(|s| (s.window.to_string(), serde_json::json!(s.threshold))).collect();
    let doc = serde_json::json!({
        "sample": seq.name, "label": seq.label, "fps": ds.fps, "frames": seq.frames, "persons": seq.persons,
        "joints": ds.layout.joint_names, "windows": cfg.windows, "k": cfg.k, "eps": cfg.eps, "fusion": cfg.fusion,
        "threshold": thresholds, "rows": rows,
    });
    write(out, serde_json::to_string_pretty(&doc)?.as_bytes())
}

/// The same numbers as [`write_json`], one CSV row per frame, person and joint.
pub fn write_csv(
    ds: &Dataset,
    seq: &Sequence,
    fw: &FocalWeights,
    _cfg: &FocalConfig,
    out: &Path,
) -> anyhow::Result<()> {
    let mut s = String::from("frame,person,joint");
    for sc in &fw.scales {
        let _ = write!(s, ",energy_n{0},weight_n{0}", sc.window);
    }
    s.push_str(",fused\n");
    for t in 0..seq.frames {
        for m in 0..seq.persons {
            for v in 0..seq.joints {
                let _ = write!(s, "{t},{m},{}", ds.layout.joint_names[v]);
                for sc in &fw.scales {
                    let _ = write!(
                        s,
                        ",{:e},{}",
                        sc.energy_at_frame(t, m, v, fw.joints),
                        sc.weight_at_frame(t, m, v, fw.joints)
                    );
                }
                let _ = writeln!(s, ",{}", fw.fused_at(t, m, v));
            }
        }
    }
    write(out, s.as_bytes())
}

fn write(out: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    amr_core::io::write_atomically(out, bytes)?;
    Ok(())
}
