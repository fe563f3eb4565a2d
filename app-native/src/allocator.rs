//! The allocator's settings for training. A training step allocates and frees tensors of up to tens
//! of megabytes hundreds of times; glibc's defaults hand such blocks back to the kernel when they are
//! freed (each one above a dynamic threshold is its own mapping) and fault them in, zeroed, page by
//! page at the next allocation. Keeping them in the process took a CPU pretraining step of the paper
//! model from 3.57 to 3.17 s (docs/experiments.md, "Speed"). The system allocators that were tried
//! in its place (mimalloc, jemalloc) were slower with their defaults.

/// Sets glibc's allocator to keep freed memory: blocks up to 32 MiB come from the heap (no mapping
/// of their own), the heap is trimmed only past 1 GiB of free memory at its top and grows 256 MiB at
/// a time. Call first thing in `main`.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn keep_freed_memory() {
    // SAFETY: mallopt only changes glibc allocator parameters; it is called before any other thread
    // exists, and the values are within the ranges glibc documents (mallopt(3)).
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TOP_PAD, 256 << 20);
    }
}

/// Other systems keep their allocator's defaults.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn keep_freed_memory() {}
