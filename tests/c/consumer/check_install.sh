#!/bin/sh
# check_install.sh BUILD_DIR PREFIX LIB_DIR: install the isola build tree
# into PREFIX and check the installed layout (versioned library with its
# symlinks, static library, header, pkg-config and CMake package files) and
# that the installed library is LIB_DIR's (the cargo output the tree was
# configured with). A debug LIB_DIR (…/debug) is only installed with
# ISOLA_INSTALL_DEBUG=1; without it the install must refuse.
set -eu
build=$1
prefix=$2
libsrc=$3
fail() { echo "FAIL: $*"; exit 1; }
rm -rf "$prefix" "$prefix.refused"
case "$libsrc" in
  */debug)
    if env -u ISOLA_INSTALL_DEBUG cmake --install "$build" --prefix "$prefix.refused" >"$prefix.refused.log" 2>&1; then
      fail "a debug build was installed without ISOLA_INSTALL_DEBUG=1"
    fi
    grep -q "is a debug build" "$prefix.refused.log" || fail "the refused debug install did not say why"
    [ ! -e "$prefix.refused/lib" ] || fail "the refused debug install left files"
    rm -rf "$prefix.refused" "$prefix.refused.log"
    export ISOLA_INSTALL_DEBUG=1
    ;;
esac
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$prefix/lib
[ -d "$libdir" ] || libdir=$(dirname "$(find "$prefix" -name 'libisola.a' | head -n 1)")
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
cmp -s "$libdir/libisola.so.0.1.0" "$libsrc/libisola.so" || fail "the installed library is not $libsrc/libisola.so"
echo "ok: installed $libsrc into $prefix"
