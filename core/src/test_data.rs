//! Data shared by the unit tests: the 40-sequence web demo subset of the Bandai data in `assets/`.

use crate::data::{Dataset, read_amr_skeleton};

/// The web demo dataset (40 Bandai-2 sequences, 21 joints).
pub fn web_demo() -> Dataset {
    let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/bandai2_web.safetensors"))
        .expect("assets/bandai2_web.safetensors");
    read_amr_skeleton(&bytes, std::path::Path::new("bandai2_web.safetensors")).expect("a valid demo file")
}

/// A one-input, one-output linear layer with weight `w` and bias `b` on `device` (optimiser tests).
#[derive(burn::module::Module, Debug)]
pub struct TinyLinear {
    /// The layer.
    pub lin: burn::nn::Linear,
}

impl TinyLinear {
    /// The layer y = w x + b.
    pub fn new(w: f32, b: f32, device: &burn::prelude::Device) -> Self {
        use burn::module::Param;
        use burn::prelude::Tensor;
        let mut lin = burn::nn::LinearConfig::new(1, 1).init(device);
        lin.weight = Param::from_tensor(Tensor::from_floats([[w]], device));
        lin.bias = Some(Param::from_tensor(Tensor::from_floats([b], device)));
        Self { lin }
    }
}
