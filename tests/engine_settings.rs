//! Process-wide engine settings (each test file is its own process, so the
//! engine here starts unconfigured).

mod common;

use isola::{EngineSettings, ErrorKind, SandboxTemplate};

#[tokio::test(flavor = "multi_thread")]
async fn settings_apply_before_the_first_template_and_are_refused_after() {
    let bad = EngineSettings {
        max_sandboxes: 0,
        ..EngineSettings::default()
    };
    assert_eq!(
        isola::configure_engine(bad).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );

    // Two sandbox slots: a third live sandbox is refused, freeing one
    // makes room again.
    let two = EngineSettings {
        max_sandboxes: 2,
        ..EngineSettings::default()
    };
    isola::configure_engine(two).unwrap();
    let template = SandboxTemplate::builder()
        .cache(Some(common::cache_dir()))
        .build_embedded()
        .await
        .unwrap();
    let first = template
        .instantiate(isola::NoHost, &Default::default())
        .await
        .unwrap();
    let mut second = template
        .instantiate(isola::NoHost, &Default::default())
        .await
        .unwrap();
    let third = template
        .instantiate(isola::NoHost, &Default::default())
        .await;
    assert!(third.is_err(), "a third sandbox must not fit in two slots");
    drop(first);
    let mut again = template
        .instantiate(isola::NoHost, &Default::default())
        .await
        .unwrap();
    common::eval(&mut second, "x = 1").await;
    common::eval(&mut again, "x = 2").await;

    let late = isola::configure_engine(EngineSettings::default()).unwrap_err();
    assert_eq!(late.kind(), ErrorKind::InvalidArgument);
    assert!(late.to_string().contains("already running"), "{late}");
}
