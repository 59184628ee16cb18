// Package isola runs untrusted Python inside a WebAssembly sandbox, in
// process, through the C API of libisola (include/isola.h).
//
// A Template holds a compiled Python runtime and default options; it is safe
// for concurrent use and creates Sandboxes in about a millisecond. A Sandbox
// is one isolated interpreter: Eval runs code in its module namespace, Call
// invokes a global function with JSON-encoded arguments, and every output
// (generator items, the result, stdout, stderr, logging records) reaches a
// Sink as it is produced. Privileged operations of the guest (host calls and
// HTTP) are answered by a Host.
//
// Lifetimes: Close every Template, Sandbox and Stream you create (Free for
// streams). Finalizers exist only as a safety net.
//
// Threading: a Sandbox serializes its calls with a mutex (a second goroutine
// waits for the first call to finish); Cancel never waits. Eval and Call are
// plain cgo calls: sink callbacks run on the calling goroutine, one at a
// time, in order, before the call returns. Host callbacks are answered from
// new goroutines, so several guest host calls (asyncio.gather) are served
// concurrently.
//
// Context: when the context of a call ends, the call is cancelled and
// returns an error matching ErrCancelled (and ctx.Err()). A cancelled, timed
// out or trapped sandbox is unusable afterwards (ErrInvalidState or
// ErrCancelled): close it and create another.
package isola

// #include "isola.h"
import "C"

import "fmt"

// HeaderVersion is the version of include/isola.h this package was compiled
// against, "MAJOR.MINOR.PATCH".
var HeaderVersion = fmt.Sprintf("%d.%d.%d",
	C.ISOLA_VERSION_MAJOR, C.ISOLA_VERSION_MINOR, C.ISOLA_VERSION_PATCH)

// Version returns the version of the linked library, "MAJOR.MINOR.PATCH".
func Version() string {
	return C.GoString(C.isola_version())
}
