//! A freed sandbox gives back the fiber stack its guest used: deep
//! recursion through C code can use tens of MiB of the guest's 48 MiB
//! native stack, and without this every pool slot that ever held such a
//! sandbox kept those pages resident, host memory outside every sandbox's
//! limit; the pages return with the next batch of slot decommits (16 frees).
//! (Its own test binary: the process's resident size is the measure,
//! so nothing else may run beside it.)

mod common;

use common::{eval, sandbox};

/// Resident memory of this process, in KiB (`VmRSS`).
fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .expect("VmRSS in /proc/self/status");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_freed_sandbox_returns_the_stack_its_deep_recursion_used() {
    // Warm up: the template, one slot used once.
    drop(sandbox().await);

    let mut deep = sandbox().await;
    let before = resident_kib();
    // json.loads of nested arrays recurses through C until CPython's check
    // raises; that takes about 30 MiB of native stack.
    let out = eval(
        &mut deep,
        "import json\ntry:\n    json.loads('[' * 100_000 + ']' * 100_000)\nexcept RecursionError:\n    print('RecursionError')\n",
    )
    .await;
    assert_eq!(out.stdout, "RecursionError\n");
    let live = resident_kib();
    assert!(
        live > before + 20 * 1024,
        "the recursion should have made > 20 MiB of stack resident: {before} -> {live} KiB"
    );

    drop(deep);
    // Slot decommits are batched (16 at a time): free enough sandboxes
    // that the batch holding this stack is flushed.
    for _ in 0..16 {
        drop(sandbox().await);
    }
    let freed = resident_kib();
    eprintln!("resident: before {before} KiB, live {live} KiB, after free {freed} KiB");
    assert!(
        freed + 24 * 1024 < live,
        "freeing the sandbox should return most of its stack: live {live} KiB, after free {freed} KiB"
    );
}
