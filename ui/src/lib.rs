//! amr-ui: the widgets and the App shared by the desktop (`app-native`) and web (`app-web`) shells.

mod app;
pub mod colormap;
pub mod demo;
pub mod explorer;
pub mod frame_future;
pub mod heatmap;
pub mod learn;
pub mod prediction_view;
pub mod reconstruction_view;
pub mod skeleton_view;
pub mod timeline;
pub mod training;
pub mod training_panel;
pub mod url_state;

pub use app::{AmrApp, AppCommand, DrawReport, ReportSink, Request, Settings, Tab};
