//! requests, urllib3 and httpx in a sandbox: each request reaches
//! `Host::http_request` (no sockets), and the clients behave as with a real
//! network: parameters, bodies, redirects, cookies, streaming, status
//! errors, and their own exceptions for a refusal or a timeout.
//!
//! The clients are the pinned wheels of tests/http_clients/requirements.txt,
//! installed by `make http-clients` (run by `make test`) and mounted
//! read-only at /pkgs.

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{eval, sandbox_with};
use isola::{BoxError, Host, HttpRequest, HttpResponse, MountMode, SandboxOptions, Value};
use sha2::{Digest, Sha256};

/// The directory `tests/http_clients/install.py` installs the clients into.
fn clients_dir() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let req = std::fs::read(root.join("tests/http_clients/requirements.txt")).unwrap();
    let digest: String = Sha256::digest(&req)
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache"));
    let dir = base
        .join("isola-build")
        .join(format!("http-clients-{digest}"));
    assert!(
        dir.join(".complete").is_file(),
        "{} is missing: run `make http-clients` (python3 tests/http_clients/install.py) first",
        dir.display()
    );
    dir
}

/// A fake web for `api.test` (http and https); everything else is refused.
#[derive(Default)]
struct FakeWeb {
    /// Chunks of `/big` the guest has pulled so far.
    pulled: Arc<AtomicUsize>,
}

const BIG_CHUNKS: usize = 200;
const BIG_CHUNK: usize = 10_000;

#[async_trait::async_trait]
impl Host for FakeWeb {
    async fn hostcall(&self, name: &str, _payload: Value) -> Result<Value, BoxError> {
        assert_eq!(name, "pulled");
        Ok(Value::from_json_str(&self.pulled.load(Ordering::SeqCst).to_string()).unwrap())
    }

    async fn http_request(&self, request: HttpRequest) -> Result<HttpResponse, BoxError> {
        let Some(rest) = request
            .url
            .strip_prefix("https://api.test")
            .or_else(|| request.url.strip_prefix("http://api.test"))
        else {
            return Err(format!("blocked: {}", request.url).into());
        };
        let path = rest.split('?').next().unwrap_or_default();
        match path {
            "/redirect" => Ok(HttpResponse::with_body(
                302,
                vec![("Location".into(), "/echo?from=redirect".into())],
                vec![],
            )),
            "/missing" => Ok(HttpResponse::with_body(
                404,
                vec![("Content-Type".into(), "text/plain".into())],
                b"no such page".to_vec(),
            )),
            "/cookie" => Ok(HttpResponse::with_body(
                200,
                vec![
                    ("Set-Cookie".into(), "session=s1; Path=/".into()),
                    ("Set-Cookie".into(), "theme=dark; Path=/".into()),
                ],
                b"ok".to_vec(),
            )),
            "/big" => {
                let pulled = self.pulled.clone();
                let chunks = (0..BIG_CHUNKS).map(move |_| {
                    pulled.fetch_add(1, Ordering::SeqCst);
                    Ok(vec![b'x'; BIG_CHUNK])
                });
                Ok(HttpResponse {
                    status: 200,
                    headers: vec![(
                        "Content-Length".into(),
                        (BIG_CHUNKS * BIG_CHUNK).to_string(),
                    )],
                    body: Box::pin(futures::stream::iter(chunks)),
                })
            }
            "/slow" => {
                tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                Ok(HttpResponse::with_body(200, vec![], b"late".to_vec()))
            }
            _ => {
                let body = serde_json::json!({
                    "method": request.method,
                    "url": request.url,
                    "body": String::from_utf8_lossy(request.body.as_deref().unwrap_or_default()),
                    "headers": request.headers,
                })
                .to_string();
                Ok(HttpResponse::with_body(
                    200,
                    vec![
                        ("Content-Type".into(), "application/json".into()),
                        ("Content-Length".into(), body.len().to_string()),
                    ],
                    body.into_bytes(),
                ))
            }
        }
    }
}

fn options() -> SandboxOptions {
    let mut options = SandboxOptions::default();
    options
        .mount(clients_dir(), "/pkgs", MountMode::ReadOnly)
        .env("PYTHONPATH", "/pkgs")
        .timeout(Some(std::time::Duration::from_secs(300)));
    options
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_get_post_redirects_and_cookies_go_through_the_host() {
    let mut sb = sandbox_with(FakeWeb::default(), &options()).await;
    let out = eval(
        &mut sb,
        r#"
import requests
r = requests.get("https://api.test/echo", params={"q": "a b", "n": 2}, headers={"X-Key": "k"})
d = r.json()
print(r.status_code, r.reason, r.ok, d["method"], d["url"], ["X-Key", "k"] in d["headers"])
print(r.headers["content-type"], type(r.content).__name__, r.text == r.content.decode())
r = requests.post("http://api.test:8080/echo", json={"a": [1, 2]})
d = r.json()
print(d["url"], d["body"], ["Content-Type", "application/json"] in d["headers"])
r = requests.post("https://api.test/echo", data={"name": "x y", "n": "1"})
d = r.json()
print(d["body"], ["Content-Type", "application/x-www-form-urlencoded"] in d["headers"])
r = requests.get("https://api.test/redirect")
print(r.status_code, r.url, [h.status_code for h in r.history])
r = requests.get("https://api.test/missing")
print(r.status_code, r.text)
try:
    r.raise_for_status()
except requests.HTTPError as e:
    print("HTTPError", e)
with requests.Session() as s:
    s.headers["Authorization"] = "Bearer t"
    s.get("https://api.test/cookie")
    d = s.get("https://api.test/echo").json()
    print(sorted(s.cookies.get_dict().items()), ["Cookie", "session=s1; theme=dark"] in d["headers"],
          ["Authorization", "Bearer t"] in d["headers"])
import urllib3
r = urllib3.request("PUT", "https://api.test/echo", body=b"raw")
print(r.status, r.json()["method"], r.json()["body"])
"#,
    )
    .await;
    assert_eq!(
        out.stdout,
        "200 OK True GET https://api.test/echo?q=a+b&n=2 True\n\
         application/json bytes True\n\
         http://api.test:8080/echo {\"a\": [1, 2]} True\n\
         name=x+y&n=1 True\n\
         200 https://api.test/echo?from=redirect [302]\n\
         404 no such page\n\
         HTTPError 404 Client Error: Not Found for url: https://api.test/missing\n\
         [('session', 's1'), ('theme', 'dark')] True True\n\
         200 PUT raw\n",
        "stderr: {}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_streams_a_large_body_as_it_is_read() {
    let mut sb = sandbox_with(FakeWeb::default(), &options()).await;
    let out = eval(
        &mut sb,
        r#"
import requests, sandbox
r = requests.get("https://api.test/big", stream=True)
chunks = r.iter_content(chunk_size=10_000)
first = next(chunks)
early = sandbox.hostcall_sync("pulled")
total = len(first) + sum(len(c) for c in chunks)
print(len(first), early < 20, total, sandbox.hostcall_sync("pulled"))
"#,
    )
    .await;
    assert_eq!(out.stdout, "10000 True 2000000 200\n", "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_refusals_and_timeouts_raise_its_own_exceptions() {
    let mut sb = sandbox_with(FakeWeb::default(), &options()).await;
    let out = eval(
        &mut sb,
        r#"
import requests, time
try:
    requests.get("https://evil.test/x")
except requests.ConnectionError as e:
    print("ConnectionError", "isola sandbox" in str(e), "blocked: https://evil.test/x" in str(e))
t = time.monotonic()
try:
    requests.get("https://api.test/slow", timeout=0.5)
except requests.ReadTimeout as e:
    print("ReadTimeout", time.monotonic() - t < 5)
"#,
    )
    .await;
    assert_eq!(
        out.stdout, "ConnectionError True True\nReadTimeout True\n",
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_without_an_http_callback_fails_with_connection_error() {
    let mut sb = sandbox_with(isola::NoHost, &options()).await;
    let out = eval(
        &mut sb,
        r#"
import requests
try:
    requests.get("http://example.com/")
except requests.ConnectionError as e:
    print("ConnectionError", "isola sandbox" in str(e), "not allowed by this host" in str(e))
"#,
    )
    .await;
    assert_eq!(out.stdout, "ConnectionError True True\n", "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn httpx_sync_and_async_clients_go_through_the_host() {
    let mut sb = sandbox_with(FakeWeb::default(), &options()).await;
    let out = eval(
        &mut sb,
        r#"
import asyncio, httpx
r = httpx.get("https://api.test/echo", params={"q": "a b"}, headers={"X-Key": "k"})
d = r.json()
print(r.status_code, r.reason_phrase, d["url"], ["X-Key", "k"] in d["headers"])
with httpx.Client(base_url="https://api.test", follow_redirects=True) as c:
    print(c.post("/echo", json={"a": 1}).json()["body"], c.post("/echo", data={"a": "1"}).json()["body"])
    r = c.get("/redirect")
    print(r.status_code, r.url, [h.status_code for h in r.history])
    try:
        c.get("/missing").raise_for_status()
    except httpx.HTTPStatusError as e:
        print("HTTPStatusError", e.response.status_code)
    with c.stream("GET", "/big") as r:
        print(sum(len(b) for b in r.iter_bytes()))
    try:
        c.get("https://evil.test/")
    except httpx.ConnectError as e:
        print("ConnectError", "isola sandbox" in str(e), "blocked: https://evil.test/" in str(e))
    try:
        c.get("/slow", timeout=0.5)
    except httpx.ReadTimeout as e:
        print("ReadTimeout")

async def main():
    async with httpx.AsyncClient() as c:
        rs = await asyncio.gather(*(c.get("https://api.test/echo", params={"i": i}) for i in range(3)))
        print([r.json()["url"][-3:] for r in rs])
        async with c.stream("GET", "https://api.test/big") as r:
            print(sum([len(b) async for b in r.aiter_bytes()]))
        try:
            await c.get("https://evil.test/")
        except httpx.ConnectError as e:
            print("async ConnectError", "isola sandbox" in str(e))

asyncio.run(main())
import sys
print(sorted(m for m in ("httpcore", "ssl") if m in sys.modules))
"#,
    )
    .await;
    assert_eq!(
        out.stdout,
        "200 OK https://api.test/echo?q=a+b True\n\
         {\"a\":1} a=1\n\
         200 https://api.test/echo?from=redirect [302]\n\
         HTTPStatusError 404\n\
         2000000\n\
         ConnectError True True\n\
         ReadTimeout\n\
         ['i=0', 'i=1', 'i=2']\n\
         2000000\n\
         async ConnectError True\n\
         []\n",
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ssl_contexts_are_accepted_and_tls_stays_with_the_host() {
    let mut sb = sandbox_with(FakeWeb::default(), &options()).await;
    let out = eval(
        &mut sb,
        r#"
import socket, ssl, urllib.request, warnings
import httpx, requests, urllib3
warnings.simplefilter("always")
ctx = ssl.create_default_context()
print(ssl.HAS_SNI, "no OpenSSL" in ssl.OPENSSL_VERSION, ctx.verify_mode == ssl.CERT_REQUIRED, ctx.check_hostname)
print(httpx.Client(verify=ctx).get("https://api.test/echo").status_code,
      httpx.get("https://api.test/echo", verify=False).status_code)
print(urllib.request.urlopen("https://api.test/echo", context=ssl._create_unverified_context()).status)
print(urllib3.PoolManager(ssl_context=ctx).request("GET", "https://api.test/echo").status)
with warnings.catch_warnings(record=True) as caught:
    print(requests.get("https://api.test/echo").status_code, requests.get("https://api.test/echo", verify=False).status_code)
print([w.category.__name__ for w in caught])
try:
    ctx.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="api.test")
except ssl.SSLError as e:
    print("SSLError", "isola sandbox" in str(e), "no TLS" in str(e))
try:
    ctx.wrap_socket(socket.socket(), server_hostname="api.test")
except PermissionError as e:
    print("PermissionError", "isola sandbox" in str(e))
try:
    ssl.create_default_context(cafile="/no/such/ca.pem")
except FileNotFoundError:
    print("FileNotFoundError")
"#,
    )
    .await;
    assert_eq!(
        out.stdout,
        "True True True True\n\
         200 200\n\
         200\n\
         200\n\
         200 200\n\
         ['InsecureRequestWarning']\n\
         SSLError True True\n\
         PermissionError True\n\
         FileNotFoundError\n",
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("NotOpenSSLWarning"), "{}", out.stderr);
}
