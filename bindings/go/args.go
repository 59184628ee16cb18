package isola

// #include <stdlib.h>
// #include "isola.h"
import "C"

import (
	"encoding/json"
	"unsafe"
)

// CallArgs is an ordered argument list for Sandbox.CallArgs, mirroring
// isola_args_t: positional arguments first, then keyword arguments (as in
// Python). Its methods return the list for chaining; an encoding error is
// reported by the call. The zero value is an empty list.
//
//	args := new(isola.CallArgs).Arg(10).Stream(values).Named("scale", 2)
type CallArgs struct {
	items []argItem
	err   error
}

type argItem struct {
	name   string
	named  bool
	json   []byte
	stream *Stream
}

// Args returns a list holding the positional arguments vals.
func Args(vals ...any) *CallArgs {
	a := &CallArgs{}
	for _, v := range vals {
		a.Arg(v)
	}
	return a
}

func (a *CallArgs) add(name string, named bool, v any) *CallArgs {
	b, err := json.Marshal(v)
	if err != nil && a.err == nil {
		a.err = &Error{Code: CodeInvalidArgument, Message: "encoding argument: " + err.Error(), cause: err}
	}
	a.items = append(a.items, argItem{name: name, named: named, json: b})
	return a
}

// Arg appends a positional argument encoded with encoding/json.
func (a *CallArgs) Arg(v any) *CallArgs { return a.add("", false, v) }

// Named appends keyword argument name encoded with encoding/json.
func (a *CallArgs) Named(name string, v any) *CallArgs { return a.add(name, true, v) }

// Stream appends a positional iterator argument fed by s.
func (a *CallArgs) Stream(s *Stream) *CallArgs {
	a.items = append(a.items, argItem{stream: s})
	return a
}

// NamedStream appends keyword iterator argument name fed by s.
func (a *CallArgs) NamedStream(name string, s *Stream) *CallArgs {
	a.items = append(a.items, argItem{name: name, named: true, stream: s})
	return a
}

// build creates the C list; the caller frees it with isola_args_free.
func (a *CallArgs) build() (*C.isola_args_t, error) {
	if a == nil {
		return nil, nil
	}
	if a.err != nil {
		return nil, a.err
	}
	cargs := C.isola_args_new()
	if cargs == nil {
		return nil, newError(CodeInternal, "isola_args_new failed")
	}
	for _, it := range a.items {
		if err := it.addTo(cargs); err != nil {
			C.isola_args_free(cargs)
			return nil, err
		}
	}
	return cargs, nil
}

func (it *argItem) addTo(cargs *C.isola_args_t) error {
	var cname *C.char
	if it.named {
		var err error
		if cname, err = cString("argument name", it.name); err != nil {
			return err
		}
		defer C.free(unsafe.Pointer(cname))
	}
	if it.stream == nil {
		cjson, err := cString("argument JSON", string(it.json))
		if err != nil {
			return err
		}
		defer C.free(unsafe.Pointer(cjson))
		return takeError(C.isola_args_add_json(cargs, cname, cjson))
	}
	p, err := it.stream.acquire()
	if err != nil {
		return err
	}
	defer it.stream.release()
	return takeError(C.isola_args_add_stream(cargs, cname, p))
}
