//! The web app in headless Chromium: the static folder built by app-web/build.sh is served on
//! localhost; the page must reach its ready state, report a drawn skeleton of the demo data coloured
//! by focal weight, and its screenshot must not be blank.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

mod support;
use support::{tmp_dir, unique_colours};

fn dist() -> PathBuf {
    let d = std::env::var("AMR_WEB_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/web-dist"));
    assert!(d.join("amr_web_bg.wasm").exists(), "no web build in {} (run app-web/build.sh {0})", d.display());
    d
}

/// Serves `root` on a free localhost port from a background thread; returns the port.
fn serve(root: PathBuf) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let root = root.clone();
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut line = String::new();
                if BufReader::new(&mut stream).read_line(&mut line).is_err() {
                    return;
                }
                let path = line.split_whitespace().nth(1).unwrap_or("/").split('?').next().unwrap_or("/").to_owned();
                let rel = if path.ends_with('/') { format!("{path}index.html") } else { path };
                let file = root.join(rel.trim_start_matches('/'));
                let (status, body) = match std::fs::File::open(&file) {
                    Ok(mut f) if !rel.contains("..") => {
                        let mut b = Vec::new();
                        let _ = f.read_to_end(&mut b);
                        ("200 OK", b)
                    }
                    _ => ("404 Not Found", b"not found".to_vec()),
                };
                let mime = match file.extension().and_then(|e| e.to_str()) {
                    Some("html") => "text/html",
                    Some("js") => "text/javascript",
                    Some("wasm") => "application/wasm",
                    _ => "application/octet-stream",
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: {mime}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            });
        }
    });
    port
}

fn chromium(args: &[&str], profile: &Path) -> std::process::Output {
    Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,800",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("chromium (apt install chromium)")
}

#[test]
fn web_page_gets_ready_and_draws_the_demo_skeleton() {
    let port = serve(dist());
    let url = format!("http://127.0.0.1:{port}/");
    let dir = tmp_dir("web");
    let dom = chromium(&["--virtual-time-budget=60000", "--dump-dom", &url], &dir.join("profile-dom"));
    let html = String::from_utf8_lossy(&dom.stdout);
    let start = html.find("id=\"amr-status\"").unwrap_or_else(|| panic!("no status element in:\n{html}"));
    let status = &html[start..html[start..].find("</div>").map_or(html.len(), |e| start + e)];
    assert!(status.contains("data-ready=\"1\""), "page not ready: {status}");
    let json = &status[status.find('>').unwrap() + 1..];
    let r: serde_json::Value =
        serde_json::from_str(&json.replace("&quot;", "\"")).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(r["joints"], 21, "{json}");
    assert_eq!(r["bones"], 20, "{json}");
    let (lo, hi) = (r["weight_range"][0].as_f64().unwrap(), r["weight_range"][1].as_f64().unwrap());
    assert!(hi > lo && hi < 1.0 && lo >= 0.0, "{json}");
    let shot = dir.join("web.png");
    let _ = chromium(
        &["--virtual-time-budget=60000", &format!("--screenshot={}", shot.display()), &url],
        &dir.join("profile-shot"),
    );
    let colours = unique_colours(&shot);
    assert!(colours > 200, "web screenshot has only {colours} colours");
    if let Ok(keep) = std::env::var("AMR_SCREENSHOT_DIR") {
        let _ = std::fs::copy(&shot, Path::new(&keep).join("web.png"));
    }
}
