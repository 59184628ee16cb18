#!/bin/sh
# check_install.sh BUILD_DIR PREFIX: install the isola build tree into
# PREFIX and check the installed layout (versioned library with its
# symlinks, static library, header, pkg-config and CMake package files).
set -eu
build=$1
prefix=$2
rm -rf "$prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$prefix/lib
[ -d "$libdir" ] || libdir=$(dirname "$(find "$prefix" -name 'libisola.a' | head -n 1)")
fail() { echo "FAIL: $*"; exit 1; }
[ -f "$libdir/libisola.so.0.1.0" ] && [ ! -L "$libdir/libisola.so.0.1.0" ] || fail "libisola.so.0.1.0 is not a file"
[ "$(readlink "$libdir/libisola.so.0.1")" = "libisola.so.0.1.0" ] || fail "libisola.so.0.1 does not link to libisola.so.0.1.0"
[ "$(readlink "$libdir/libisola.so")" = "libisola.so.0.1" ] || fail "libisola.so does not link to libisola.so.0.1"
soname=$(objdump -p "$libdir/libisola.so.0.1.0" | awk '/SONAME/ {print $2}')
[ "$soname" = "libisola.so.0.1" ] || fail "SONAME is '$soname', not libisola.so.0.1 (0.x: the minor is part of it)"
[ -f "$libdir/libisola.a" ] || fail "libisola.a missing"
[ -f "$prefix/include/isola.h" ] || fail "isola.h missing"
[ -f "$libdir/pkgconfig/isola.pc" ] || fail "isola.pc missing"
incdir=$(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --variable=includedir isola)
[ -f "$incdir/isola.h" ] || fail "isola.pc's includedir $incdir has no isola.h"
pclib=$(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --variable=libdir isola)
[ -f "$pclib/libisola.so" ] || fail "isola.pc's libdir $pclib has no libisola.so"
[ -f "$libdir/cmake/isola/isolaConfig.cmake" ] || fail "isolaConfig.cmake missing"
[ -f "$libdir/cmake/isola/isolaConfigVersion.cmake" ] || fail "isolaConfigVersion.cmake missing"
echo "ok: installed into $prefix"
