//go:build !isola_pkgconfig

package isola

// By default the package compiles against the header of this repository and
// links the shared library built by `cargo build --lib` in target/debug,
// recording that directory as the run-time search path. To link another
// build, either prepend your own flags (they are searched first):
//
//	CGO_LDFLAGS="-L/opt/isola/lib -Wl,-rpath,/opt/isola/lib" go build
//
// or build with `-tags isola_pkgconfig` to take every flag from the
// pkg-config package `isola` (see link_pkgconfig.go).

// #cgo CFLAGS: -I${SRCDIR}/../../include
// #cgo LDFLAGS: -L${SRCDIR}/../../target/debug -lisola -lpthread -Wl,-rpath,${SRCDIR}/../../target/debug
import "C"
