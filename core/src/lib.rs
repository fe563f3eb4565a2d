//! amr-core: the AMR engine shared by the desktop app, the web app and the headless command line.
//!
//! Data flows file -> reader ([`data`]) -> [`data::Dataset`] -> clips ([`data::clip`]) -> focal weights
//! ([`focal`], or the WGSL kernel in [`gpu`]) -> model and trainer (burn, on [`backend`]'s device).

pub mod backend;
pub mod config_file;
pub mod data;
pub mod demo;
pub mod error;
pub mod eval;
pub mod features;
pub mod focal;
pub mod fused;
pub mod gpu;
#[cfg(not(target_arch = "wasm32"))]
pub mod io;
#[cfg(not(target_arch = "wasm32"))]
pub mod mamp;
pub mod masking;
pub mod math;
pub mod model;
pub mod pretrain;
pub mod rng;
pub mod skeleton;
#[cfg(test)]
mod test_data;
pub mod tiny_train;
pub mod train;

pub use error::{ConfigError, DataError, DeviceError};
