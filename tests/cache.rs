//! The on-disk cache of compiled runtimes.

mod common;

use isola::SandboxTemplate;

fn cwasm_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "cwasm"))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn second_build_loads_the_cached_artifact_and_corruption_is_recompiled() {
    let dir = tempfile::tempdir().unwrap();
    let build = || {
        SandboxTemplate::builder()
            .cache(Some(dir.path().to_path_buf()))
            .build_embedded()
    };

    let started = std::time::Instant::now();
    drop(build().await.unwrap());
    let compile_time = started.elapsed();
    let files = cwasm_files(dir.path());
    assert_eq!(files.len(), 1, "{files:?}");
    let stored = std::fs::read(&files[0]).unwrap();

    let started = std::time::Instant::now();
    let cached = build().await.unwrap();
    let load_time = started.elapsed();
    let mut sb = cached
        .instantiate(isola::NoHost, &Default::default())
        .await
        .unwrap();
    common::eval(&mut sb, "x = 1").await;
    assert!(
        load_time * 4 < compile_time,
        "cached load {load_time:?} vs compile {compile_time:?}"
    );

    // A corrupt entry is detected, recompiled and replaced.
    let mut corrupt = stored.clone();
    let middle = corrupt.len() / 2;
    corrupt[middle] ^= 0xff;
    std::fs::write(&files[0], &corrupt).unwrap();
    let rebuilt = build().await.unwrap();
    let mut sb = rebuilt
        .instantiate(isola::NoHost, &Default::default())
        .await
        .unwrap();
    common::eval(&mut sb, "x = 1").await;
    assert_eq!(
        std::fs::read(&files[0]).unwrap(),
        stored,
        "the corrupt entry must be rewritten"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_runtime_file_is_an_io_error() {
    let err = SandboxTemplate::builder()
        .cache(None)
        .build("/nonexistent/runtime.wasm")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), isola::ErrorKind::Io, "{err}");
    assert!(
        err.to_string().contains("/nonexistent/runtime.wasm"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_that_is_not_a_runtime_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bogus.wasm");
    std::fs::write(&path, b"\0asm\x01\0\0\0").unwrap();
    let err = SandboxTemplate::builder()
        .cache(None)
        .build(&path)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), isola::ErrorKind::InvalidArgument, "{err}");
}

/// Fill a cache directory with ten stale entries written a day ago, one
/// second apart (`stale0` oldest), each with a stamp whose modification
/// time (the entry's last use) `last_use(i, written)` gives; then write a
/// new entry and return the names of the entries left.
async fn prune_stale_entries(
    last_use: impl Fn(u64, std::time::SystemTime) -> Option<std::time::SystemTime>,
) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(86_400);
    for i in 0..10 {
        let path = dir.path().join(format!("stale{i}.cwasm"));
        let written = old + std::time::Duration::from_secs(i);
        let file = std::fs::File::create(&path).unwrap();
        file.set_modified(written).unwrap();
        if let Some(used) = last_use(i, written) {
            let stamp = std::fs::File::create(path.with_extension("stamp")).unwrap();
            stamp.set_modified(used).unwrap();
        }
    }
    SandboxTemplate::builder()
        .cache(Some(dir.path().to_path_buf()))
        .build_embedded()
        .await
        .unwrap();
    let left: Vec<String> = cwasm_files(dir.path())
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left.len(), 8, "{left:?}");
    left
}

#[tokio::test(flavor = "multi_thread")]
async fn old_entries_are_pruned_when_a_new_one_is_written() {
    let left = prune_stale_entries(|_, _| None).await;
    // The newest stale entries survive, the oldest go.
    assert!(left.contains(&"stale9.cwasm".to_string()), "{left:?}");
    assert!(!left.contains(&"stale0.cwasm".to_string()), "{left:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn entries_in_use_survive_pruning_however_old() {
    // The oldest entry's stamp says it was loaded an hour ago: it is in
    // use, unlike the nine written after it and never loaded since.
    let left = prune_stale_entries(|i, written| {
        Some(if i == 0 {
            std::time::SystemTime::now() - std::time::Duration::from_secs(3_600)
        } else {
            written
        })
    })
    .await;
    assert!(left.contains(&"stale0.cwasm".to_string()), "{left:?}");
    assert!(!left.contains(&"stale1.cwasm".to_string()), "{left:?}");
    assert!(!left.contains(&"stale2.cwasm".to_string()), "{left:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn loading_an_entry_marks_it_used() {
    let dir = tempfile::tempdir().unwrap();
    let build = || {
        SandboxTemplate::builder()
            .cache(Some(dir.path().to_path_buf()))
            .build_embedded()
    };
    drop(build().await.unwrap());
    // A stamp written within 2 s of its entry is rewritten by the next
    // load (see the racy stamps in src/engine/cache.rs); after that, loads
    // trust it and write nothing but the time of use.
    std::thread::sleep(std::time::Duration::from_millis(2_100));
    drop(build().await.unwrap());
    let entry = cwasm_files(dir.path()).remove(0);
    let stamp = entry.with_extension("stamp");
    let long_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(86_400);
    std::fs::File::open(&stamp)
        .unwrap()
        .set_modified(long_ago)
        .unwrap();
    let entry_written = std::fs::metadata(&entry).unwrap().modified().unwrap();
    drop(build().await.unwrap());
    let used = std::fs::metadata(&stamp).unwrap().modified().unwrap();
    assert!(
        used > long_ago + std::time::Duration::from_secs(3_600),
        "{used:?}"
    );
    // The entry itself is untouched: it was loaded, not written again.
    assert_eq!(
        std::fs::metadata(&entry).unwrap().modified().unwrap(),
        entry_written
    );
}
