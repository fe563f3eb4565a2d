//! A small open-file dialog drawn with egui: a folder's entries (folders first, then the files with
//! the wanted extensions), a path field, up and open. It needs no system toolkit, so it works the
//! same under any window system and in the Xvfb test.

use std::path::{Path, PathBuf};

/// What the dialog opens the file for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A dataset.
    Data,
    /// A TOML run config.
    Config,
    /// A checkpoint.
    Checkpoint,
}

impl Purpose {
    fn extensions(self) -> &'static [&'static str] {
        match self {
            Self::Data => &amr_core::data::DATASET_EXTENSIONS,
            Self::Config => &["toml"],
            Self::Checkpoint => &["safetensors"],
        }
    }

    fn title(self) -> &'static str {
        match self {
            Self::Data => "Open data",
            Self::Config => "Open a run config",
            Self::Checkpoint => "Open a checkpoint",
        }
    }
}

/// The open dialog's state.
pub struct FileDialog {
    /// What the file is for.
    pub purpose: Purpose,
    dir: PathBuf,
    path_text: String,
    entries: Vec<(String, bool)>,
    error: Option<String>,
}

/// What the dialog did this frame.
pub enum DialogOutcome {
    /// Still open.
    Open,
    /// Closed without a choice.
    Cancelled,
    /// A file was chosen.
    Chosen(PathBuf),
}

impl FileDialog {
    /// A dialog in `dir`.
    pub fn new(purpose: Purpose, dir: &Path) -> Self {
        let mut d = Self { purpose, dir: PathBuf::new(), path_text: String::new(), entries: Vec::new(), error: None };
        d.enter(dir);
        d
    }

    fn enter(&mut self, dir: &Path) {
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        match std::fs::read_dir(&dir) {
            Ok(read) => {
                let wanted = self.purpose.extensions();
                let mut entries: Vec<(String, bool)> = read
                    .flatten()
                    .filter_map(|e| {
                        let name = e.file_name().to_string_lossy().into_owned();
                        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
                        let fits = Path::new(&name)
                            .extension()
                            .and_then(|x| x.to_str())
                            .is_some_and(|x| wanted.iter().any(|w| w.eq_ignore_ascii_case(x)));
                        ((is_dir || fits) && !name.starts_with('.')).then_some((name, is_dir))
                    })
                    .collect();
                entries.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                self.entries = entries;
                self.path_text = dir.display().to_string();
                self.dir = dir;
                self.error = None;
            }
            Err(e) => self.error = Some(format!("{}: {e}", dir.display())),
        }
    }

    /// Draws the dialog.
    pub fn show(&mut self, ctx: &egui::Context) -> DialogOutcome {
        let mut outcome = DialogOutcome::Open;
        let mut open = true;
        let mut go: Option<PathBuf> = None;
        egui::Window::new(self.purpose.title()).open(&mut open).default_size([520.0, 420.0]).collapsible(false).show(
            ctx,
            |ui| {
                ui.horizontal(|ui| {
                    if ui.button("⬆ up").clicked()
                        && let Some(p) = self.dir.parent()
                    {
                        go = Some(p.to_path_buf());
                    }
                    let field = ui.add(egui::TextEdit::singleline(&mut self.path_text).desired_width(360.0));
                    if field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                        go = Some(PathBuf::from(&self.path_text));
                    }
                });
                ui.weak(format!(
                    "files: {}",
                    self.purpose.extensions().iter().map(|e| format!(".{e}")).collect::<Vec<_>>().join(", ")
                ));
                if let Some(e) = &self.error {
                    ui.colored_label(ui.visuals().error_fg_color, e);
                }
                egui::ScrollArea::vertical().max_height(300.0).show(ui, |ui| {
                    for (name, is_dir) in &self.entries {
                        let label = if *is_dir { format!("📁 {name}") } else { name.clone() };
                        if ui.selectable_label(false, label).clicked() {
                            go = Some(self.dir.join(name));
                        }
                    }
                });
                ui.horizontal(|ui| {
                    if ui.button("Open").clicked() {
                        go = Some(PathBuf::from(&self.path_text));
                    }
                    if ui.button("Cancel").clicked() {
                        outcome = DialogOutcome::Cancelled;
                    }
                });
            },
        );
        if let Some(p) = go {
            if p.is_dir() {
                self.enter(&p);
            } else if p.is_file() {
                outcome = DialogOutcome::Chosen(p);
            } else {
                self.error = Some(format!("{}: no such file or folder", p.display()));
            }
        }
        if !open {
            outcome = DialogOutcome::Cancelled;
        }
        outcome
    }
}
