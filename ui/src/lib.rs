//! amr-ui: the widgets and the App shared by the desktop (`app-native`) and web (`app-web`) shells.

mod app;
pub mod colormap;
pub mod demo;
pub mod heatmap;
pub mod skeleton_view;

pub use app::{AmrApp, DrawReport, ReportSink};
