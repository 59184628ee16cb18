"""HTTP through the host. The sandbox has no sockets; the host decides and performs.

    resp = await sandbox.http.get("https://example.com/data.json")
    data = await resp.json()

    resp = sandbox.http.post_sync(url, json={"a": 1})
    print(resp.status, resp.header("content-type"), resp.text_sync())
"""

import json as _json

from isola_guest import hostapi as _hostapi
from isola_guest import loop as _loop
from isola_guest.streams import HostStream as _HostStream

__all__ = ["HTTPError", "Response", "fetch", "get", "post", "fetch_sync", "get_sync", "post_sync"]


class HTTPError(RuntimeError):
    """The host refused or failed the request, or the response body broke off."""


class Response:
    """An HTTP response whose body is streamed from the host on demand."""

    def __init__(self, method, url, status, headers, body):
        self.method = method
        self.url = url
        self.status = status
        self.headers = headers  # list of (name, value) pairs, as received
        self._stream = _HostStream(body, decode=None, error=HTTPError, what="HTTP response body")
        self._content = None

    @property
    def ok(self):
        return 200 <= self.status < 300

    def header(self, name, default=None):
        """First value of header ``name`` (case-insensitive), else ``default``."""
        lname = name.lower()
        for k, v in self.headers:
            if k.lower() == lname:
                return v
        return default

    def header_all(self, name):
        lname = name.lower()
        return [v for k, v in self.headers if k.lower() == lname]

    def raise_for_status(self):
        if not self.ok:
            raise HTTPError("HTTP %d for %s %s" % (self.status, self.method, self.url))
        return self

    def _charset(self):
        ctype = self.header("content-type") or ""
        for part in ctype.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                return value.strip('"\' ')
        return "utf-8"

    def _decode_text(self, data, encoding):
        enc = encoding or self._charset()
        try:
            return data.decode(enc, "replace")
        except LookupError:
            return data.decode("utf-8", "replace")

    # async body access
    async def read(self):
        """The whole body as bytes (cached; later calls return the same bytes)."""
        if self._content is None:
            parts = []
            async for chunk in self._stream:
                parts.append(chunk)
            self._content = b"".join(parts)
        return self._content

    async def text(self, encoding=None):
        return self._decode_text(await self.read(), encoding)

    async def json(self):
        return _json.loads(await self.read())

    async def aiter_bytes(self):
        """Body chunks as they arrive (cannot be combined with read())."""
        if self._content is not None:
            yield self._content
            return
        async for chunk in self._stream:
            yield chunk

    # sync body access: block the whole sandbox while waiting
    def read_sync(self):
        if self._content is None:
            self._content = b"".join(self._stream)
        return self._content

    def text_sync(self, encoding=None):
        return self._decode_text(self.read_sync(), encoding)

    def json_sync(self):
        return _json.loads(self.read_sync())

    def iter_bytes(self):
        if self._content is not None:
            yield self._content
            return
        yield from self._stream

    def close(self):
        self._stream.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        self.close()

    def __repr__(self):
        return "<Response [%d] %s %s>" % (self.status, self.method, self.url)


def _prepare(method, url, headers, body, json):
    if not isinstance(method, str) or not method:
        raise TypeError("method must be a non-empty str")
    if not isinstance(url, str):
        raise TypeError("url must be str, not %s" % type(url).__name__)
    if headers is None:
        pairs = []
    elif isinstance(headers, dict):
        pairs = [(str(k), str(v)) for k, v in headers.items()]
    else:
        pairs = [(str(k), str(v)) for k, v in headers]
    if json is not None:
        if body is not None:
            raise TypeError("pass either body= or json=, not both")
        body = _json.dumps(json).encode("utf-8")
        if not any(k.lower() == "content-type" for k, _ in pairs):
            pairs.append(("content-type", "application/json"))
    if isinstance(body, str):
        body = body.encode("utf-8")
    elif body is not None:
        body = bytes(body)
    return method.upper(), url, pairs, body


def _response(method, url, result):
    if isinstance(result, _hostapi.Ok):
        r = result.value
        return Response(method, url, int(r.status), [(k, v) for k, v in r.headers], r.body)
    msg = getattr(result, "value", None) or "request failed"
    raise HTTPError("%s %s: %s" % (method, url, msg))


async def fetch(method, url, *, headers=None, body=None, json=None):
    """Send a request through the host and return the Response once headers arrive."""
    method, url, pairs, body = _prepare(method, url, headers, body, json)
    result = await _loop.answer(_hostapi.http_fetch(method, url, pairs, body))
    return _response(method, url, result)


def fetch_sync(method, url, *, headers=None, body=None, json=None):
    """Blocking ``fetch``: the whole sandbox waits for the response head."""
    method, url, pairs, body = _prepare(method, url, headers, body, json)
    result = _loop.answer_sync(_hostapi.http_fetch(method, url, pairs, body))
    return _response(method, url, result)


async def get(url, **kw):
    return await fetch("GET", url, **kw)


async def post(url, **kw):
    return await fetch("POST", url, **kw)


def get_sync(url, **kw):
    return fetch_sync("GET", url, **kw)


def post_sync(url, **kw):
    return fetch_sync("POST", url, **kw)
