package isola

// #include <stdlib.h>
// #include "isola.h"
import "C"

import (
	"encoding/json"
	"runtime"
	"sync"
	"unsafe"
)

// Stream is a bounded queue of values feeding one guest iterator argument
// (pass it with CallArgs.Stream or CallArgs.NamedStream). Push, Close and
// Fail are safe from any goroutine while a call consumes the stream. A
// stream feeds exactly one call.
type Stream struct {
	mu       sync.Mutex
	ptr      *C.isola_stream_t
	inflight int  // C calls using ptr right now
	freed    bool // Free was called; ptr goes when inflight drops to 0
}

// NewStream creates a stream holding at most capacity (> 0) unread values;
// a Push beyond that blocks until the guest reads.
func NewStream(capacity int) (*Stream, error) {
	if capacity <= 0 {
		return nil, newError(CodeInvalidArgument, "stream capacity must be greater than 0")
	}
	var out *C.isola_stream_t
	if err := takeError(C.isola_stream_new(C.size_t(capacity), &out)); err != nil {
		return nil, err
	}
	s := &Stream{ptr: out}
	runtime.SetFinalizer(s, (*Stream).finalize)
	return s, nil
}

func (s *Stream) acquire() (*C.isola_stream_t, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.freed || s.ptr == nil {
		return nil, errClosed("stream")
	}
	s.inflight++
	return s.ptr, nil
}

func (s *Stream) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inflight--
	if s.freed && s.inflight == 0 && s.ptr != nil {
		C.isola_stream_free(s.ptr)
		s.ptr = nil
	}
}

// Push appends v, encoded with encoding/json. It blocks while the stream is
// full, so push from a goroutine other than the one making the call (or push
// at most capacity values before the call). It fails with ErrInvalidState
// once the stream is closed or failed or its call has ended, also when it
// is blocked on a full stream at that moment.
func (s *Stream) Push(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return &Error{Code: CodeInvalidArgument, Message: "encoding stream value: " + err.Error(), cause: err}
	}
	return s.PushJSON(b)
}

// PushJSON appends a value already encoded as JSON, like Push.
func (s *Stream) PushJSON(value json.RawMessage) error {
	p, err := s.acquire()
	if err != nil {
		return err
	}
	defer s.release()
	text, err := cString("value", string(value))
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(text))
	return takeError(C.isola_stream_push_json(p, text))
}

// Close ends the input: the guest's iterator finishes after the values
// already pushed, and further pushes fail. Closing twice is allowed.
func (s *Stream) Close() error {
	p, err := s.acquire()
	if err != nil {
		return nil // a freed stream is closed
	}
	defer s.release()
	return takeError(C.isola_stream_close(p))
}

// Fail ends the input with an error: after the values already pushed, the
// guest's iteration (for or async for) raises sandbox.StreamError(msg). Like
// Push it blocks while the stream is full. The stream is closed afterwards,
// so further pushes fail with ErrInvalidState.
func (s *Stream) Fail(msg string) error {
	p, err := s.acquire()
	if err != nil {
		return err
	}
	defer s.release()
	text := C.CString(msg)
	defer C.free(unsafe.Pointer(text))
	return takeError(C.isola_stream_fail(p, text))
}

// Free releases the stream; a call still reading it sees its end. Pushes
// blocked in other goroutines keep the stream alive until they return.
// Freeing twice is allowed.
func (s *Stream) Free() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.freed {
		return
	}
	s.freed = true
	runtime.SetFinalizer(s, nil)
	if s.ptr != nil {
		dropError(C.isola_stream_close(s.ptr))
		if s.inflight == 0 {
			C.isola_stream_free(s.ptr)
			s.ptr = nil
		}
	}
}

func (s *Stream) finalize() {
	if s.ptr != nil {
		C.isola_stream_free(s.ptr)
		s.ptr = nil
	}
}
