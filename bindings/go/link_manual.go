//go:build isola_nopkgconfig

package isola

// Built with -tags isola_nopkgconfig: the flags come only from the
// environment, for systems without pkg-config, e.g.
//
//	CGO_CFLAGS="-I/opt/isola/include" \
//	CGO_LDFLAGS="-L/opt/isola/lib -lisola -Wl,-rpath,/opt/isola/lib" go build -tags isola_nopkgconfig
import "C"
