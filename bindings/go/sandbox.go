package isola

// #include <stdlib.h>
// #include "shim.h"
import "C"

import (
	"context"
	"encoding/json"
	"runtime"
	"runtime/cgo"
	"sync"
	"time"
	"unsafe"
)

// Sandbox is one isolated Python interpreter. Its methods are safe to call
// from several goroutines, but calls are serialized: a second Eval or Call
// waits until the running one returns, or until its own context ends. Cancel
// and Close never wait.
//
// After ErrTimeout, ErrCancelled or ErrTrap the sandbox is unusable: Close
// it and create a new one (about a millisecond).
type Sandbox struct {
	turn chan struct{} // one call at a time; waiting honours the context
	life sync.Mutex    // guards the fields below; never held during a call
	ptr  *C.isola_sandbox_t
	// cancel stops the running call; valid until destroy, after ptr.
	cancel   *C.isola_cancel_handle_t
	inflight int  // calls using ptr right now
	closed   bool // Close was called; destroy when inflight drops to 0
	host     *hostState
}

func newSandbox(ptr *C.isola_sandbox_t, hs *hostState) (*Sandbox, error) {
	var handle *C.isola_cancel_handle_t
	if err := takeError(C.isola_sandbox_cancel_handle(ptr, &handle)); err != nil {
		C.isola_sandbox_free(ptr)
		return nil, err
	}
	s := &Sandbox{turn: make(chan struct{}, 1), ptr: ptr, cancel: handle, host: hs}
	runtime.SetFinalizer(s, (*Sandbox).finalize)
	return s, nil
}

// Close frees the sandbox without waiting: a call running on it (in another
// goroutine, or the one whose Host callback calls Close) is cancelled and
// the sandbox is freed when that call returns. Closing twice is allowed;
// using a closed sandbox fails with ErrInvalidState.
func (s *Sandbox) Close() error {
	s.life.Lock()
	defer s.life.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	runtime.SetFinalizer(s, nil)
	if s.inflight == 0 {
		s.destroy()
	} else {
		s.cancelLocked()
	}
	return nil
}

// destroy frees the C objects; s.life is held and nothing uses them.
func (s *Sandbox) destroy() {
	if s.ptr != nil {
		C.isola_sandbox_free(s.ptr)
		s.ptr = nil
	}
	if s.cancel != nil {
		C.isola_cancel_handle_free(s.cancel)
		s.cancel = nil
	}
}

func (s *Sandbox) finalize() {
	s.life.Lock()
	defer s.life.Unlock()
	s.destroy()
}

// acquire marks a use of ptr; release ends it (and completes a Close).
func (s *Sandbox) acquire() (*C.isola_sandbox_t, error) {
	s.life.Lock()
	defer s.life.Unlock()
	if s.closed || s.ptr == nil {
		return nil, errClosed("sandbox")
	}
	s.inflight++
	return s.ptr, nil
}

func (s *Sandbox) release() {
	s.life.Lock()
	defer s.life.Unlock()
	s.inflight--
	if s.closed && s.inflight == 0 {
		s.destroy()
	}
}

// cancelLocked cancels the running call, if any; s.life is held.
func (s *Sandbox) cancelLocked() bool {
	if s.cancel == nil {
		return false
	}
	var outcome C.isola_cancel_outcome_t
	dropError(C.isola_cancel_handle_cancel(s.cancel, &outcome))
	return outcome == C.ISOLA_CANCEL_REQUESTED
}

// Cancel stops the running call from any goroutine, without waiting for it:
// the call returns ErrCancelled and the sandbox must then be closed. It
// reports whether a call was running; with none running it does nothing
// (a cancel never reaches a later call).
func (s *Sandbox) Cancel() (bool, error) {
	s.life.Lock()
	defer s.life.Unlock()
	if s.closed {
		return false, errClosed("sandbox")
	}
	return s.cancelLocked(), nil
}

// enter waits for the sandbox's turn (or for ctx to end) and marks a use of
// the C sandbox; the returned function ends both.
func (s *Sandbox) enter(ctx context.Context) (*C.isola_sandbox_t, func(), error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		// Nothing ran; the sandbox stays usable.
		return nil, nil, &Error{Code: CodeCancelled, Message: "context ended before the call started", cause: err}
	}
	select {
	case s.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, &Error{Code: CodeCancelled, Message: "context ended while waiting for the sandbox", cause: ctx.Err()}
	}
	p, err := s.acquire()
	if err != nil {
		<-s.turn
		return nil, nil, err
	}
	return p, func() {
		s.release()
		<-s.turn
	}, nil
}

// SetTimeout replaces the time limit of each following call (0 or negative:
// none), rounded up to whole milliseconds.
func (s *Sandbox) SetTimeout(d time.Duration) error {
	p, leave, err := s.enter(context.Background())
	if err != nil {
		return err
	}
	defer leave()
	ms, _ := timeoutMillis(d)
	if d < 0 {
		ms = 0
	}
	return takeError(C.isola_sandbox_set_timeout_ms(p, C.uint64_t(ms)))
}

// IsUsable reports whether the sandbox can still run calls: false after a
// timeout, a cancelled call, a trap or an internal error during a call
// (Close it then). It waits for a running call to return.
func (s *Sandbox) IsUsable() (bool, error) {
	p, leave, err := s.enter(context.Background())
	if err != nil {
		return false, err
	}
	defer leave()
	var out C.bool
	err = takeError(C.isola_sandbox_is_usable(p, &out))
	return bool(out), err
}

// MemoryUsage returns the bytes of linear memory the sandbox holds. It never
// waits: call it from any goroutine, also while a call runs (a watchdog, a
// dashboard) and from inside a Host or Sink callback.
func (s *Sandbox) MemoryUsage() (uint64, error) {
	p, err := s.acquire()
	if err != nil {
		return 0, err
	}
	defer s.release()
	var out C.uint64_t
	err = takeError(C.isola_sandbox_memory_usage(p, &out))
	return uint64(out), err
}

// Eval runs Python source in the sandbox's module namespace; definitions
// persist for later calls. Top-level await is allowed. sink may be nil.
//
// Like a notebook cell, a successful Eval delivers exactly one OnResult: the
// value of the script's final expression statement, null when the script
// ends with another statement, and the value's repr text (a JSON string)
// when it has no JSON form. EvalResult returns that value directly.
func (s *Sandbox) Eval(ctx context.Context, code string, sink Sink) error {
	ccode, err := cString("code", code)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(ccode))
	return s.run(ctx, sink, func(p *C.isola_sandbox_t, cs *C.isola_sink_t) *C.isola_error_t {
		return C.isola_sandbox_eval(p, ccode, cs)
	})
}

// EvalResult runs code like Eval and returns its result: the value of the
// final expression statement as JSON ("x = 20\nx + 22" gives 42), or null
// when the script does not end with an expression. Stdout, stderr, logs and
// items are dropped.
func (s *Sandbox) EvalResult(ctx context.Context, code string) (json.RawMessage, error) {
	var c Collector
	if err := s.Eval(ctx, code, &c); err != nil {
		return nil, err
	}
	return c.Result(), nil
}

// EvalNamed runs Python source like Eval, named filename in tracebacks,
// linecache and inspect (python's compile(code, filename, "exec")), for
// example the host path it was read from. Eval's sources are named
// <script-1>, <script-2>, ...; __file__ is not set.
func (s *Sandbox) EvalNamed(ctx context.Context, code, filename string, sink Sink) error {
	ccode, err := cString("code", code)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(ccode))
	cname, err := cString("filename", filename)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cname))
	return s.run(ctx, sink, func(p *C.isola_sandbox_t, cs *C.isola_sink_t) *C.isola_error_t {
		return C.isola_sandbox_eval_named(p, ccode, cname, cs)
	})
}

// EvalFile runs the Python file at guestPath (inside a mount) like Eval,
// including its one OnResult.
func (s *Sandbox) EvalFile(ctx context.Context, guestPath string, sink Sink) error {
	cpath, err := cString("guestPath", guestPath)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cpath))
	return s.run(ctx, sink, func(p *C.isola_sandbox_t, cs *C.isola_sink_t) *C.isola_error_t {
		return C.isola_sandbox_eval_file(p, cpath, cs)
	})
}

// Call calls the global function fn with args and kwargs encoded by
// encoding/json (nil for none; json.RawMessage values pass through as is).
// Async functions are awaited; generators stream each item to the sink, then
// the return value as the result.
func (s *Sandbox) Call(ctx context.Context, fn string, args []any, kwargs map[string]any, sink Sink) error {
	var argsJSON, kwargsJSON string
	if args != nil {
		b, err := json.Marshal(args)
		if err != nil {
			return &Error{Code: CodeInvalidArgument, Message: "encoding args: " + err.Error(), cause: err}
		}
		argsJSON = string(b)
	}
	if kwargs != nil {
		b, err := json.Marshal(kwargs)
		if err != nil {
			return &Error{Code: CodeInvalidArgument, Message: "encoding kwargs: " + err.Error(), cause: err}
		}
		kwargsJSON = string(b)
	}
	return s.CallJSON(ctx, fn, argsJSON, kwargsJSON, sink)
}

// CallJSON is Call with the arguments already encoded: argsJSON a JSON array
// and kwargsJSON a JSON object, each "" for none.
func (s *Sandbox) CallJSON(ctx context.Context, fn, argsJSON, kwargsJSON string, sink Sink) error {
	cfn, err := cString("fn", fn)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cfn))
	var cargs, ckwargs *C.char
	if argsJSON != "" {
		if cargs, err = cString("argsJSON", argsJSON); err != nil {
			return err
		}
		defer C.free(unsafe.Pointer(cargs))
	}
	if kwargsJSON != "" {
		if ckwargs, err = cString("kwargsJSON", kwargsJSON); err != nil {
			return err
		}
		defer C.free(unsafe.Pointer(ckwargs))
	}
	return s.run(ctx, sink, func(p *C.isola_sandbox_t, cs *C.isola_sink_t) *C.isola_error_t {
		return C.isola_sandbox_call_json(p, cfn, cargs, ckwargs, cs)
	})
}

// CallResult calls fn with positional args and returns its result as JSON.
// Generator items, stdout, stderr and logs are dropped.
func (s *Sandbox) CallResult(ctx context.Context, fn string, args ...any) (json.RawMessage, error) {
	if args == nil {
		args = []any{}
	}
	var c Collector
	if err := s.Call(ctx, fn, args, nil, &c); err != nil {
		return nil, err
	}
	return c.Result(), nil
}

// CallAs calls fn with positional args and decodes its result into a T.
func CallAs[T any](ctx context.Context, s *Sandbox, fn string, args ...any) (T, error) {
	var out T
	raw, err := s.CallResult(ctx, fn, args...)
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return out, &Error{Code: CodeInvalidArgument, Message: "decoding result: " + err.Error(), cause: err}
	}
	return out, nil
}

// CallArgs calls fn with an argument list that may contain streams. The
// list is consumed: build a new CallArgs for every call.
func (s *Sandbox) CallArgs(ctx context.Context, fn string, args *CallArgs, sink Sink) error {
	cargs, err := args.build()
	if err != nil {
		return err
	}
	defer C.isola_args_free(cargs)
	cfn, err := cString("fn", fn)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cfn))
	return s.run(ctx, sink, func(p *C.isola_sandbox_t, cs *C.isola_sink_t) *C.isola_error_t {
		return C.isola_sandbox_call(p, cfn, cargs, cs)
	})
}

// callFunc performs one eval or call of the library and returns its error
// (nil on success).
type callFunc func(p *C.isola_sandbox_t, cs *C.isola_sink_t) *C.isola_error_t

// run performs one C call with the sink, the host context and the context
// watcher in place. The call is a plain cgo call on this goroutine's thread:
// libisola delivers sink callbacks (and starts host calls) on the calling
// thread's own stack, so they re-enter Go on this same goroutine before the
// call returns.
func (s *Sandbox) run(ctx context.Context, sink Sink, call callFunc) error {
	if ctx == nil {
		ctx = context.Background()
	}
	p, leave, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer leave()

	st := &callState{sink: sink}
	var csink *C.isola_sink_t
	if sink != nil {
		h := cgo.NewHandle(st)
		defer h.Delete()
		csink = (*C.isola_sink_t)(C.malloc(C.size_t(unsafe.Sizeof(C.isola_sink_t{}))))
		defer C.free(unsafe.Pointer(csink))
		C.isola_go_sink_init(csink, C.uintptr_t(h))
	}

	callCtx, endCall := context.WithCancel(ctx)
	defer endCall()
	if s.host != nil {
		s.host.setContext(callCtx)
		defer s.host.setContext(nil)
	}

	var (
		stop  chan struct{}
		fired chan bool
	)
	if ctx.Done() != nil {
		stop, fired = make(chan struct{}), make(chan bool, 1)
		go func() {
			select {
			case <-ctx.Done():
				// Call-scoped: once the call below has returned this does
				// nothing, so it can never stop a later call.
				s.life.Lock()
				s.cancelLocked()
				s.life.Unlock()
				fired <- true
			case <-stop:
				fired <- false
			}
		}()
	}

	cerr := call(p, csink)

	cancelled := false
	if stop != nil {
		close(stop)
		cancelled = <-fired
	}
	err = takeError(cerr)
	if cancelled {
		if e, ok := err.(*Error); ok && e.Code == CodeCancelled {
			e.cause = ctx.Err()
		}
		// Otherwise the call finished before the cancel reached it: the
		// result stands.
	}
	if st.panicked {
		panic(st.panicVal)
	}
	return err
}
