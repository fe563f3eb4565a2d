//! amr-ui: the widgets and the App shared by the desktop (`app-native`) and web (`app-web`) shells.

mod app;
pub mod colormap;
pub mod command;
pub mod draw_report;
pub mod explorer;
mod frame_clock;
pub mod frame_future;
pub mod heatmap;
pub mod learn;
pub mod prediction_view;
pub mod reconstruction_view;
pub mod settings;
pub mod skeleton_view;
pub mod timeline;
pub mod training;
pub mod training_panel;
pub mod url_state;

pub use app::AmrApp;
pub use command::{AppCommand, Request, Tab};
pub use draw_report::{DrawReport, ReportSink};
pub use settings::Settings;
