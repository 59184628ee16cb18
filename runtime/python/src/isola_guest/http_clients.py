"""requests, urllib3 and httpx through the host's HTTP callback (no sockets).

The sandbox has no network; ``sandbox.http`` hands each request to the host,
which decides whether and how to perform it (TLS included). Programs,
though, use the common clients. Those are routed to the same callback,
lazily: ``PatchFinder`` (on ``sys.meta_path``, before the path finder)
patches a module right after it is first imported, so sandboxes that never
import them pay nothing.

- ``urllib3.connection``: ``HTTPConnection`` and ``HTTPSConnection`` become
  ``HostHTTPConnection`` and ``HostHTTPSConnection``, which send each request
  to the host instead of a socket. Everything above the connection is
  urllib3's own: pools, retries, redirects, ``Timeout``, content decoding,
  streaming, errors; so requests (built on urllib3) and other urllib3 users
  behave as with a real network. Their response body is read from the
  host's stream as the program reads it, never held whole.
- ``httpx._transports.default``: ``HTTPTransport`` and
  ``AsyncHTTPTransport`` become ``HostTransport`` and
  ``AsyncHostTransport``, httpx transports over the host (httpcore, which
  needs sockets and ``ssl``, is never imported).

Neither patched client needs ``ssl``. It imports all the same (the
standard module over ``isola_guest.ssl_shim``, a ``_ssl`` without
OpenSSL), so programs can build contexts and pass them on
(``verify=ssl.create_default_context()``); certificate options (requests'
``verify=``/``cert=``, httpx's ``verify=``, urllib3's ``ssl_context=``) are
accepted and have no effect: TLS is the host's. ``verify=False`` (a
``CERT_NONE`` context) still gives urllib3's ``InsecureRequestWarning`` as it
would elsewhere; urllib3's import-time ``NotOpenSSLWarning`` is silenced.

Errors are the clients' own: the host refusing or failing a request is a
connection error (``urllib3.exceptions.NewConnectionError``, so
``requests.ConnectionError``; ``httpx.ConnectError``), a body that breaks
off is a read error, and a ``timeout`` applies to waiting for the response
head and for each body chunk (``requests.ReadTimeout``,
``httpx.ReadTimeout``). Messages name the sandbox.
"""

import asyncio
import importlib.abc
import importlib.machinery
import sys

from . import finders, hostapi
from . import loop as _loop

# Headers the host's HTTP client owns; urllib_patch drops the same.
_HOP_HEADERS = frozenset({"host", "content-length", "connection", "transfer-encoding", "keep-alive",
                          "proxy-connection", "te", "upgrade"})

_REFUSED = "isola sandbox: no network; the host's HTTP callback refused or failed %s %s: %s"
_BROKEN = "isola sandbox: the host's response body for %s %s broke off: %s"


class HostRefused(Exception):
    """The host refused or failed the request (before a response head)."""


class BodyBroken(Exception):
    """The host's response body failed midway."""


# --------------------------------------------------------------- host waits

def _wait_ready(pollable, timeout):
    """Block until ``pollable`` is ready or ``timeout`` seconds passed (None:
    no limit). Drops the pollable. False when the time ran out."""
    timer = None
    try:
        if pollable.ready():
            return True
        if timeout is None:
            hostapi.poll([pollable])
            return True
        timer = hostapi.subscribe_duration(max(0, int(timeout * 1e9)))
        return 0 in hostapi.poll([pollable, timer])
    finally:
        hostapi.drop(timer)
        hostapi.drop(pollable)


def _start(method, url, headers, body):
    pairs = [(str(k), str(v)) for k, v in headers if str(k).lower() not in _HOP_HEADERS]
    return hostapi.http_fetch(method, url, pairs, body)


def _response(method, url, result):
    from sandbox import http as sbhttp
    try:
        return sbhttp._response(method, url, result)
    except sbhttp.HTTPError:
        raise HostRefused(_REFUSED % (method, url, getattr(result, "value", None) or "request failed")) from None


def fetch_sync(method, url, headers, body, timeout):
    """Send a request to the host; return the ``sandbox.http.Response``
    once its head arrived. ``TimeoutError`` after ``timeout`` seconds,
    ``HostRefused`` when the host refuses or fails."""
    fut = _start(method, url, headers, body)
    try:
        while (result := fut.get()) is None:
            if not _wait_ready(fut.subscribe(), timeout):
                raise TimeoutError("isola sandbox: no response from the host for %s %s within %s s"
                                   % (method, url, timeout))
        return _response(method, url, result)
    finally:
        hostapi.drop(fut)


async def fetch_async(method, url, headers, body, timeout):
    """``fetch_sync`` on the sandbox event loop."""
    fut = _start(method, url, headers, body)
    try:
        result = await asyncio.wait_for(_loop.answer(fut), timeout)
    except (TimeoutError, asyncio.TimeoutError):
        raise TimeoutError("isola sandbox: no response from the host for %s %s within %s s"
                           % (method, url, timeout)) from None
    return _response(method, url, result)


def next_chunk_sync(resp, timeout):
    """The next body chunk of ``resp``, or None at its end."""
    from sandbox import http as sbhttp
    stream = resp._stream
    try:
        while True:
            try:
                ready, chunk = stream._step()
            except StopIteration:
                return None
            if ready:
                return chunk
            if not _wait_ready(stream._res.subscribe(), timeout):
                raise TimeoutError("isola sandbox: the host's response body for %s %s: nothing within %s s"
                                   % (resp.method, resp.url, timeout))
    except sbhttp.HTTPError as e:
        raise BodyBroken(_BROKEN % (resp.method, resp.url, e)) from None


async def next_chunk_async(resp, timeout):
    from sandbox import http as sbhttp
    try:
        return await asyncio.wait_for(resp._stream.__anext__(), timeout)
    except StopAsyncIteration:
        return None
    except (TimeoutError, asyncio.TimeoutError):
        raise TimeoutError("isola sandbox: the host's response body for %s %s: nothing within %s s"
                           % (resp.method, resp.url, timeout)) from None
    except sbhttp.HTTPError as e:
        raise BodyBroken(_BROKEN % (resp.method, resp.url, e)) from None


def _reason(status):
    import http
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


# ------------------------------------------------------------------ urllib3

def _patch_urllib3_connection(mod):
    import errno
    import http.client
    import io

    from urllib3 import exceptions as u3exc
    from urllib3._collections import HTTPHeaderDict
    from urllib3.util import SKIP_HEADER
    from urllib3.util.request import body_to_chunks
    from urllib3.util.timeout import Timeout

    base = mod.HTTPConnection

    class _Body(io.BufferedIOBase):
        """The response body as http.client's response object, for
        urllib3's ``HTTPResponse`` (``original_response``; requests reads
        cookies from its ``msg``). Closes itself at the end of the body, as
        http.client's does, which returns the connection to its pool."""

        def __init__(self, resp, conn):
            super().__init__()
            self._resp = resp
            self._conn = conn
            self._buf = b""
            self._eof = False
            self.status = resp.status
            self.reason = _reason(resp.status)
            self.version = 11
            self.msg = self.headers = http.client.HTTPMessage()
            for k, v in resp.headers:
                self.msg[k] = v

        def readable(self):
            return True

        def isclosed(self):
            return self.closed

        def getheader(self, name, default=None):
            values = self.msg.get_all(name)
            return ", ".join(values) if values else default

        def getheaders(self):
            return list(self.msg.items())

        def _fill(self):
            if self._eof:
                return False
            try:
                chunk = next_chunk_sync(self._resp, self._conn.timeout_seconds())
            except TimeoutError as e:
                raise TimeoutError(str(e)) from None
            except BodyBroken as e:
                raise ConnectionResetError(errno.ECONNRESET, str(e)) from None
            if chunk is None:
                self._eof = True
                return False
            self._buf += chunk
            return True

        def _take(self, size):
            data, self._buf = self._buf[:size], self._buf[size:]
            if not self._buf and self._eof:
                self.close()
            return data

        def read(self, size=-1):
            if self.closed:
                return b""
            if size is None or size < 0:
                while self._fill():
                    pass
                return self._take(len(self._buf))
            while len(self._buf) < size and self._fill():
                pass
            return self._take(size)

        def read1(self, size=-1):
            if self.closed:
                return b""
            if not self._buf:
                self._fill()
            if size is None or size < 0:
                size = len(self._buf)
            return self._take(size)

        def readinto(self, b):
            data = self.read(len(b))
            b[:len(data)] = data
            return len(data)

        def close(self):
            if not self.closed:
                self._resp.close()
            super().close()

    class HostHTTPConnection(base):
        """urllib3's ``HTTPConnection`` whose requests go to the host's HTTP
        callback (``sandbox.http``): no socket, no DNS, no TLS here."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._host_open = False
            self._host_response = None

        def timeout_seconds(self):
            t = Timeout.resolve_default_timeout(self.timeout)
            return t if isinstance(t, (int, float)) else None

        def connect(self):
            self._host_open = True
            self._has_connected_to_proxy = bool(self.proxy)

        @property
        def is_closed(self):
            return not self._host_open

        @property
        def is_connected(self):
            return self._host_open

        def close(self):
            self._host_open = False
            resp, self._host_response = self._host_response, None
            if resp is not None:
                resp.close()
            super().close()

        def _absolute_url(self, url):
            if "://" in url.split("?", 1)[0]:
                return url  # forwarding proxy: urllib3 gives the target URL
            host = self._tunnel_host or self.host
            port = self._tunnel_port if self._tunnel_host else self.port
            if ":" in host and not host.startswith("["):
                host = "[%s]" % host
            if port and port != self.default_port:
                host = "%s:%d" % (host, port)
            return "%s://%s%s" % (self.scheme, host, url if url.startswith("/") else "/" + url)

        scheme = "http"

        def request(self, method, url, body=None, headers=None, *, chunked=False,
                    preload_content=True, decode_content=True, enforce_content_length=True):
            from urllib3._base_connection import _ResponseOptions

            if not self._host_open:
                self.connect()
            self._response_options = _ResponseOptions(
                request_method=method, request_url=url, preload_content=preload_content,
                decode_content=decode_content, enforce_content_length=enforce_content_length)
            # The checks http.client's putrequest makes (urllib3's too).
            if mod._CONTAINS_CONTROL_CHAR_RE.search(method):
                raise ValueError("Method cannot contain non-token characters %r" % (method,))
            self._validate_path(url)
            pairs = []
            names = set()
            for k, v in (headers or {}).items():
                if v == SKIP_HEADER:
                    continue
                if isinstance(k, bytes):
                    k = k.decode("latin-1")
                if isinstance(v, bytes):
                    v = v.decode("latin-1")
                names.add(k.lower())
                pairs.append((k, str(v)))
            if "user-agent" not in names:
                pairs.append(("User-Agent", mod._get_default_user_agent()))
            chunks = body_to_chunks(body, method=method, blocksize=self.blocksize).chunks
            data = None
            if chunks is not None:
                data = b"".join(c.encode("utf-8") if isinstance(c, str) else bytes(c) for c in chunks)
            self._host_request = (method.upper(), self._absolute_url(url), pairs, data)

        def getresponse(self):
            from urllib3.response import HTTPResponse

            if self._response_options is None or self._host_request is None:
                raise http.client.ResponseNotReady()
            options, self._response_options = self._response_options, None
            (method, url, pairs, data), self._host_request = self._host_request, None
            try:
                resp = fetch_sync(method, url, pairs, data, self.timeout_seconds())
            except HostRefused as e:
                raise u3exc.NewConnectionError(self, str(e)) from None
            body = _Body(resp, self)
            return HTTPResponse(
                body=body, headers=HTTPHeaderDict(list(body.msg.items())), status=body.status,
                version=body.version, version_string="HTTP/1.1", reason=body.reason,
                preload_content=options.preload_content, decode_content=options.decode_content,
                original_response=body, enforce_content_length=options.enforce_content_length,
                request_method=options.request_method, request_url=options.request_url)

    HostHTTPConnection._host_request = None

    class HostHTTPSConnection(HostHTTPConnection):
        """``HostHTTPConnection`` for https URLs: TLS is the host's. The
        certificate options are accepted and kept, not used."""

        default_port = 443
        scheme = "https"
        cert_reqs = None
        ca_certs = ca_cert_dir = ca_cert_data = None
        ssl_version = ssl_minimum_version = ssl_maximum_version = None
        assert_fingerprint = None

        def __init__(self, host, port=None, *, cert_reqs=None, assert_hostname=None,
                     assert_fingerprint=None, server_hostname=None, ssl_context=None,
                     ca_certs=None, ca_cert_dir=None, ca_cert_data=None,
                     ssl_minimum_version=None, ssl_maximum_version=None, ssl_version=None,
                     cert_file=None, key_file=None, key_password=None, **kwargs):
            super().__init__(host, port, **kwargs)
            self.cert_reqs = cert_reqs
            self.assert_hostname = assert_hostname
            self.assert_fingerprint = assert_fingerprint
            self.server_hostname = server_hostname
            self.ssl_context = ssl_context
            self.ca_certs, self.ca_cert_dir, self.ca_cert_data = ca_certs, ca_cert_dir, ca_cert_data
            self.ssl_minimum_version, self.ssl_maximum_version = ssl_minimum_version, ssl_maximum_version
            self.ssl_version = ssl_version
            self.cert_file, self.key_file, self.key_password = cert_file, key_file, key_password

        def connect(self):
            super().connect()
            # What urllib3 reports (and warns about) for a verified or an
            # unverified connection; the host's client does the TLS.
            reqs = self.cert_reqs
            if reqs is None and self.ssl_context is not None:
                reqs = getattr(self.ssl_context, "verify_mode", None)
            self.is_verified = not (reqs == 0 or (isinstance(reqs, str)
                                                  and reqs.upper() in ("CERT_NONE", "NONE")))

        def set_cert(self, key_file=None, cert_file=None, cert_reqs=None, key_password=None,
                     ca_certs=None, assert_hostname=None, assert_fingerprint=None,
                     ca_cert_dir=None, ca_cert_data=None):
            self.cert_reqs = cert_reqs
            self.key_file, self.cert_file, self.key_password = key_file, cert_file, key_password
            self.ca_certs, self.ca_cert_dir, self.ca_cert_data = ca_certs, ca_cert_dir, ca_cert_data
            self.assert_hostname, self.assert_fingerprint = assert_hostname, assert_fingerprint

    for cls in (HostHTTPConnection, HostHTTPSConnection):
        cls.__module__ = mod.__name__
    mod.HostHTTPConnection = HostHTTPConnection
    mod.HostHTTPSConnection = HostHTTPSConnection
    mod.HTTPConnection = HostHTTPConnection
    mod.HTTPSConnection = mod.VerifiedHTTPSConnection = HostHTTPSConnection


# -------------------------------------------------------------------- httpx

def _patch_httpx_transports(mod):
    # httpx itself is still being imported: take the names from their modules.
    from httpx import _exceptions as hx
    from httpx._models import Response
    from httpx._transports.base import AsyncBaseTransport, BaseTransport
    from httpx._types import AsyncByteStream, SyncByteStream

    def _request_parts(request):
        timeouts = request.extensions.get("timeout") or {}
        pairs = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        return str(request.url), pairs, timeouts.get("read")

    def _head(resp, stream, request):
        return Response(
            resp.status, headers=list(resp.headers), stream=stream,
            extensions={"http_version": b"HTTP/1.1",
                        "reason_phrase": _reason(resp.status).encode("ascii")})

    class HostResponseStream(SyncByteStream):
        def __init__(self, resp, timeout, request):
            self._resp, self._timeout, self._request = resp, timeout, request

        def __iter__(self):
            while True:
                try:
                    chunk = next_chunk_sync(self._resp, self._timeout)
                except TimeoutError as e:
                    raise hx.ReadTimeout(str(e), request=self._request) from None
                except BodyBroken as e:
                    raise hx.ReadError(str(e), request=self._request) from None
                if chunk is None:
                    return
                yield chunk

        def close(self):
            self._resp.close()

    class AsyncHostResponseStream(AsyncByteStream):
        def __init__(self, resp, timeout, request):
            self._resp, self._timeout, self._request = resp, timeout, request

        async def __aiter__(self):
            while True:
                try:
                    chunk = await next_chunk_async(self._resp, self._timeout)
                except TimeoutError as e:
                    raise hx.ReadTimeout(str(e), request=self._request) from None
                except BodyBroken as e:
                    raise hx.ReadError(str(e), request=self._request) from None
                if chunk is None:
                    return
                yield chunk

        async def aclose(self):
            self._resp.close()

    class HostTransport(BaseTransport):
        """httpx's default transport in the sandbox: each request goes to
        the host's HTTP callback (``sandbox.http``), which does the
        connection and TLS. Takes ``HTTPTransport``'s arguments; the
        connection options (``verify``, ``cert``, ``http2``, ``limits``,
        ``proxy``, ``retries``, …) are the host's business and unused."""

        def __init__(self, verify=True, cert=None, trust_env=True, http1=True, http2=False,
                     limits=None, proxy=None, uds=None, local_address=None, retries=0,
                     socket_options=None):
            self.verify, self.cert, self.proxy = verify, cert, proxy

        def handle_request(self, request):
            url, pairs, timeout = _request_parts(request)
            body = request.read()
            try:
                resp = fetch_sync(request.method, url, pairs, body or None, timeout)
            except TimeoutError as e:
                raise hx.ReadTimeout(str(e), request=request) from None
            except HostRefused as e:
                raise hx.ConnectError(str(e), request=request) from None
            return _head(resp, HostResponseStream(resp, timeout, request), request)

        def close(self):
            pass

    class AsyncHostTransport(AsyncBaseTransport):
        """``HostTransport`` for ``httpx.AsyncClient``, on the sandbox's
        event loop: other tasks run while the host answers."""

        __init__ = HostTransport.__init__

        async def handle_async_request(self, request):
            url, pairs, timeout = _request_parts(request)
            body = await request.aread()
            try:
                resp = await fetch_async(request.method, url, pairs, body or None, timeout)
            except TimeoutError as e:
                raise hx.ReadTimeout(str(e), request=request) from None
            except HostRefused as e:
                raise hx.ConnectError(str(e), request=request) from None
            return _head(resp, AsyncHostResponseStream(resp, timeout, request), request)

        async def aclose(self):
            pass

    for cls, name in ((HostTransport, "HTTPTransport"), (AsyncHostTransport, "AsyncHTTPTransport")):
        cls.__module__ = mod.__name__
        setattr(mod, cls.__name__, cls)
        setattr(mod, name, cls)


# ------------------------------------------------------------- import hook

def _quiet_urllib3_openssl_check(module):
    """urllib3 warns at import (``NotOpenSSLWarning``) when ``ssl`` is not
    OpenSSL's; here no TLS is urllib3's (its connections are the host's),
    so the warning would only be noise on every program's stderr."""
    import warnings
    warnings.filterwarnings("ignore", message="urllib3 v2 only supports OpenSSL")


# module name -> (function run just before the module's code, function
# patching the module right after it), on its first import
PATCHES = {
    "urllib3": (_quiet_urllib3_openssl_check, None),
    "urllib3.connection": (None, _patch_urllib3_connection),
    "httpx._transports.default": (None, _patch_httpx_transports),
}


class _PatchingLoader(importlib.abc.Loader):
    """Runs the real loader between the two patches; everything else is the
    real loader's (``get_source`` for tracebacks, resources)."""

    def __init__(self, loader, patches):
        self._loader = loader
        self._before, self._after = patches

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        if self._before is not None:
            self._before(module)
        self._loader.exec_module(module)
        if self._after is not None:
            self._after(module)

    def __getattr__(self, name):
        return getattr(self._loader, name)


class PatchFinder:
    """On ``sys.meta_path`` before the path finder: for the modules in
    ``PATCHES`` only, finds the module as the path finder does and wraps its
    loader. One dictionary look-up for every other import."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):
        patches = PATCHES.get(fullname)
        if patches is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _PatchingLoader(spec.loader, patches)
        return spec

    @staticmethod
    def invalidate_caches():
        pass


def install():
    finders.insert_before_path_finder(PatchFinder)
