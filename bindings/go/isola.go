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

// ConfigureEngine sets the process-wide capacity before the first Template
// is created: at most maxSandboxes sandboxes alive at once (0: the default,
// 1000 or $ISOLA_MAX_SANDBOXES) and a hard memory ceiling per sandbox of
// maxMemoryPerSandbox bytes (64 KiB to 4 GiB; 0: 4 GiB). Creating a sandbox
// beyond the limit fails with ErrResourceExhausted. After the first Template
// it fails with ErrInvalidState.
func ConfigureEngine(maxSandboxes uint32, maxMemoryPerSandbox uint64) error {
	return takeError(C.isola_configure_engine(C.uint32_t(maxSandboxes), C.uint64_t(maxMemoryPerSandbox)))
}

// Capacity is the process's sandbox capacity and use.
type Capacity struct {
	LiveSandboxes       uint32 // sandboxes alive now
	MaxSandboxes        uint32 // most alive at once
	MaxMemoryPerSandbox uint64 // hard ceiling of one sandbox's memory, bytes
}

// CurrentCapacity reports the process's sandbox capacity and use.
func CurrentCapacity() (Capacity, error) {
	var c C.isola_capacity_t
	if err := takeError(C.isola_capacity(&c)); err != nil {
		return Capacity{}, err
	}
	return Capacity{
		LiveSandboxes:       uint32(c.live_sandboxes),
		MaxSandboxes:        uint32(c.max_sandboxes),
		MaxMemoryPerSandbox: uint64(c.max_memory_per_sandbox),
	}, nil
}
