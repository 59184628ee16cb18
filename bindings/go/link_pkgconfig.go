//go:build isola_pkgconfig

package isola

// With `-tags isola_pkgconfig` the compile and link flags come from
// `pkg-config isola` (for this repository: PKG_CONFIG_PATH=build/lib/pkgconfig).
// Add -Wl,-rpath through CGO_LDFLAGS, or LD_LIBRARY_PATH at run time, when
// the library is not in a directory the dynamic loader searches.

// #cgo pkg-config: isola
import "C"
