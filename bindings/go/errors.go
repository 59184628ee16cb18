package isola

// #include <stdlib.h>
// #include "isola.h"
import "C"

import (
	"fmt"
	"strings"
)

// ErrorCode is one of isola's stable error codes (isola_error_code_t).
type ErrorCode uint32

// The error codes of the C API. Their values never change meaning.
const (
	CodeInvalidArgument ErrorCode = C.ISOLA_ERROR_INVALID_ARGUMENT
	CodeInvalidState    ErrorCode = C.ISOLA_ERROR_INVALID_STATE
	CodeGuestException  ErrorCode = C.ISOLA_ERROR_GUEST_EXCEPTION
	CodeTimeout         ErrorCode = C.ISOLA_ERROR_TIMEOUT
	CodeCancelled       ErrorCode = C.ISOLA_ERROR_CANCELLED
	CodeMemoryLimit     ErrorCode = C.ISOLA_ERROR_MEMORY_LIMIT
	CodeOutputLimit     ErrorCode = C.ISOLA_ERROR_OUTPUT_LIMIT
	CodeIO              ErrorCode = C.ISOLA_ERROR_IO
	CodeTrap            ErrorCode = C.ISOLA_ERROR_TRAP
	CodeInternal        ErrorCode = C.ISOLA_ERROR_INTERNAL
	// CodeResourceExhausted: every sandbox place of the process is taken
	// (ConfigureEngine); close a sandbox and retry.
	CodeResourceExhausted ErrorCode = C.ISOLA_ERROR_RESOURCE_EXHAUSTED
)

var codeNames = map[ErrorCode]string{
	CodeInvalidArgument:   "INVALID_ARGUMENT",
	CodeInvalidState:      "INVALID_STATE",
	CodeGuestException:    "GUEST_EXCEPTION",
	CodeTimeout:           "TIMEOUT",
	CodeCancelled:         "CANCELLED",
	CodeMemoryLimit:       "MEMORY_LIMIT",
	CodeOutputLimit:       "OUTPUT_LIMIT",
	CodeIO:                "IO",
	CodeTrap:              "TRAP",
	CodeInternal:          "INTERNAL",
	CodeResourceExhausted: "RESOURCE_EXHAUSTED",
}

// String returns the stable name of the code, e.g. "TIMEOUT" (the same
// names as isola_error_code_name), or "UNKNOWN(n)".
func (c ErrorCode) String() string {
	if name, ok := codeNames[c]; ok {
		return name
	}
	return fmt.Sprintf("UNKNOWN(%d)", uint32(c))
}

// Error is an error reported by isola, or by this package with one of the
// same codes. Compare with the sentinel values using errors.Is:
//
//	if errors.Is(err, isola.ErrTimeout) { ... }
//
// A call stopped because its context ended also matches ctx.Err()
// (context.Canceled or context.DeadlineExceeded).
type Error struct {
	// Code classifies the failure.
	Code ErrorCode
	// Message explains it; for guest exceptions it is the Python traceback.
	Message string
	// GuestType is the Python exception type name (e.g. "ValueError") of a
	// CodeGuestException error, else "".
	GuestType string
	// ExitStatus is, for an uncaught SystemExit (GuestType "SystemExit",
	// sys.exit(N) in the guest), the status python would exit with: N as
	// a C int, or 1 for a non-integer code (printed on the guest's stderr).
	// 0 for every other error. sys.exit() and sys.exit(0) are no error.
	ExitStatus int

	cause error // wrapped error (the context's error for cancellations)
}

// Error implements the error interface.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("isola: ")
	b.WriteString(e.Code.String())
	if e.GuestType != "" {
		b.WriteString(" (")
		b.WriteString(e.GuestType)
		b.WriteString(")")
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Is reports whether target is a sentinel (an *Error with only a Code set)
// of the same code, so errors.Is(err, ErrTimeout) works for every timeout.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	if t == e {
		return true
	}
	return t.Message == "" && t.GuestType == "" && t.cause == nil && t.Code == e.Code
}

// Unwrap returns the wrapped cause, if any (the context's error when a call
// was cancelled through its context).
func (e *Error) Unwrap() error { return e.cause }

// Sentinel errors, one per code, for errors.Is.
var (
	ErrInvalidArgument   = &Error{Code: CodeInvalidArgument}
	ErrInvalidState      = &Error{Code: CodeInvalidState}
	ErrGuestException    = &Error{Code: CodeGuestException}
	ErrTimeout           = &Error{Code: CodeTimeout}
	ErrCancelled         = &Error{Code: CodeCancelled}
	ErrMemoryLimit       = &Error{Code: CodeMemoryLimit}
	ErrOutputLimit       = &Error{Code: CodeOutputLimit}
	ErrIO                = &Error{Code: CodeIO}
	ErrTrap              = &Error{Code: CodeTrap}
	ErrInternal          = &Error{Code: CodeInternal}
	ErrResourceExhausted = &Error{Code: CodeResourceExhausted}
)

// takeError converts and frees a C error; nil stays nil.
func takeError(cerr *C.isola_error_t) error {
	if cerr == nil {
		return nil
	}
	defer C.isola_error_free(cerr)
	var status C.int32_t
	if !C.isola_error_exit_status(cerr, &status) {
		status = 0
	}
	return &Error{
		Code:       ErrorCode(C.isola_error_code(cerr)),
		Message:    C.GoString(C.isola_error_message(cerr)),
		GuestType:  C.GoString(C.isola_error_guest_type(cerr)),
		ExitStatus: int(status),
	}
}

// dropError frees a C error whose details nobody needs.
func dropError(cerr *C.isola_error_t) {
	if cerr != nil {
		C.isola_error_free(cerr)
	}
}

func newError(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// cString copies s into C memory (free it with C.free). A NUL byte in s is
// ErrInvalidArgument naming what: the C string would end there, and the
// library would see only what comes before it (Eval of "x = 1\x00raise ..."
// ran "x = 1"; python refuses source holding a NUL byte).
func cString(what, s string) (*C.char, error) {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return nil, newError(CodeInvalidArgument, "%s contains a NUL byte at offset %d (a C string would end there)", what, i)
	}
	return C.CString(s), nil
}

func errClosed(what string) error {
	return newError(CodeInvalidState, "%s is closed", what)
}
