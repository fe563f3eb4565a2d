//! The desktop app under Xvfb: it opens on the embedded demo data, draws the skeleton coloured by
//! focal weight (its draw report says so) and a screenshot of the screen shows it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Stdio};

mod support;
use support::{KillOnDrop, tmp_dir, unique_colours, wait_for};

#[test]
fn desktop_app_draws_the_demo_skeleton() {
    let dir = tmp_dir("desktop");
    // A display number no other X server holds.
    let n = (90..190).find(|n| !Path::new(&format!("/tmp/.X{n}-lock")).exists()).expect("a free X display number");
    let display = format!(":{n}");
    let _xvfb = KillOnDrop(
        Command::new("Xvfb")
            .args([display.as_str(), "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb (apt install xvfb)"),
    );
    std::thread::sleep(std::time::Duration::from_secs(2));
    let report = dir.join("report.json");
    let _ = std::fs::remove_file(&report);
    let runtime = dir.join("xdg");
    std::fs::create_dir_all(&runtime).unwrap();
    let _app = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_amr"))
            .args(["--report", report.to_str().unwrap()])
            .env("DISPLAY", &display)
            .env("XDG_RUNTIME_DIR", &runtime)
            .env_remove("WAYLAND_DISPLAY")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let text = wait_for(180, || std::fs::read_to_string(&report).ok().filter(|t| !t.is_empty()))
        .expect("the app wrote no draw report within 180 s");
    let r: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(r["joints"], 21, "{text}");
    assert_eq!(r["bones"], 20, "{text}");
    assert_eq!(r["persons"], 1, "{text}");
    assert_eq!(r["weights"], "fused");
    let (lo, hi) = (r["weight_range"][0].as_f64().unwrap(), r["weight_range"][1].as_f64().unwrap());
    assert!((0.0..1.0).contains(&lo) && hi > lo && hi < 1.0, "weights should vary across joints: {text}");
    let shot = dir.join("desktop.png");
    let st = Command::new("import")
        .args(["-display", display.as_str(), "-window", "root"])
        .arg(&shot)
        .status()
        .expect("ImageMagick `import`");
    assert!(st.success());
    let colours = unique_colours(&shot);
    assert!(colours > 200, "screenshot has only {colours} colours");
    if let Ok(keep) = std::env::var("AMR_SCREENSHOT_DIR") {
        let _ = std::fs::copy(&shot, Path::new(&keep).join("desktop.png"));
    }
}
