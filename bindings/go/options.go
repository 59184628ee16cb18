package isola

// #include <stdlib.h>
// #include "isola.h"
import "C"

import (
	"sort"
	"strings"
	"time"
	"unsafe"
)

// Mount makes a host directory visible to the guest.
type Mount struct {
	// Host is the directory on the host.
	Host string
	// Guest is the absolute path where the guest sees it.
	Guest string
	// ReadWrite lets the guest create, write and delete; otherwise the
	// mount is read-only.
	ReadWrite bool
}

// SandboxOptions are per-sandbox settings. Zero fields inherit the
// template's defaults (and the library's defaults beyond that).
type SandboxOptions struct {
	// MaxMemory caps the sandbox's linear memory in bytes (0: inherit).
	// Allocations past it raise Python MemoryError; the sandbox stays usable.
	MaxMemory uint64
	// Timeout limits each Eval or Call (0: inherit; negative: no limit).
	// A call past it fails with ErrTimeout and the sandbox becomes unusable.
	// It is rounded up to whole milliseconds.
	Timeout time.Duration
	// MaxValueBytes caps one emitted value and one HTTP response body
	// (0: inherit; library default 16 MiB).
	MaxValueBytes uint64
	// MaxOutputBytes caps everything one call emits (0: inherit; library
	// default 64 MiB).
	MaxOutputBytes uint64
	// Mounts are host directories visible to the guest; a later mount at
	// the same guest path replaces an earlier one.
	Mounts []Mount
	// Env sets variables of the guest's os.environ.
	Env map[string]string
	// Stdin is what the guest reads from standard input (sys.stdin,
	// input()), then end-of-file; read once over the sandbox's life, across
	// calls. nil inherits (by default stdin is empty); the bytes are copied.
	Stdin []byte
	// Argv is the guest's command line, sys.argv: Argv[0] is the program
	// (script) name, then its arguments (copied). nil inherits (by default
	// sys.argv is ['sandbox']); set per sandbox it replaces the template
	// default's whole list. An empty non-nil list, or a string holding a
	// NUL byte or invalid UTF-8, is ErrInvalidArgument.
	Argv []string
	// Host answers the guest's host calls and HTTP requests. nil inherits
	// the template's default host; with none, those operations raise in the
	// guest.
	Host Host
}

// timeoutMillis converts a Timeout to the C API's milliseconds; ok is false
// when the option is not set.
func timeoutMillis(d time.Duration) (ms uint64, ok bool) {
	switch {
	case d == 0:
		return 0, false
	case d < 0:
		return 0, true
	default:
		return uint64((d + time.Millisecond - 1) / time.Millisecond), true
	}
}

// apply writes every option except Host into C options.
func (o *SandboxOptions) apply(c *C.isola_sandbox_options_t) error {
	if o == nil {
		return nil
	}
	if o.MaxMemory > 0 {
		if err := takeError(C.isola_sandbox_options_set_max_memory(c, C.uint64_t(o.MaxMemory))); err != nil {
			return err
		}
	}
	if ms, ok := timeoutMillis(o.Timeout); ok {
		if err := takeError(C.isola_sandbox_options_set_timeout_ms(c, C.uint64_t(ms))); err != nil {
			return err
		}
	}
	if o.MaxValueBytes > 0 {
		if err := takeError(C.isola_sandbox_options_set_max_value_bytes(c, C.uint64_t(o.MaxValueBytes))); err != nil {
			return err
		}
	}
	if o.MaxOutputBytes > 0 {
		if err := takeError(C.isola_sandbox_options_set_max_output_bytes(c, C.uint64_t(o.MaxOutputBytes))); err != nil {
			return err
		}
	}
	for _, m := range o.Mounts {
		mode := C.uint32_t(C.ISOLA_MOUNT_READ_ONLY)
		if m.ReadWrite {
			mode = C.ISOLA_MOUNT_READ_WRITE
		}
		host, err := cString("Mount.Host", m.Host)
		if err != nil {
			return err
		}
		guest, err := cString("Mount.Guest", m.Guest)
		if err != nil {
			C.free(unsafe.Pointer(host))
			return err
		}
		err = takeError(C.isola_sandbox_options_add_mount(c, host, guest, mode))
		C.free(unsafe.Pointer(host))
		C.free(unsafe.Pointer(guest))
		if err != nil {
			return err
		}
	}
	keys := make([]string, 0, len(o.Env))
	for k := range o.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ck, err := cString("Env key", k)
		if err != nil {
			return err
		}
		cv, err := cString("Env["+k+"]", o.Env[k])
		if err != nil {
			C.free(unsafe.Pointer(ck))
			return err
		}
		err = takeError(C.isola_sandbox_options_set_env(c, ck, cv))
		C.free(unsafe.Pointer(ck))
		C.free(unsafe.Pointer(cv))
		if err != nil {
			return err
		}
	}
	if o.Argv != nil {
		if err := setArgv(c, o.Argv); err != nil {
			return err
		}
	}
	if o.Stdin != nil {
		var data *C.uint8_t
		if len(o.Stdin) > 0 {
			data = (*C.uint8_t)(unsafe.Pointer(&o.Stdin[0]))
		}
		if err := takeError(C.isola_sandbox_options_set_stdin(c, data, C.size_t(len(o.Stdin)))); err != nil {
			return err
		}
	}
	return nil
}

// setArgv passes argv to isola_sandbox_options_set_argv as C strings,
// freed here (the library copies them). The pointer array is Go memory
// holding only C pointers, which cgo allows passing to C.
func setArgv(c *C.isola_sandbox_options_t, argv []string) error {
	for i, arg := range argv {
		if strings.IndexByte(arg, 0) >= 0 {
			return newError(CodeInvalidArgument, "SandboxOptions.Argv: argv[%d] contains a NUL byte", i)
		}
	}
	if len(argv) == 0 {
		return takeError(C.isola_sandbox_options_set_argv(c, nil, 0))
	}
	ptrs := make([]*C.char, len(argv))
	for i, arg := range argv {
		ptrs[i] = C.CString(arg)
	}
	defer func() {
		for _, p := range ptrs {
			C.free(unsafe.Pointer(p))
		}
	}()
	return takeError(C.isola_sandbox_options_set_argv(c, &ptrs[0], C.size_t(len(ptrs))))
}
