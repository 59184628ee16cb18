"""Route ``urllib.request`` http(s) through ``sandbox.http`` (no sockets)."""

import http
import http.client
import io
import urllib.error
import urllib.request

# Headers the host's HTTP client owns; forwarding urllib's copies could conflict.
_HOP_HEADERS = {"host", "content-length", "connection", "transfer-encoding"}


class HostHTTPResponse(io.BufferedIOBase):
    """The subset of ``http.client.HTTPResponse`` that urllib callers use."""

    def __init__(self, resp, url):
        super().__init__()
        self._resp = resp
        self._chunks = resp.iter_bytes()
        self._buf = b""
        self._eof = False
        self.url = url
        self.status = self.code = resp.status
        try:
            self.reason = self.msg = http.HTTPStatus(resp.status).phrase
        except ValueError:
            self.reason = self.msg = ""
        self.headers = http.client.HTTPMessage()
        for k, v in resp.headers:
            self.headers[k] = v
        self.version = 11

    # http.client.HTTPResponse / addinfourl API
    def getheader(self, name, default=None):
        values = self.headers.get_all(name)
        return ", ".join(values) if values else default

    def getheaders(self):
        return list(self.headers.items())

    def getcode(self):
        return self.status

    def geturl(self):
        return self.url

    def info(self):
        return self.headers

    # file API
    def readable(self):
        return True

    def _fill(self):
        if self._eof:
            return False
        try:
            self._buf += next(self._chunks)
            return True
        except StopIteration:
            self._eof = True
            return False

    def read(self, size=-1):
        if self.closed:
            raise ValueError("I/O operation on closed response")
        if size is None or size < 0:
            while self._fill():
                pass
            data, self._buf = self._buf, b""
            return data
        while len(self._buf) < size and self._fill():
            pass
        data, self._buf = self._buf[:size], self._buf[size:]
        return data

    def read1(self, size=-1):
        if not self._buf:
            self._fill()
        if size is None or size < 0:
            size = len(self._buf)
        data, self._buf = self._buf[:size], self._buf[size:]
        return data

    def readinto(self, b):
        data = self.read(len(b))
        b[:len(data)] = data
        return len(data)

    def readline(self, size=-1):
        while b"\n" not in self._buf and (size < 0 or len(self._buf) < size) and self._fill():
            pass
        end = self._buf.find(b"\n") + 1 or len(self._buf)
        if size >= 0:
            end = min(end, size)
        data, self._buf = self._buf[:end], self._buf[end:]
        return data

    def close(self):
        if not self.closed:
            self._resp.close()
        super().close()


def _read_body(data):
    if data is None or isinstance(data, (bytes, bytearray, memoryview)):
        return None if data is None else bytes(data)
    if isinstance(data, str):
        raise TypeError("POST data should be bytes, an iterable of bytes, or a file object. It cannot be of type str.")
    if hasattr(data, "read"):
        return bytes(data.read())
    return b"".join(bytes(part) for part in data)


def _do_open(self, http_class, req, **http_conn_args):
    # Replaces AbstractHTTPHandler.do_open for every http/https handler.
    from sandbox import http as sbhttp

    headers = [(k, v) for k, v in req.header_items() if k.lower() not in _HOP_HEADERS]
    try:
        resp = sbhttp.fetch_sync(req.get_method(), req.full_url, headers=headers, body=_read_body(req.data))
    except sbhttp.HTTPError as e:
        raise urllib.error.URLError(str(e)) from None
    return HostHTTPResponse(resp, req.full_url)


class HTTPSHandler(urllib.request.AbstractHTTPHandler):
    """https support without the ssl module (the host does TLS).

    Installed as ``urllib.request.HTTPSHandler``, which a CPython without
    ``ssl`` lacks: programs import it (fpdf2 does at import time) or build
    openers with it. ``context`` and ``check_hostname`` are accepted and
    kept, but certificates are the host's business."""

    def __init__(self, debuglevel=None, context=None, check_hostname=None):
        super().__init__(debuglevel)
        self._context = context
        self._check_hostname = check_hostname

    def https_open(self, req):
        return self.do_open(None, req)

    https_request = urllib.request.AbstractHTTPHandler.do_request_


_build_opener = urllib.request.build_opener


def build_opener(*handlers):
    """``urllib.request.build_opener`` that includes the https handler:
    the standard one adds ``HTTPSHandler`` only when ``http.client`` has
    ``HTTPSConnection``, which needs ``ssl``."""
    for h in handlers:
        if isinstance(h, HTTPSHandler) or (isinstance(h, type) and issubclass(h, HTTPSHandler)):
            break
    else:
        handlers += (HTTPSHandler,)
    return _build_opener(*handlers)


build_opener.__doc__ = _build_opener.__doc__


def install():
    urllib.request.AbstractHTTPHandler.do_open = _do_open
    if not hasattr(urllib.request, "HTTPSHandler"):
        HTTPSHandler.__module__ = build_opener.__module__ = "urllib.request"
        urllib.request.HTTPSHandler = HTTPSHandler
        urllib.request.__all__.append("HTTPSHandler")
        urllib.request.build_opener = build_opener
    # Proxies are the host's business.
    urllib.request.install_opener(urllib.request.build_opener(urllib.request.ProxyHandler({})))
