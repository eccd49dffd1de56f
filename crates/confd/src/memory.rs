//! Keeping what the process holds close to what it uses (glibc only).
//!
//! glibc keeps what a program frees for its later allocations, and gives little of it back by
//! itself. A daemon that has rendered a large file — tens of megabytes of keys, the output and
//! the dest it replaced — goes on holding that memory while it waits for the next change:
//! measured at 100,000 services (docs/BENCHMARKS.md), 183 MiB resident after a pass, 149 MiB
//! once glibc's `malloc_trim(0)` has returned the free pages ([`release_free_memory`]).
//!
//! glibc also gives threads that allocate at the same time arenas of their own (up to eight
//! per core). What the etcd client's threads decode (every key and value of a full read) is
//! allocated in their arena and freed from the main thread's work, leaving holes between live
//! keys that no trim can return: 152 MiB at 100,000 services with several arenas, 110 MiB with
//! one ([`use_one_arena`]). confd's threads rarely allocate at the same time, so one arena
//! costs no measurable time.
//!
//! Why this module may use `unsafe`: `malloc_trim` and `mallopt` are C functions, and calling
//! any foreign function is `unsafe` in Rust. They take no pointer and touch only glibc's own
//! heap, under glibc's own locks; glibc documents them as callable at any time from any thread.
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

/// Makes every thread allocate from one arena, unless the operator chose otherwise with glibc's
/// `MALLOC_ARENA_MAX` (or `GLIBC_TUNABLES`). Called first thing in `main`, before any thread
/// exists. Elsewhere than on Linux with glibc, nothing.
pub fn use_one_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none()
        && std::env::var_os("GLIBC_TUNABLES").is_none()
    {
        // SAFETY: see the module's documentation: two integers, only glibc's allocator.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 1);
        }
    }
}
