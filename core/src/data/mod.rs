//! Skeleton data: sequences, datasets, readers and writers of every supported format, clips and
//! train/test splits.

mod amr_skeleton;
mod asf_amc;
mod bvh;
pub mod clip;
mod dataset;
mod npy;
mod ntu_npz;
mod ntu_skeleton;
mod open;
mod part_mix;
mod sequence;
pub mod split;
mod synthetic;

pub use amr_skeleton::{FORMAT, Precision, WriteError, read_amr_skeleton, write_amr_skeleton};
#[cfg(not(target_arch = "wasm32"))]
pub use amr_skeleton::{load_amr_skeleton, save_amr_skeleton};
pub use asf_amc::{AsfSkeleton, dataset_from_amc, parse_amc, parse_asf};
#[cfg(not(target_arch = "wasm32"))]
pub use asf_amc::{load_amc, load_asf};
#[cfg(not(target_arch = "wasm32"))]
pub use bvh::load_bvh;
pub use bvh::{BvhOptions, BvhTake, dataset_from_bvh, parse_bvh};
pub use dataset::{Dataset, DatasetStats};
pub use npy::{NpyArray, parse_npy, read_npz_members, write_npy_f32, write_npz_f32};
pub use ntu_npz::read_ntu_npz;
pub use ntu_skeleton::{SecondPerson, ntu_action_from_name, parse_ntu_skeleton};
pub use open::{DATASET_EXTENSIONS, read_dataset_bytes};
pub use part_mix::{PartMix, PartMixer};
pub use sequence::Sequence;
pub use split::{Split, SplitIndices};
pub use synthetic::synthetic_dataset;
