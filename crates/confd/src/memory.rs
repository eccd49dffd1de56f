//! Giving the memory a pass freed back to the system (glibc only).
//!
//! glibc keeps what a program frees for its later allocations, and gives little of it back by
//! itself. A daemon that has rendered a large file — tens of megabytes of keys, the output and
//! the dest it replaced — goes on holding that memory while it waits for the next change:
//! measured at 100,000 services (docs/BENCHMARKS.md), 183 MiB resident after a pass, 149 MiB
//! once glibc's `malloc_trim(0)` has returned the free pages.
//!
//! Why this module may use `unsafe`: `malloc_trim` is a C function, and calling any foreign
//! function is `unsafe` in Rust. It takes no pointer and touches only glibc's own heap, under
//! glibc's own locks; glibc documents it as callable at any time from any thread.
#![allow(unsafe_code)]

/// Returns the free memory of the process's heaps to the system, after a daemon's pass (glibc's
/// `malloc_trim(0)`). Elsewhere than on Linux with glibc, nothing.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: see the module's documentation: no arguments that point anywhere, no state of
    // ours touched; only glibc's allocator, which locks its own arenas.
    unsafe {
        libc::malloc_trim(0);
    }
}
