package isola

// Go functions called by the C trampolines of shim.c. This file may only
// hold declarations in its preamble (cgo rule for files with //export).

/*
#include <stddef.h>
#include <stdint.h>
#include "isola.h"
*/
import "C"

import (
	"encoding/json"
	"net/http"
	"runtime/cgo"
	"unsafe"
)

//export isolaGoSinkValue
func isolaGoSinkValue(handle C.uintptr_t, kind C.int, data *C.uint8_t, n C.size_t) {
	st := cgo.Handle(handle).Value().(*callState)
	value := json.RawMessage(C.GoBytes(unsafe.Pointer(data), C.int(n)))
	st.deliver(func(s Sink) {
		if kind == 0 {
			s.OnItem(value)
		} else {
			s.OnResult(value)
		}
	})
}

//export isolaGoSinkText
func isolaGoSinkText(handle C.uintptr_t, kind C.int, text *C.char, n C.size_t) {
	st := cgo.Handle(handle).Value().(*callState)
	s := C.GoStringN(text, C.int(n))
	st.deliver(func(sink Sink) {
		if kind == 0 {
			sink.OnStdout(s)
		} else {
			sink.OnStderr(s)
		}
	})
}

//export isolaGoSinkLog
func isolaGoSinkLog(handle C.uintptr_t, level C.uint32_t, logger *C.char, loggerLen C.size_t, msg *C.char, msgLen C.size_t) {
	st := cgo.Handle(handle).Value().(*callState)
	l := C.GoStringN(logger, C.int(loggerLen))
	m := C.GoStringN(msg, C.int(msgLen))
	st.deliver(func(sink Sink) { sink.OnLog(int(level), l, m) })
}

//export isolaGoHostCall
func isolaGoHostCall(handle C.uintptr_t, name *C.char, nameLen C.size_t, payload *C.uint8_t, payloadLen C.size_t, reply *C.isola_reply_t) {
	hs := cgo.Handle(handle).Value().(*hostState)
	n := C.GoStringN(name, C.int(nameLen))
	p := json.RawMessage(C.GoBytes(unsafe.Pointer(payload), C.int(payloadLen)))
	go serveHostCall(hs, hs.context(), n, p, reply)
}

//export isolaGoHostHTTP
func isolaGoHostHTTP(handle C.uintptr_t, req *C.isola_http_request_t, reply *C.isola_http_reply_t) {
	hs := cgo.Handle(handle).Value().(*hostState)
	r := &HTTPRequest{
		Method: C.GoString(req.method),
		URL:    C.GoString(req.url),
		Header: http.Header{},
	}
	if req.header_count > 0 {
		for _, h := range unsafe.Slice(req.headers, int(req.header_count)) {
			r.Header.Add(C.GoString(h.name), C.GoString(h.value))
		}
	}
	if req.body != nil {
		r.Body = C.GoBytes(unsafe.Pointer(req.body), C.int(req.body_len))
	}
	go serveHTTP(hs, hs.context(), r, reply)
}

//export isolaGoHostFree
func isolaGoHostFree(handle C.uintptr_t) {
	cgo.Handle(handle).Delete()
}
