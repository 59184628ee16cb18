//! Streaming results (generators) and streaming arguments (host-fed iterators).

mod common;

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use common::{Event, Recorder, eval, json, sandbox, text};
use futures::StreamExt;
use isola::{Arg, ErrorKind, Value};

#[tokio::test(flavor = "multi_thread")]
async fn generator_items_arrive_in_order_then_the_result() {
    let mut sb = sandbox().await;
    eval(
        &mut sb,
        "def gen(n):\n    for i in range(n):\n        yield i * i\n    return 'done'\n",
    )
    .await;
    let sink = Arc::new(Recorder::default());
    sb.call_with_sink("gen", [Arg::Positional(json("4"))], sink.clone())
        .await
        .unwrap();
    assert_eq!(
        sink.events(),
        vec![
            Event::Item("0".into()),
            Event::Item("1".into()),
            Event::Item("4".into()),
            Event::Item("9".into()),
            Event::Result("\"done\"".into()),
        ]
    );
    let out = sb.call("gen", [Arg::Positional(json("2"))]).await.unwrap();
    assert_eq!(out.items.iter().map(text).collect::<Vec<_>>(), ["0", "1"]);
    assert_eq!(text(out.result.as_ref().unwrap()), "\"done\"");
}

/// A sink that records, for each item, how many values the guest had
/// already produced (via stdout markers) when the item arrived.
#[derive(Default)]
struct Interleaving(std::sync::Mutex<Vec<String>>);

impl isola::OutputSink for Interleaving {
    fn on_item(&self, value: &Value) {
        self.0.lock().unwrap().push(format!("item {}", text(value)));
    }
    fn on_stdout(&self, t: &str) {
        self.0.lock().unwrap().push(format!("out {}", t.trim()));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn items_are_delivered_before_the_next_is_computed() {
    let mut sb = sandbox().await;
    eval(
        &mut sb,
        "def gen():\n    for i in range(3):\n        print(f'computing {i}', flush=True)\n        yield i\n",
    )
    .await;
    let sink = Arc::new(Interleaving::default());
    sb.call_with_sink("gen", [], sink.clone()).await.unwrap();
    assert_eq!(
        *sink.0.lock().unwrap(),
        [
            "out computing 0",
            "item 0",
            "out computing 1",
            "item 1",
            "out computing 2",
            "item 2"
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn async_generator_streams_items() {
    let mut sb = sandbox().await;
    eval(
        &mut sb,
        "import asyncio\nasync def agen():\n    for i in range(3):\n        await asyncio.sleep(0.001)\n        yield {'i': i}\n",
    )
    .await;
    let out = sb.call("agen", []).await.unwrap();
    assert_eq!(
        out.items.iter().map(text).collect::<Vec<_>>(),
        [r#"{"i":0}"#, r#"{"i":1}"#, r#"{"i":2}"#]
    );
    assert_eq!(text(out.result.as_ref().unwrap()), "null");
}

#[tokio::test(flavor = "multi_thread")]
async fn stream_argument_is_a_sync_iterator() {
    let mut sb = sandbox().await;
    eval(&mut sb, "def total(xs):\n    return sum(xs)\n").await;
    let stream = futures::stream::iter((1..=100).map(|i| json(&i.to_string())));
    let out = sb
        .call("total", [Arg::PositionalStream(Box::pin(stream))])
        .await
        .unwrap();
    assert_eq!(text(out.result.as_ref().unwrap()), "5050");
}

#[tokio::test(flavor = "multi_thread")]
async fn named_stream_argument_is_an_async_iterator() {
    let mut sb = sandbox().await;
    eval(
        &mut sb,
        "async def collect(*, xs):\n    out = []\n    async for x in xs:\n        out.append(x)\n    return out\n",
    )
    .await;
    let stream = futures::stream::iter(["\"a\"", "\"b\""].map(json)).then(|v| async move {
        tokio::time::sleep(Duration::from_millis(5)).await;
        v
    });
    let out = sb
        .call("collect", [Arg::NamedStream("xs".into(), Box::pin(stream))])
        .await
        .unwrap();
    assert_eq!(text(out.result.as_ref().unwrap()), r#"["a","b"]"#);
}

#[tokio::test(flavor = "multi_thread")]
async fn stream_argument_is_pulled_lazily() {
    let mut sb = sandbox().await;
    eval(
        &mut sb,
        "def first(xs, n):\n    out = []\n    for x in xs:\n        out.append(x)\n        if len(out) == n:\n            break\n    return out\n",
    )
    .await;
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = pulled.clone();
    let stream = futures::stream::iter(0..1_000_000u64).map(move |i| {
        counter.fetch_add(1, Ordering::SeqCst);
        json(&i.to_string())
    });
    let out = sb
        .call(
            "first",
            [
                Arg::PositionalStream(Box::pin(stream)),
                Arg::Positional(json("3")),
            ],
        )
        .await
        .unwrap();
    assert_eq!(text(out.result.as_ref().unwrap()), "[0,1,2]");
    assert!(
        pulled.load(Ordering::SeqCst) <= 4,
        "pulled {}",
        pulled.load(Ordering::SeqCst)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn generator_can_transform_a_stream_argument() {
    let mut sb = sandbox().await;
    eval(
        &mut sb,
        "def double(xs):\n    for x in xs:\n        yield x * 2\n",
    )
    .await;
    let stream = futures::stream::iter([1, 2, 3].map(|i| json(&i.to_string())));
    let out = sb
        .call("double", [Arg::PositionalStream(Box::pin(stream))])
        .await
        .unwrap();
    assert_eq!(
        out.items.iter().map(text).collect::<Vec<_>>(),
        ["2", "4", "6"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn stream_that_ends_early_reaches_the_guest_as_the_end() {
    let mut sb = sandbox().await;
    eval(&mut sb, "def count(xs):\n    return len(list(xs))\n").await;
    let stream = futures::stream::empty();
    let out = sb
        .call("count", [Arg::PositionalStream(Box::pin(stream))])
        .await
        .unwrap();
    assert_eq!(text(out.result.as_ref().unwrap()), "0");
}

#[tokio::test(flavor = "multi_thread")]
async fn unencodable_result_is_a_type_error() {
    let mut sb = sandbox().await;
    eval(&mut sb, "def bad():\n    return object()\n").await;
    let err = sb.call("bad", []).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::GuestException, "{err}");
    assert!(err.to_string().contains("object"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn failing_stream_raises_stream_error_in_the_guest_after_its_values() {
    let mut sb = sandbox().await;
    eval(
        &mut sb,
        "import sandbox\ndef drain(xs):\n    seen = []\n    try:\n        for x in xs:\n            seen.append(x)\n    except sandbox.StreamError as e:\n        return [seen, str(e)]\n    return [seen, None]\n",
    )
    .await;
    let items: Vec<Result<Value, String>> = vec![
        Ok(json("1")),
        Ok(json("2")),
        Err("upstream broke".to_string()),
    ];
    let stream = futures::stream::iter(items);
    let out = sb
        .call("drain", [Arg::PositionalTryStream(Box::pin(stream))])
        .await
        .unwrap();
    let result = text(out.result.as_ref().unwrap());
    assert!(result.starts_with("[[1,2],"), "{result}");
    assert!(result.contains("upstream broke"), "{result}");
}
