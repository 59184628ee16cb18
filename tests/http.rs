//! Guest HTTP requests reaching `Host::http_request`; no sockets.

mod common;

use common::{eval, sandbox_with};
use isola::{BoxError, Host, HttpRequest, HttpResponse, SandboxOptions};

struct FakeWeb;

#[async_trait::async_trait]
impl Host for FakeWeb {
    async fn http_request(&self, request: HttpRequest) -> Result<HttpResponse, BoxError> {
        match request.url.as_str() {
            "https://api.test/echo" => {
                let body = serde_json::json!({
                    "method": request.method,
                    "body": String::from_utf8_lossy(request.body.as_deref().unwrap_or_default()),
                    "headers": request.headers,
                });
                Ok(HttpResponse::with_body(
                    200,
                    vec![("Content-Type".into(), "application/json".into())],
                    body.to_string().into_bytes(),
                ))
            }
            "https://api.test/chunks" => Ok(HttpResponse {
                status: 200,
                headers: vec![],
                body: Box::pin(futures::stream::iter(
                    ["one ", "two ", "three"].map(|s| Ok(s.as_bytes().to_vec())),
                )),
            }),
            "https://api.test/huge" => Ok(HttpResponse {
                status: 200,
                headers: vec![],
                body: Box::pin(futures::stream::iter(
                    (0..100).map(|_| Ok(vec![b'x'; 1000])),
                )),
            }),
            other => Err(format!("blocked: {other}").into()),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn fetch_reaches_the_host_and_returns_the_response() {
    let mut sb = sandbox_with(FakeWeb, &SandboxOptions::default()).await;
    let out = eval(
        &mut sb,
        "from sandbox import http\n\
         r = await http.post('https://api.test/echo', json={'q': 1}, headers={'X-Key': 'k'})\n\
         data = await r.json()\n\
         print(r.status, data['method'], data['body'], ['X-Key', 'k'] in data['headers'])\n",
    )
    .await;
    assert_eq!(out.stdout, "200 POST {\"q\": 1} True\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn response_body_streams_in_chunks() {
    let mut sb = sandbox_with(FakeWeb, &SandboxOptions::default()).await;
    let out = eval(
        &mut sb,
        "from sandbox import http\n\
         r = await http.get('https://api.test/chunks')\n\
         parts = [c async for c in r.aiter_bytes()]\n\
         print(parts)\n",
    )
    .await;
    assert_eq!(out.stdout, "[b'one ', b'two ', b'three']\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_request_raises_http_error() {
    let mut sb = sandbox_with(FakeWeb, &SandboxOptions::default()).await;
    let out = eval(
        &mut sb,
        "from sandbox import http\n\
         try:\n    http.get_sync('https://evil.test/')\n\
         except http.HTTPError as e:\n    print('refused', e)\n",
    )
    .await;
    assert!(out.stdout.starts_with("refused"), "{}", out.stdout);
    assert!(
        out.stdout.contains("blocked: https://evil.test/"),
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn urllib_goes_through_the_host() {
    let mut sb = sandbox_with(FakeWeb, &SandboxOptions::default()).await;
    let out = eval(
        &mut sb,
        "import urllib.request, json\n\
         with urllib.request.urlopen('https://api.test/echo') as r:\n    print(r.status, json.loads(r.read())['method'])\n",
    )
    .await;
    assert_eq!(out.stdout, "200 GET\n");
    // Without ssl, CPython's urllib.request has no HTTPSHandler; programs
    // import it and build their own openers.
    let out = eval(
        &mut sb,
        "from urllib.request import HTTPSHandler, HTTPCookieProcessor, build_opener, urlopen, Request\n\
         for opener in (build_opener(HTTPCookieProcessor()), build_opener(HTTPSHandler(context=None))):\n\
         \x20   with opener.open(Request('https://api.test/echo', data=b'x')) as r:\n\
         \x20       print(r.status, json.loads(r.read())['method'])\n",
    )
    .await;
    assert_eq!(out.stdout, "200 POST\n200 POST\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn body_larger_than_the_cap_fails_in_the_guest() {
    let mut options = SandboxOptions::default();
    options.max_value_bytes(10_000);
    let mut sb = sandbox_with(FakeWeb, &options).await;
    let out = eval(
        &mut sb,
        "from sandbox import http\n\
         r = await http.get('https://api.test/huge')\n\
         try:\n    await r.read()\n\
         except Exception as e:\n    print(type(e).__name__, 'limit' in str(e))\n",
    )
    .await;
    assert!(out.stdout.ends_with("True\n"), "{}", out.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn sockets_cannot_be_opened() {
    let mut sb = common::sandbox().await;
    let out = eval(
        &mut sb,
        "try:\n    import socket\n    socket.create_connection(('example.com', 80))\n    print('connected')\n\
         except Exception as e:\n    print('blocked', type(e).__name__)\n",
    )
    .await;
    assert!(out.stdout.starts_with("blocked"), "{}", out.stdout);
}
