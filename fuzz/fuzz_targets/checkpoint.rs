//! Checkpoint files as a user opens them in the apps: a pretraining checkpoint builds the
//! reconstruction model, an evaluation checkpoint builds the classifier (both on the CPU backend).
#![no_main]

use std::path::Path;

use amr_core::eval::EvalCheckpoint;
use amr_core::eval::predict::Predictor;
use amr_core::pretrain::{Checkpoint, Reconstructor};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let path = Path::new("fuzz.safetensors");
    let device = amr_core::backend::cpu_device();
    if let Ok(c) = Checkpoint::from_bytes(bytes, path) {
        let _ = Reconstructor::new(&c, &device);
    }
    if let Ok(c) = EvalCheckpoint::from_bytes(bytes, path) {
        let _ = Predictor::from_checkpoint(&c, &device);
    }
});
