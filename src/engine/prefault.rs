//! Fewer page faults per fresh sandbox (Linux system calls; on a kernel
//! without `PAGEMAP_SCAN` (6.7) nothing here does anything).
//!
//! A sandbox's first eval and call write about 100 pages of the heap image
//! scattered in about 75 runs. Two things made them cost a page fault each,
//! in every sandbox, even in a warm pool slot:
//!
//! - wasmtime 48 resets a freed slot by finding its dirty pages with
//!   `PAGEMAP_SCAN`, copying the first 32 runs back from the image and
//!   decommitting everything after the 32nd run (`MAX_REGIONS` in its
//!   `pagemap.rs`): the pages written there, and with them every read-only
//!   mapping of the image above it, are faulted in again by the next
//!   sandbox of the slot. [`WriteSet::trim`], called when an instance is
//!   dropped, returns the pages of the write set after its 31st run to the
//!   kernel first (one `process_madvise`), so wasmtime's scan ends at the
//!   end of memory and decommits nothing else.
//! - The pages a sandbox writes are faulted one at a time.
//!   [`WriteSet`] learns them from the first sandbox of a template that ran
//!   an eval and a call, and the first eval of every later sandbox maps them
//!   writable up front (`MADV_POPULATE_WRITE`, one `process_madvise` for
//!   all runs).
//!
//! The memory's address is only reachable while wasmtime lowers an
//! argument into it, so [`FirstEvalCode`] wraps the code argument of an
//! instance's first `eval-script`.

use std::{
    fs::File,
    mem::MaybeUninit,
    os::fd::AsRawFd,
    sync::{
        OnceLock,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
};

use wasmtime::{
    ValRaw,
    component::{
        __internal::{CanonicalAbiInfo, InstanceType, InterfaceType, LowerContext},
        ComponentType, Lower,
    },
};

const PAGE: usize = 4096;

/// Largest write set learned, in pages: a first eval and call write about
/// 106; a first sandbox that wrote more than this is not typical, and every
/// later sandbox would pay for its pages in memory.
const MAX_LEARNED_PAGES: usize = 256;

/// Sandboxes whose write set is scanned before a template stops trying to
/// learn one: a template whose sandboxes all write more than
/// [`MAX_LEARNED_PAGES`] (a large prelude's first call, say) would otherwise
/// pay a scan of its whole memory in every sandbox.
const MAX_LEARN_ATTEMPTS: usize = 4;

/// Runs of dirty pages wasmtime 48 copies back when it resets a freed slot
/// (`MAX_REGIONS` of its `reset_with_pagemap`); memory after the last of
/// them is decommitted.
const WASMTIME_RESET_REGIONS: usize = 32;

/// `MADV_POPULATE_WRITE` (Linux 5.14).
const MADV_POPULATE_WRITE: i32 = 23;

/// `PIDFD_SELF` for `process_madvise` (Linux 6.14): the calling process.
const PIDFD_SELF: i32 = -10000;

/// Set once the kernel refused `MADV_POPULATE_WRITE`.
static POPULATE_UNSUPPORTED: AtomicBool = AtomicBool::new(false);

/// The pages of linear memory a template's sandboxes are expected to write
/// in their first eval and call, as byte ranges from the memory's base.
#[derive(Default)]
pub(crate) struct WriteSet {
    ranges: OnceLock<Box<[(usize, usize)]>>,
    /// Scans started so far, successful or not.
    attempts: AtomicUsize,
}

impl WriteSet {
    pub(crate) fn is_learned(&self) -> bool {
        self.ranges.get().is_some()
    }

    /// Learn the set from the `len` bytes of memory at `base` of an
    /// instance that ran its first eval and call.
    /// Gives up for good after [`MAX_LEARN_ATTEMPTS`] scans that learned
    /// nothing.
    pub(crate) fn learn(&self, base: usize, len: usize) {
        if self.is_learned() || base == 0 {
            return;
        }
        if self.attempts.fetch_add(1, Ordering::Relaxed) >= MAX_LEARN_ATTEMPTS {
            return;
        }
        let Some(runs) = scan_dirty(base, len, 1024) else {
            return;
        };
        let pages: usize = runs.iter().map(|(_, l)| l / PAGE).sum();
        if pages == 0 || pages > MAX_LEARNED_PAGES {
            return;
        }
        let ranges = runs.iter().map(|&(start, l)| (start - base, l)).collect();
        let _ = self.ranges.set(ranges);
    }

    /// Map the learned pages of `memory` writable, as private copies.
    fn populate(&self, memory: &mut [u8]) {
        if POPULATE_UNSUPPORTED.load(Ordering::Relaxed) {
            return;
        }
        let Some(ranges) = self.ranges.get() else {
            return;
        };
        let base = memory.as_mut_ptr();
        let iov: Vec<libc::iovec> = ranges
            .iter()
            .filter(|(off, len)| off.checked_add(*len).is_some_and(|e| e <= memory.len()))
            .map(|&(off, len)| libc::iovec {
                iov_base: base.wrapping_add(off).cast(),
                iov_len: len,
            })
            .collect();
        // SAFETY: every range lies inside `memory`, the instance's linear
        // memory borrowed mutably; MADV_POPULATE_WRITE faults pages in
        // writable and changes no byte of them.
        if !unsafe { advise_all(&iov, MADV_POPULATE_WRITE) } {
            POPULATE_UNSUPPORTED.store(true, Ordering::Relaxed);
        }
    }
}

/// The code argument of an instance's first `eval-script`: lowered exactly
/// as the string it is, after recording where the instance's memory is and
/// populating the template's write set in it.
pub(crate) struct FirstEvalCode<'a> {
    pub(crate) code: &'a str,
    pub(crate) write_set: &'a WriteSet,
    pub(crate) base: &'a AtomicUsize,
}

impl FirstEvalCode<'_> {
    fn prepare<T>(&self, cx: &mut LowerContext<'_, T>) {
        let memory = cx.as_slice_mut();
        self.base
            .store(memory.as_mut_ptr() as usize, Ordering::Relaxed);
        self.write_set.populate(memory);
    }
}

// SAFETY: the same type information as `str` (ABI, flat representation,
// type check), whose lowering `Lower` below delegates to.
unsafe impl ComponentType for FirstEvalCode<'_> {
    type Lower = <str as ComponentType>::Lower;
    const ABI: CanonicalAbiInfo = <str as ComponentType>::ABI;

    fn typecheck(ty: &InterfaceType, types: &InstanceType<'_>) -> wasmtime::Result<()> {
        <str as ComponentType>::typecheck(ty, types)
    }
}

// SAFETY: lowers `code` with `str`'s own lowering; `prepare` changes no
// byte of guest memory.
unsafe impl Lower for FirstEvalCode<'_> {
    fn linear_lower_to_flat<T>(
        &self,
        cx: &mut LowerContext<'_, T>,
        ty: InterfaceType,
        dst: &mut MaybeUninit<[ValRaw; 2]>,
    ) -> wasmtime::Result<()> {
        self.prepare(cx);
        <str as Lower>::linear_lower_to_flat(self.code, cx, ty, dst)
    }

    fn linear_lower_to_memory<T>(
        &self,
        cx: &mut LowerContext<'_, T>,
        ty: InterfaceType,
        offset: usize,
    ) -> wasmtime::Result<()> {
        self.prepare(cx);
        <str as Lower>::linear_lower_to_memory(self.code, cx, ty, offset)
    }
}

impl WriteSet {
    /// Before the pool slot of the instance whose memory is the `len`
    /// bytes at `base` is reset: give the pages of the learned runs after the first
    /// `WASMTIME_RESET_REGIONS - 1` back to the kernel, so that wasmtime's
    /// reset finds at most that many runs (plus what the sandbox wrote
    /// beyond the write set), copies them back and decommits nothing
    /// before them. The instance's first eval populated every learned run,
    /// so they are all dirty; no scan is needed.
    ///
    /// # Safety
    ///
    /// `[base, base + len)` must be the linear memory of an instance that
    /// is being dropped: nothing may read it before wasmtime resets it.
    pub(crate) unsafe fn trim(&self, base: usize, len: usize) {
        let Some(ranges) = self.ranges.get() else {
            return;
        };
        let keep = WASMTIME_RESET_REGIONS - 1;
        if base == 0 || ranges.len() <= keep {
            return;
        }
        let iov: Vec<libc::iovec> = ranges[keep..]
            .iter()
            .filter(|(off, l)| off.checked_add(*l).is_some_and(|e| e <= len))
            .map(|&(off, l)| libc::iovec {
                iov_base: (base + off) as *mut libc::c_void,
                iov_len: l,
            })
            .collect();
        // SAFETY: the ranges are pages of the instance's memory, which the
        // caller guarantees nobody reads before wasmtime resets it (a page
        // dropped here reads as the image again, as after wasmtime's
        // decommit).
        unsafe { advise_all(&iov, libc::MADV_DONTNEED) };
    }
}

/// `madvise(advice)` on every range: one `process_madvise` where the kernel
/// has it for the calling process, else one `madvise` per range. False if
/// the kernel refused the advice.
///
/// # Safety
///
/// Every range must be memory of this process that `advice` may act on
/// without breaking anything that uses it.
unsafe fn advise_all(iov: &[libc::iovec], advice: i32) -> bool {
    for chunk in iov.chunks(1024) {
        // SAFETY: `chunk` is a valid iovec array of `chunk.len()` entries
        // (at most UIO_MAXIOV); the caller vouches for the ranges.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_process_madvise,
                PIDFD_SELF,
                chunk.as_ptr(),
                chunk.len(),
                advice,
                0,
            )
        };
        if rc >= 0 {
            continue;
        }
        for v in chunk {
            // SAFETY: as above, one range at a time.
            if unsafe { libc::madvise(v.iov_base, v.iov_len, advice) } != 0 {
                return std::io::Error::last_os_error().raw_os_error() != Some(libc::EINVAL);
            }
        }
    }
    true
}

/// `/proc/self/pagemap`, opened once.
fn pagemap() -> Option<&'static File> {
    static PAGEMAP: OnceLock<Option<File>> = OnceLock::new();
    PAGEMAP
        .get_or_init(|| File::open("/proc/self/pagemap").ok())
        .as_ref()
}

/// `struct pm_scan_arg` of `<linux/fs.h>`.
#[repr(C)]
struct PmScanArg {
    size: u64,
    flags: u64,
    start: u64,
    end: u64,
    walk_end: u64,
    vec: u64,
    vec_len: u64,
    max_pages: u64,
    category_inverted: u64,
    category_mask: u64,
    category_anyof_mask: u64,
    return_mask: u64,
}

/// `struct page_region` of `<linux/fs.h>`.
#[repr(C)]
#[derive(Clone, Copy)]
struct PageRegion {
    start: u64,
    end: u64,
    categories: u64,
}

const PAGE_IS_WRITTEN: u64 = 1 << 1;
const PAGE_IS_FILE: u64 = 1 << 2;
const PAGE_IS_PRESENT: u64 = 1 << 3;
const PAGE_IS_PFNZERO: u64 = 1 << 5;
/// `_IOWR('f', 16, struct pm_scan_arg)`.
const PAGEMAP_SCAN: u64 = (3 << 30) | ((size_of::<PmScanArg>() as u64) << 16) | (0x66 << 8) | 16;

/// Runs of pages in `[base, base + len)` that this process wrote (present,
/// neither the file's page nor the zero page: the pages wasmtime's reset
/// counts as dirty), as (address, length); at most `max_runs`. `None`
/// without `PAGEMAP_SCAN`.
fn scan_dirty(base: usize, len: usize, max_runs: usize) -> Option<Vec<(usize, usize)>> {
    let fd = pagemap()?.as_raw_fd();
    let mut regions = vec![
        PageRegion {
            start: 0,
            end: 0,
            categories: 0,
        };
        max_runs
    ];
    let mut arg = PmScanArg {
        size: size_of::<PmScanArg>() as u64,
        flags: 0,
        start: base as u64,
        end: (base + len) as u64,
        walk_end: 0,
        vec: regions.as_mut_ptr() as u64,
        vec_len: regions.len() as u64,
        max_pages: 0,
        category_inverted: PAGE_IS_PFNZERO | PAGE_IS_FILE,
        category_mask: PAGE_IS_WRITTEN | PAGE_IS_PRESENT | PAGE_IS_PFNZERO | PAGE_IS_FILE,
        category_anyof_mask: 0,
        return_mask: 0,
    };
    // SAFETY: PAGEMAP_SCAN reads the page tables of [start, end) of this
    // process and writes at most `vec_len` entries into `regions`, which
    // outlives the call; `arg` is a valid pm_scan_arg of its `size`.
    let n = unsafe { libc::ioctl(fd, PAGEMAP_SCAN as _, &raw mut arg) };
    let n = usize::try_from(n).ok()?;
    Some(
        regions[..n.min(max_runs)]
            .iter()
            .map(|r| (r.start as usize, (r.end - r.start) as usize))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A private, writable mapping of a file of `pages` pages, as wasmtime
    /// maps a memory image; unmapped when dropped.
    struct Mapping(*mut u8, usize);

    impl Mapping {
        fn new(pages: usize) -> Self {
            let mut file = tempfile::tempfile().unwrap();
            file.write_all(&vec![7u8; pages * PAGE]).unwrap();
            // SAFETY: a fresh private mapping of the whole file.
            let ptr = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    pages * PAGE,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE,
                    file.as_raw_fd(),
                    0,
                )
            };
            assert_ne!(ptr, libc::MAP_FAILED);
            Self(ptr.cast(), pages * PAGE)
        }

        fn slice(&mut self) -> &mut [u8] {
            // SAFETY: the mapping is readable and writable for its length.
            unsafe { std::slice::from_raw_parts_mut(self.0, self.1) }
        }

        fn dirty_pages(&self) -> Option<Vec<usize>> {
            let runs = scan_dirty(self.0 as usize, self.1, 1024)?;
            Some(
                runs.iter()
                    .flat_map(|&(a, l)| {
                        (a - self.0 as usize) / PAGE..(a + l - self.0 as usize) / PAGE
                    })
                    .collect(),
            )
        }
    }

    impl Drop for Mapping {
        fn drop(&mut self) {
            // SAFETY: unmaps what `new` mapped.
            unsafe { libc::munmap(self.0.cast(), self.1) };
        }
    }

    #[test]
    fn a_learned_write_set_is_populated_as_private_copies() {
        let mut learner = Mapping::new(64);
        let written = [3usize, 4, 9, 20, 41, 63];
        for &p in &written {
            learner.slice()[p * PAGE + 5] = 1;
        }
        if learner.dirty_pages().is_none() {
            return; // no PAGEMAP_SCAN: nothing to test
        }
        let set = WriteSet::default();
        set.learn(learner.0 as usize, learner.1);
        assert!(set.is_learned());

        let mut fresh = Mapping::new(64);
        let _ = fresh.slice()[30 * PAGE]; // a read: stays the file's page
        set.populate(fresh.slice());
        if POPULATE_UNSUPPORTED.load(Ordering::Relaxed) {
            return;
        }
        assert_eq!(fresh.dirty_pages().unwrap(), written);
        // Populating changes no byte.
        assert!(fresh.slice().iter().all(|&b| b == 7));
    }

    #[test]
    fn trimming_leaves_31_dirty_runs_of_the_write_set_and_their_contents() {
        let mut learner = Mapping::new(256);
        for run in 0..60 {
            learner.slice()[run * 4 * PAGE] = 1;
        }
        if learner.dirty_pages().is_none() {
            return; // no PAGEMAP_SCAN: nothing to test
        }
        let set = WriteSet::default();
        set.learn(learner.0 as usize, learner.1);

        let mut memory = Mapping::new(256);
        set.populate(memory.slice());
        for run in 0..60 {
            memory.slice()[run * 4 * PAGE] = 1;
        }
        let before = memory.dirty_pages().unwrap();
        assert_eq!(before.len(), 60);
        // SAFETY: the test's own mapping, read below only to check it.
        unsafe { set.trim(memory.0 as usize, memory.1) };
        assert_eq!(memory.dirty_pages().unwrap(), before[..31]);
        // The first runs keep what was written; the dropped ones read as
        // the file again.
        assert_eq!(memory.slice()[30 * 4 * PAGE], 1);
        assert_eq!(memory.slice()[31 * 4 * PAGE], 7);

        // A write set of few runs: nothing is dropped.
        let small = WriteSet::default();
        let mut two = Mapping::new(16);
        two.slice()[0] = 1;
        two.slice()[8 * PAGE] = 1;
        small.learn(two.0 as usize, two.1);
        // SAFETY: as above.
        unsafe { small.trim(two.0 as usize, two.1) };
        assert_eq!(two.dirty_pages().unwrap(), [0, 8]);
    }

    #[test]
    fn a_template_stops_scanning_after_sandboxes_that_wrote_too_much() {
        let mut big = Mapping::new(MAX_LEARNED_PAGES + 8);
        for p in 0..MAX_LEARNED_PAGES + 1 {
            big.slice()[p * PAGE] = 1;
        }
        if big.dirty_pages().is_none() {
            return; // no PAGEMAP_SCAN: nothing to test
        }
        let set = WriteSet::default();
        for _ in 0..MAX_LEARN_ATTEMPTS {
            set.learn(big.0 as usize, big.1);
            assert!(!set.is_learned());
        }
        // A sandbox that wrote little after that is not scanned either.
        let mut small = Mapping::new(16);
        small.slice()[0] = 1;
        set.learn(small.0 as usize, small.1);
        assert!(!set.is_learned());
        // Before the attempts run out, it is learned.
        let fresh = WriteSet::default();
        fresh.learn(big.0 as usize, big.1);
        fresh.learn(small.0 as usize, small.1);
        assert!(fresh.is_learned());
    }
}
