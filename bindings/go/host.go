package isola

// #include <stdlib.h>
// #include "shim.h"
import "C"

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/cgo"
	"sort"
	"sync"
	"unsafe"
)

// Host answers the privileged operations of guest code.
//
// Each request is served on its own goroutine, so a guest awaiting several
// host calls at once (asyncio.gather) gets concurrent answers. ctx is the
// context of the Eval or Call during which the guest asked; it is cancelled
// when that call returns. Implementations must be safe for concurrent use.
type Host interface {
	// HostCall answers `await sandbox.hostcall(name, payload)`. payload is
	// the JSON encoding of the guest's payload; the returned JSON becomes
	// the guest's answer (nil means null). An error raises
	// sandbox.HostError(err.Error()) in the guest.
	HostCall(ctx context.Context, name string, payload json.RawMessage) (json.RawMessage, error)
	// HTTPRequest answers sandbox.http requests and urllib.request.urlopen.
	// An error raises sandbox.http.HTTPError in the guest.
	HTTPRequest(ctx context.Context, req *HTTPRequest) (*HTTPResponse, error)
}

// HTTPRequest is a guest HTTP request.
type HTTPRequest struct {
	Method string
	URL    string
	Header http.Header
	// Body is nil when the request has none.
	Body []byte
}

// HTTPResponse is the host's answer to an HTTPRequest.
type HTTPResponse struct {
	// Status is the HTTP status code; 0 means 200.
	Status int
	Header http.Header
	Body   []byte
	// BodyStream, when not nil, streams the body instead of Body: the
	// guest gets Status and Header at once and reads each chunk as soon as
	// Read returns it (server-sent events, a model's tokens). io.EOF ends
	// the body; another error fails the guest's read with HTTPError. It is
	// read on a goroutine of its own, at most BodyStreamChunk bytes per
	// Read, and closed afterwards when it is an io.Closer. Reading stops
	// early once the call that made the request is over (its context is
	// cancelled then too).
	BodyStream io.Reader
}

// BodyStreamChunk is the largest chunk read from HTTPResponse.BodyStream
// at once; streamedChunks chunks may wait unread before reading pauses.
const (
	BodyStreamChunk = 32 << 10
	streamedChunks  = 16
)

// ErrNotSupported is returned by HostFuncs for an operation without a
// function; the guest sees it as a HostError / HTTPError.
var ErrNotSupported = errors.New("isola: operation not supported by this host")

// HostFuncs adapts functions to the Host interface; nil fields refuse the
// operation with ErrNotSupported.
type HostFuncs struct {
	Call func(ctx context.Context, name string, payload json.RawMessage) (json.RawMessage, error)
	HTTP func(ctx context.Context, req *HTTPRequest) (*HTTPResponse, error)
}

// HostCall implements Host.
func (h HostFuncs) HostCall(ctx context.Context, name string, payload json.RawMessage) (json.RawMessage, error) {
	if h.Call == nil {
		return nil, fmt.Errorf("%w: hostcall %q", ErrNotSupported, name)
	}
	return h.Call(ctx, name, payload)
}

// HTTPRequest implements Host.
func (h HostFuncs) HTTPRequest(ctx context.Context, req *HTTPRequest) (*HTTPResponse, error) {
	if h.HTTP == nil {
		return nil, fmt.Errorf("%w: HTTP %s %s", ErrNotSupported, req.Method, req.URL)
	}
	return h.HTTP(ctx, req)
}

// hostState is what the C host table's user_data (a cgo.Handle) refers to:
// one per sandbox, so callbacks can see the context of the running call.
type hostState struct {
	host Host
	mu   sync.Mutex
	ctx  context.Context
}

func (h *hostState) setContext(ctx context.Context) {
	h.mu.Lock()
	h.ctx = ctx
	h.mu.Unlock()
}

func (h *hostState) context() context.Context {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ctx == nil {
		return context.Background()
	}
	return h.ctx
}

// attachHost sets a Go host on C sandbox options. The library owns the
// handle from then on and deletes it through user_data_free.
func attachHost(copts *C.isola_sandbox_options_t, host Host) (*hostState, error) {
	hs := &hostState{host: host}
	h := cgo.NewHandle(hs)
	var table C.isola_host_t
	C.isola_go_host_init(&table, C.uintptr_t(h))
	if err := takeError(C.isola_sandbox_options_set_host(copts, &table)); err != nil {
		h.Delete() // not taken: the library never calls user_data_free then
		return nil, err
	}
	return hs, nil
}

func panicError(what string, v any) error {
	return fmt.Errorf("isola: %s panicked: %v", what, v)
}

// serveHostCall runs on its own goroutine and completes reply exactly once.
func serveHostCall(hs *hostState, ctx context.Context, name string, payload json.RawMessage, reply *C.isola_reply_t) {
	var (
		answer json.RawMessage
		err    error
	)
	func() {
		defer func() {
			if v := recover(); v != nil {
				err = panicError("Host.HostCall", v)
			}
		}()
		answer, err = hs.host.HostCall(ctx, name, payload)
	}()
	if err != nil {
		msg := C.CString(err.Error())
		dropError(C.isola_reply_error(reply, msg))
		C.free(unsafe.Pointer(msg))
		return
	}
	if len(answer) == 0 {
		answer = json.RawMessage("null")
	}
	text := C.CString(string(answer))
	// An invalid answer still consumes the reply; the guest sees the
	// parse error.
	dropError(C.isola_reply_ok_json(reply, text))
	C.free(unsafe.Pointer(text))
}

// serveHTTP runs on its own goroutine and completes reply exactly once.
func serveHTTP(hs *hostState, ctx context.Context, req *HTTPRequest, reply *C.isola_http_reply_t) {
	var (
		resp *HTTPResponse
		err  error
	)
	func() {
		defer func() {
			if v := recover(); v != nil {
				err = panicError("Host.HTTPRequest", v)
			}
		}()
		resp, err = hs.host.HTTPRequest(ctx, req)
	}()
	if err == nil && resp == nil {
		err = errors.New("isola: Host.HTTPRequest returned no response")
	}
	if err == nil && (resp.Status < 0 || resp.Status > 65535) {
		err = fmt.Errorf("isola: invalid HTTP status %d", resp.Status)
	}
	if err != nil {
		msg := C.CString(err.Error())
		dropError(C.isola_http_reply_error(reply, msg))
		C.free(unsafe.Pointer(msg))
		return
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	names := make([]string, 0, len(resp.Header))
	for name := range resp.Header {
		names = append(names, name)
	}
	sort.Strings(names)
	var headers []C.isola_header_t
	var cstrings []*C.char
	for _, name := range names {
		for _, value := range resp.Header[name] {
			n, v := C.CString(name), C.CString(value)
			cstrings = append(cstrings, n, v)
			headers = append(headers, C.isola_header_t{name: n, value: v})
		}
	}
	var hdrPtr *C.isola_header_t
	if len(headers) > 0 {
		hdrPtr = &headers[0]
	}
	if resp.BodyStream != nil {
		var body *C.isola_http_body_t
		err := takeError(C.isola_http_reply_start(reply, C.uint16_t(status), hdrPtr,
			C.size_t(len(headers)), streamedChunks, &body))
		freeCStrings(cstrings)
		if err != nil {
			closeBody(resp.BodyStream)
			return
		}
		streamBody(body, resp.BodyStream)
		return
	}
	var bodyPtr *C.uint8_t
	if len(resp.Body) > 0 {
		bodyPtr = (*C.uint8_t)(unsafe.Pointer(&resp.Body[0]))
	}
	dropError(C.isola_http_reply_ok(reply, C.uint16_t(status), hdrPtr, C.size_t(len(headers)),
		bodyPtr, C.size_t(len(resp.Body))))
	freeCStrings(cstrings)
}

func freeCStrings(strings []*C.char) {
	for _, s := range strings {
		C.free(unsafe.Pointer(s))
	}
}

func closeBody(r io.Reader) {
	if c, ok := r.(io.Closer); ok {
		_ = c.Close()
	}
}

// streamBody pushes r into body chunk by chunk until EOF (end), an error
// (fail) or the guest's call is over (the push fails), then frees body.
// It runs on serveHTTP's goroutine, never on the thread making the call,
// so the blocking push is allowed.
func streamBody(body *C.isola_http_body_t, r io.Reader) {
	defer C.isola_http_body_free(body)
	defer closeBody(r)
	buf := (*[BodyStreamChunk]byte)(C.malloc(BodyStreamChunk))
	defer C.free(unsafe.Pointer(buf))
	for {
		n, err := readChunk(r, buf[:])
		if n > 0 {
			if takeError(C.isola_http_body_push(body, (*C.uint8_t)(unsafe.Pointer(&buf[0])), C.size_t(n))) != nil {
				return // abandoned: the call is over or the guest stopped reading
			}
		}
		if err == io.EOF {
			dropError(C.isola_http_body_end(body))
			return
		}
		if err != nil {
			msg := C.CString(err.Error())
			dropError(C.isola_http_body_fail(body, msg))
			C.free(unsafe.Pointer(msg))
			return
		}
	}
}

// readChunk is r.Read that turns a panic into an error.
func readChunk(r io.Reader, buf []byte) (n int, err error) {
	defer func() {
		if v := recover(); v != nil {
			n, err = 0, panicError("HTTPResponse.BodyStream.Read", v)
		}
	}()
	return r.Read(buf)
}
