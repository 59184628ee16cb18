package isola

// #include <stdlib.h>
// #include "shim.h"
import "C"

import (
	"context"
	"unsafe"
)

// FileKind says what a directory entry of the scratch file system is.
type FileKind uint32

// The kinds of directory entries (isola_file_kind_t).
const (
	FileKindFile      FileKind = C.ISOLA_FILE_KIND_FILE
	FileKindDirectory FileKind = C.ISOLA_FILE_KIND_DIRECTORY
	FileKindOther     FileKind = C.ISOLA_FILE_KIND_OTHER
)

// DirEntry is one entry of ListDir.
type DirEntry struct {
	Name string
	Kind FileKind
}

// withPath runs body with exclusive use of the sandbox and path as a C
// string, both valid only during body.
func (s *Sandbox) withPath(path string, body func(p *C.isola_sandbox_t, cpath *C.char) error) error {
	p, leave, err := s.enter(context.Background())
	if err != nil {
		return err
	}
	defer leave()
	cpath, err := cString("path", path)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cpath))
	return body(p, cpath)
}

// WriteFile creates or replaces path in the sandbox's in-memory scratch file
// system (/tmp or /home/user; a relative path is relative to /home/user) with
// data, creating missing parent directories. Use it before or between calls;
// it waits for a running call to return. A path outside the scratch file
// system is CodeInvalidArgument; a write past a scratch cap is CodeIO.
func (s *Sandbox) WriteFile(path string, data []byte) error {
	return s.withPath(path, func(p *C.isola_sandbox_t, cpath *C.char) error {
		var ptr *C.uint8_t
		if len(data) > 0 {
			ptr = (*C.uint8_t)(C.CBytes(data))
			defer C.free(unsafe.Pointer(ptr))
		}
		return takeError(C.isola_sandbox_write_file(p, cpath, ptr, C.size_t(len(data))))
	})
}

// ReadFile returns the bytes of path in the sandbox's scratch file system
// (for artifacts the guest produced). A missing file is CodeIO.
func (s *Sandbox) ReadFile(path string) ([]byte, error) {
	var out []byte
	err := s.withPath(path, func(p *C.isola_sandbox_t, cpath *C.char) error {
		var buf *C.isola_buffer_t
		if err := takeError(C.isola_sandbox_read_file(p, cpath, &buf)); err != nil {
			return err
		}
		defer C.isola_buffer_free(buf)
		out = []byte{}
		if n := C.isola_buffer_len(buf); n > 0 {
			out = C.GoBytes(unsafe.Pointer(C.isola_buffer_data(buf)), C.int(n))
		}
		return nil
	})
	return out, err
}

// ListDir returns the entries of directory path of the sandbox's scratch
// file system, sorted by name. A missing directory is CodeIO.
func (s *Sandbox) ListDir(path string) ([]DirEntry, error) {
	var entries []DirEntry
	err := s.withPath(path, func(p *C.isola_sandbox_t, cpath *C.char) error {
		var listing *C.isola_dir_listing_t
		if err := takeError(C.isola_sandbox_list_dir(p, cpath, &listing)); err != nil {
			return err
		}
		defer C.isola_dir_listing_free(listing)
		n := int(C.isola_dir_listing_len(listing))
		entries = make([]DirEntry, 0, n)
		for i := 0; i < n; i++ {
			entries = append(entries, DirEntry{
				Name: C.GoString(C.isola_dir_listing_name(listing, C.size_t(i))),
				Kind: FileKind(C.isola_dir_listing_kind(listing, C.size_t(i))),
			})
		}
		return nil
	})
	return entries, err
}
