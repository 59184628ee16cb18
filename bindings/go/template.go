package isola

// #include <stdlib.h>
// #include "isola.h"
import "C"

import (
	"runtime"
	"sync"
	"unsafe"
)

// TemplateOptions configure NewTemplate. The zero value (or a nil pointer)
// means: embedded Python runtime, default compile cache, no prelude.
type TemplateOptions struct {
	// RuntimePath is a runtime component file to use instead of the
	// embedded runtime. Set at most one of RuntimePath and RuntimeName.
	RuntimePath string
	// RuntimeName chooses a runtime installed beside the library by name:
	// "sci" is the scientific runtime (numpy), the file
	// isola-python-sci.wasm. It is looked up by NewTemplate in
	// $ISOLA_RUNTIME_DIR if set, else in the directory holding libisola
	// (isola_template_options_set_runtime_name); a malformed name or a
	// missing file is ErrInvalidArgument, the message naming where it looked.
	RuntimeName string
	// CacheDir is where compiled runtimes are cached. Empty: the library's
	// default ($ISOLA_CACHE_DIR, else $XDG_CACHE_HOME/isola, else
	// ~/.cache/isola).
	CacheDir string
	// DisableCache turns the compile cache off (CacheDir is ignored).
	DisableCache bool
	// Prelude is Python source run in every new sandbox; the names it
	// defines are visible to guest code.
	Prelude string
	// PreludeSnapshot runs the prelude once, in NewTemplate, and starts
	// every sandbox from a snapshot taken after it instead of running it in
	// each (isola_template_options_set_prelude_snapshot). NewTemplate then
	// fails with the prelude's error, or ErrInvalidArgument when it leaves
	// open files or unfinished tasks behind. The first build of a prelude
	// compiles the runtime (tens of seconds); the cache keeps it.
	PreludeSnapshot bool
	// Defaults are the sandbox options every sandbox of the template starts
	// from; SandboxOptions given to NewSandbox override them field by field.
	Defaults SandboxOptions
}

// Template is a compiled Python runtime plus default options. It is safe for
// concurrent use: create sandboxes from many goroutines at once.
type Template struct {
	life        sync.RWMutex // write-locked only by Close
	ptr         *C.isola_template_t
	defaultHost Host
}

// NewTemplate builds a template. The first build on a machine compiles the
// runtime (seconds); later builds load the cached artifact.
func NewTemplate(opts *TemplateOptions) (*Template, error) {
	if opts == nil {
		opts = &TemplateOptions{}
	}
	copts := C.isola_template_options_new()
	if copts == nil {
		return nil, newError(CodeInternal, "isola_template_options_new failed")
	}
	defer C.isola_template_options_free(copts)

	if opts.RuntimePath != "" && opts.RuntimeName != "" {
		return nil, newError(CodeInvalidArgument,
			"TemplateOptions: set RuntimePath (%q) or RuntimeName (%q), not both",
			opts.RuntimePath, opts.RuntimeName)
	}
	// Each non-empty string option, passed to its C setter as a C string.
	setters := []struct {
		name  string
		value string
		set   func(*C.char) *C.isola_error_t
	}{
		{"RuntimePath", opts.RuntimePath, func(p *C.char) *C.isola_error_t { return C.isola_template_options_set_runtime_path(copts, p) }},
		{"RuntimeName", opts.RuntimeName, func(p *C.char) *C.isola_error_t { return C.isola_template_options_set_runtime_name(copts, p) }},
		{"CacheDir", opts.CacheDir, func(p *C.char) *C.isola_error_t { return C.isola_template_options_set_cache_dir(copts, p) }},
		{"Prelude", opts.Prelude, func(p *C.char) *C.isola_error_t { return C.isola_template_options_set_prelude(copts, p) }},
	}
	for _, s := range setters {
		if s.value == "" {
			continue
		}
		p, err := cString(s.name, s.value)
		if err != nil {
			return nil, err
		}
		err = takeError(s.set(p))
		C.free(unsafe.Pointer(p))
		if err != nil {
			return nil, err
		}
	}
	if opts.PreludeSnapshot {
		if err := takeError(C.isola_template_options_set_prelude_snapshot(copts, true)); err != nil {
			return nil, err
		}
	}
	if opts.DisableCache { // after CacheDir, which it overrides
		if err := takeError(C.isola_template_options_set_cache_dir(copts, nil)); err != nil {
			return nil, err
		}
	}
	// The default host stays on the Go side: NewSandbox attaches it to each
	// sandbox separately, so host callbacks see that sandbox's call context.
	if err := opts.Defaults.apply(C.isola_template_options_defaults(copts)); err != nil {
		return nil, err
	}

	var out *C.isola_template_t
	if err := takeError(C.isola_template_new(copts, &out)); err != nil {
		return nil, err
	}
	t := &Template{ptr: out, defaultHost: opts.Defaults.Host}
	runtime.SetFinalizer(t, (*Template).finalize)
	return t, nil
}

// Close frees the template. Sandboxes created from it stay valid. Closing
// twice is allowed; NewSandbox on a closed template fails with
// ErrInvalidState.
func (t *Template) Close() error {
	t.life.Lock()
	defer t.life.Unlock()
	if t.ptr != nil {
		C.isola_template_free(t.ptr)
		t.ptr = nil
		runtime.SetFinalizer(t, nil)
	}
	return nil
}

func (t *Template) finalize() {
	if t.ptr != nil {
		C.isola_template_free(t.ptr)
		t.ptr = nil
	}
}

// NewSandbox creates a sandbox (about a millisecond with a warm template).
// opts may be nil; its non-zero fields override the template's defaults.
func (t *Template) NewSandbox(opts *SandboxOptions) (*Sandbox, error) {
	copts := C.isola_sandbox_options_new()
	if copts == nil {
		return nil, newError(CodeInternal, "isola_sandbox_options_new failed")
	}
	defer C.isola_sandbox_options_free(copts)
	if err := opts.apply(copts); err != nil {
		return nil, err
	}
	host := t.defaultHost
	if opts != nil && opts.Host != nil {
		host = opts.Host
	}
	var hs *hostState
	if host != nil {
		var err error
		if hs, err = attachHost(copts, host); err != nil {
			return nil, err
		}
	}

	t.life.RLock()
	if t.ptr == nil {
		t.life.RUnlock()
		return nil, errClosed("template")
	}
	var out *C.isola_sandbox_t
	err := takeError(C.isola_sandbox_new(t.ptr, copts, &out))
	t.life.RUnlock()
	if err != nil {
		return nil, err
	}
	return newSandbox(out, hs)
}
