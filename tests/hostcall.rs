//! Guest host calls reaching `Host::hostcall`.

mod common;

use std::{sync::Arc, time::Duration};

use common::{Recorder, eval, json, sandbox_with, text};
use isola::{BoxError, Host, SandboxOptions, Value};

struct Calculator {
    calls: std::sync::Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl Host for Calculator {
    async fn hostcall(&self, name: &str, payload: Value) -> Result<Value, BoxError> {
        self.calls.lock().unwrap().push(name.to_string());
        match name {
            "double" => {
                let n: i64 = text(&payload).parse()?;
                Ok(json(&(n * 2).to_string()))
            }
            "slow_echo" => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                Ok(payload)
            }
            _ => Err(format!("no tool named {name}").into()),
        }
    }
}

fn calculator() -> Calculator {
    Calculator {
        calls: std::sync::Mutex::new(Vec::new()),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn async_hostcall_returns_the_host_answer() {
    let mut sb = sandbox_with(calculator(), &SandboxOptions::default()).await;
    let out = eval(
        &mut sb,
        "import sandbox\nprint(await sandbox.hostcall('double', 21))",
    )
    .await;
    assert_eq!(out.stdout, "42\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn hostcalls_run_concurrently_with_gather() {
    let mut sb = sandbox_with(calculator(), &SandboxOptions::default()).await;
    eval(
        &mut sb,
        "import asyncio, sandbox\nasync def many():\n    return await asyncio.gather(*[sandbox.hostcall('slow_echo', i) for i in range(10)])\n",
    )
    .await;
    let started = std::time::Instant::now();
    let out = sb.call("many", []).await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(text(out.result.as_ref().unwrap()), "[0,1,2,3,4,5,6,7,8,9]");
    // Ten 100 ms calls in sequence would take a second.
    assert!(elapsed < Duration::from_millis(800), "took {elapsed:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn host_error_becomes_a_python_exception() {
    let mut sb = sandbox_with(calculator(), &SandboxOptions::default()).await;
    let out = eval(
        &mut sb,
        "import sandbox\ntry:\n    await sandbox.hostcall('missing', {})\nexcept sandbox.HostError as e:\n    print('refused:', e)\n",
    )
    .await;
    assert_eq!(out.stdout, "refused: no tool named missing\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_hostcall_blocks_for_the_answer() {
    let host = Arc::new(calculator());
    let mut sb = common::template()
        .await
        .instantiate_shared(host.clone(), &SandboxOptions::default())
        .await
        .unwrap();
    let sink = Arc::new(Recorder::default());
    sb.eval_script(
        "import sandbox\nprint(sandbox.hostcall_sync('double', 5))",
        sink.clone(),
    )
    .await
    .unwrap();
    assert_eq!(sink.output().stdout, "10\n");
    assert_eq!(*host.calls.lock().unwrap(), ["double"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn default_host_refuses_hostcalls() {
    let mut sb = common::sandbox().await;
    let out = eval(
        &mut sb,
        "import sandbox\ntry:\n    sandbox.hostcall_sync('x')\nexcept sandbox.HostError as e:\n    print(e)\n",
    )
    .await;
    assert!(out.stdout.contains("not supported"), "{}", out.stdout);
}
