//! The desktop app under Xvfb: it opens on the embedded demo data and draws the skeleton coloured by
//! focal weight and the heatmap; clicks through the X server (xdotool) switch to the training tab,
//! start a run, and stop it; the draw report and the screenshots must show all of it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod support;
use support::{KillOnDrop, count_pixels, tmp_dir, unique_colours, wait_for};

struct Desktop {
    display: String,
    report: PathBuf,
    dir: PathBuf,
    _xvfb: KillOnDrop,
    _app: Option<KillOnDrop>,
}

impl Desktop {
    fn start() -> Self {
        let dir = tmp_dir("desktop");
        // A display number no other X server holds.
        let n = (90..190).find(|n| !Path::new(&format!("/tmp/.X{n}-lock")).exists()).expect("a free X display number");
        let display = format!(":{n}");
        let xvfb = KillOnDrop(
            Command::new("Xvfb")
                .args([display.as_str(), "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
                .stderr(Stdio::null())
                .spawn()
                .expect("Xvfb (apt install xvfb)"),
        );
        std::thread::sleep(std::time::Duration::from_secs(2));
        let report = dir.join("report.json");
        let _ = std::fs::remove_file(&report);
        let _ = std::fs::remove_dir_all(dir.join("run"));
        let _ = std::fs::remove_file(dir.join("settings.json"));
        let _ = std::fs::remove_dir_all(dir.join("exports"));
        let runtime = dir.join("xdg");
        std::fs::create_dir_all(&runtime).unwrap();
        let app = KillOnDrop(
            Command::new(env!("CARGO_BIN_EXE_amr"))
                .arg("--report")
                .arg(&report)
                .arg("--settings")
                .arg(dir.join("settings.json"))
                .arg("--run-dir")
                .arg(dir.join("run"))
                .args(["--device", "cpu"])
                .arg("--export-dir")
                .arg(dir.join("exports"))
                .env("DISPLAY", &display)
                .env("XDG_RUNTIME_DIR", &runtime)
                .env_remove("WAYLAND_DISPLAY")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        Self { display, report, dir, _xvfb: xvfb, _app: Some(app) }
    }

    /// The latest draw report that satisfies `ok`, waiting up to `secs`.
    fn report_where(&self, secs: u64, what: &str, ok: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        let mut last = String::new();
        wait_for(secs, || {
            let text = std::fs::read_to_string(&self.report).ok()?;
            let v: serde_json::Value = serde_json::from_str(&text).ok()?;
            last = text;
            ok(&v).then_some(v)
        })
        .unwrap_or_else(|| panic!("{what} not within {secs} s; last report:\n{last}"))
    }

    /// Moves the pointer onto `button` (from the draw report), lets a few frames see it hover, clicks.
    fn click(&self, report: &serde_json::Value, button: &str) {
        let xy = &report["buttons"][button];
        let (x, y) =
            (xy[0].as_f64().unwrap_or_else(|| panic!("no `{button}` button in {report}")), xy[1].as_f64().unwrap());
        let st = Command::new("xdotool")
            .args(["mousemove", &format!("{}", x.round()), &format!("{}", y.round()), "sleep", "0.5", "click", "1"])
            .env("DISPLAY", &self.display)
            .status()
            .expect("xdotool (apt install xdotool)");
        assert!(st.success());
    }

    fn screenshot(&self, name: &str) -> PathBuf {
        let shot = self.dir.join(name);
        let st = Command::new("import")
            .args(["-display", self.display.as_str(), "-window", "root"])
            .arg(&shot)
            .status()
            .expect("ImageMagick `import`");
        assert!(st.success());
        if let Ok(keep) = std::env::var("AMR_SCREENSHOT_DIR") {
            let _ = std::fs::copy(&shot, Path::new(&keep).join(name));
        }
        shot
    }
}

#[test]
fn desktop_app_draws_the_demo_and_trains_from_the_ui() {
    let d = Desktop::start();
    // The demo skeleton and its heatmap, coloured by focal weight.
    let r = d.report_where(180, "the explore tab", |r| {
        r["tab"] == "explore" && r["joints"] == 21 && r["fps"].as_f64() > Some(0.0)
    });
    // Frames are drawing; give the window a moment to present them.
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(r["bones"], 20, "{r}");
    assert_eq!(r["persons"], 1, "{r}");
    assert_eq!(r["weights"], "fused");
    assert!(r["heatmaps"].as_u64() >= Some(1), "{r}");
    let (lo, hi) = (r["weight_range"][0].as_f64().unwrap(), r["weight_range"][1].as_f64().unwrap());
    assert!((0.0..1.0).contains(&lo) && hi > lo && hi < 1.0, "weights should vary across joints: {r}");
    let shot = d.screenshot("desktop.png");
    assert!(unique_colours(&shot) > 200, "the explore screenshot is nearly blank");
    // The heatmap: many pixels of the focal-weight colour map below the skeleton view.
    let heat = count_pixels(&shot, |x, y, rgb| y > 500 && x > 300 && amr_ui::colormap::is_map_colour(rgb, 6));
    assert!(heat > 5000, "only {heat} colour-map pixels in the heatmap area");

    // Export the heatmap (plotters PNG + SVG) and the view (a PNG of the window) from the menu.
    for item in ["export-heatmap", "export-view"] {
        d.click(&r, "export");
        let menu = d.report_where(30, "the export menu", |r| r["buttons"][item].is_array());
        d.click(&menu, item);
        d.report_where(30, "the menu to close", |r| r["buttons"][item].is_null());
    }
    let exports = d.dir.join("exports");
    let files = wait_for(60, || {
        let names: Vec<String> =
            std::fs::read_dir(&exports).ok()?.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        let has = |p: &str, ext: &str| names.iter().any(|n| n.starts_with(p) && n.ends_with(ext));
        (has("heatmap-", ".png") && has("heatmap-", ".svg") && has("view-", ".png")).then_some(names)
    })
    .expect("the exported heatmap (PNG, SVG) and view (PNG)");
    let view = files.iter().find(|n| n.starts_with("view-")).unwrap();
    assert!(unique_colours(&exports.join(view)) > 200, "the exported view is nearly blank");

    // The reconstruction view opens with the shipped model.
    d.click(&r, "tab-reconstruct");
    let rec = d.report_where(120, "the shipped model's reconstruction", |r| {
        r["tab"] == "reconstruct" && r["reconstruction_error"].as_f64().is_some_and(|e| e > 0.0)
    });
    assert!(rec["joints"].as_u64().is_some_and(|j| j >= 21), "{rec}");
    d.screenshot("desktop-reconstruct.png");

    // Clicks through X: the training tab, then Start.
    d.click(&r, "tab-train");
    let r = d.report_where(60, "the training tab", |r| r["tab"] == "train" && r["buttons"]["start"].is_array());
    d.click(&r, "start");
    let r = d.report_where(600, "two training steps", |r| r["loss_points"].as_u64() >= Some(2));
    assert!(r["last_loss"].as_f64().is_some_and(f64::is_finite), "{r}");
    eprintln!("UI while training under Xvfb: {} fps, frame CPU {} ms", r["fps"], r["frame_cpu_ms"]);
    // Give the window a moment to present the frame with the curve.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let shot = d.screenshot("desktop-training.png");
    let [lr, lg, lb] = [255u8, 120, 40];
    let line = count_pixels(&shot, |_, _, [r, g, b]| r.abs_diff(lr) < 12 && g.abs_diff(lg) < 12 && b.abs_diff(lb) < 12);
    assert!(line > 100, "the loss curve is not in the screenshot ({line} pixels of its colour)");
    // Stop: the worker writes the checkpoint of the headless command's run folder and ends.
    let r = d.report_where(60, "the stop button", |r| r["buttons"]["stop"].is_array() && r["train_state"] == "running");
    d.click(&r, "stop");
    let r = d.report_where(120, "the run to end", |r| r["train_state"] == "idle");
    let steps = r["loss_points"].as_u64().unwrap();
    let ckpt = d.dir.join("run/checkpoint.safetensors");
    assert!(ckpt.exists(), "no checkpoint after stop");
    let metrics = std::fs::read_to_string(d.dir.join("run/metrics.csv")).unwrap();
    assert_eq!(metrics.lines().count() as u64, steps + 1, "{metrics}");
    // The settings file is written for the next launch.
    let settings = wait_for(10, || std::fs::read_to_string(d.dir.join("settings.json")).ok()).expect("settings saved");
    assert!(settings.contains("\"tab\": \"train\""), "{settings}");
}
