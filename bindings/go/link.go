//go:build !isola_nopkgconfig

package isola

// The compile and link flags come from the pkg-config package `isola`
// (isola.pc, installed by `cmake --install` next to the library). Point
// PKG_CONFIG_PATH at <prefix>/lib/pkgconfig when isola is not installed
// where pkg-config looks; add -Wl,-rpath through CGO_LDFLAGS (or set
// LD_LIBRARY_PATH) when the library is not in a directory the dynamic
// loader searches. This repository's own tests generate an isola.pc for
// the in-tree build (see test.sh).
//
// With -tags isola_nopkgconfig no flags are set here: give them yourself
// through CGO_CFLAGS and CGO_LDFLAGS (see link_manual.go).

// #cgo pkg-config: isola
import "C"
