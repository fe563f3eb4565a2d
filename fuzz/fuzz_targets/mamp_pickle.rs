//! The pickle reader behind the MAMP checkpoint import (`data.pkl`).
#![no_main]

use amr_core::mamp::pickle::read_pickle;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = read_pickle(bytes);
});
