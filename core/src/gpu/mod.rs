//! GPU compute that does not go through burn: the WGSL focal-weight kernel.

mod focal_kernel;
mod oneshot;

pub use focal_kernel::{FocalKernel, GpuError, GpuFocal};
