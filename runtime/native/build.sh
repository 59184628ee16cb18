#!/usr/bin/env bash
# Build the guest's native extension modules (_bz2, _lzma, _isola_snapshot,
# _isola_scrypt) as wasm32-wasi shared libraries that componentize-py links
# into the runtime component.
#   runtime/native/build.sh [OUT_DIR]   (default: runtime/python/out/native)
#
# Inputs (inputs.lock): bzip2 and xz-utils sources, CPython 3.14 headers and
# wasi-libc headers, fetched with apt from Debian's archive and checked by
# sha256; the compiler is Debian's clang-19/lld-19. pyconfig.h comes from the
# CPython that componentize-py bundles (pyconfig_from_bundle.py), so the
# modules match the libpython they are linked with. (_sqlite3 needs nothing
# here: componentize-py's libpython already contains it and SQLite.)
#
# Outputs are cached under $ISOLA_BUILD_CACHE (default
# ~/.cache/isola-build)/native-<hash of every input>/ and copied to OUT_DIR.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$root/runtime/python/out/native}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac

cache_root="${ISOLA_BUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/isola-build}"
downloads="$cache_root/downloads"
python="$root/.venv/bin/python"
[ -x "$python" ] || python=python3
cpy_so="$("$python" -c 'import componentize_py, os; print(os.path.join(os.path.dirname(componentize_py.__file__), "componentize_py.abi3.so"))')"

for tool in clang-19 wasm-ld-19 llvm-ar-19 llvm-ranlib-19 zstd dpkg-deb make; do
  command -v "$tool" >/dev/null || { echo "native build: '$tool' is missing (make setup installs it with apt)" >&2; exit 1; }
done
builtins=/usr/lib/llvm-19/lib/clang/19/lib/wasi/libclang_rt.builtins-wasm32.a
[ -f "$builtins" ] || { echo "native build: $builtins is missing (apt: libclang-rt-19-dev-wasm32)" >&2; exit 1; }

key="$( { grep -v '^#' "$here/inputs.lock"; cat "$here/build.sh" "$here/headers.sh" "$here/pyconfig_from_bundle.py" "$here"/modules/*;
          sha256sum < "$cpy_so"; clang-19 --version | head -1; } | sha256sum | cut -c1-16)"
dest="$cache_root/native-$key"

install_out() {
  rm -rf "$out"
  mkdir -p "$out"
  cp "$dest"/site/*.so "$out/"
  cp "$dest/manifest.txt" "$out/"
}

if [ -f "$dest/manifest.txt" ]; then
  echo "native modules: cached $dest"
  install_out
  exit 0
fi

start=$(date +%s)
mkdir -p "$downloads" "$cache_root"
work="$(mktemp -d "$cache_root/native-$key.tmp.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# --- fetch: apt with a private sources list on the machine's own Debian mirror
have_all=1
while read -r kind pkg version suite file sha; do
  [ -f "$downloads/$file" ] && echo "$sha  $downloads/$file" | sha256sum -c --quiet - 2>/dev/null || have_all=0
done < <(grep -v '^#' "$here/inputs.lock" | grep .)

if [ "$have_all" = 0 ]; then
  mirror="$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v -- -security | head -1)"
  [ -n "$mirror" ] || mirror="$(sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]*\).*/\2/p' /etc/apt/sources.list 2>/dev/null | grep -v -- -security | head -1)"
  [ -n "$mirror" ] || { echo "native build: no Debian mirror found in /etc/apt" >&2; exit 1; }
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  apt_dir="$work/apt"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
  {
    echo "deb-src [signed-by=$keyring] $mirror trixie main"
    echo "deb [signed-by=$keyring] $mirror sid main"
  } > "$apt_dir/sources.list"
  apt_opts=(-o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o Dir::Etc::sourceparts=-
            -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
            -o APT::Sandbox::User=root -o Debug::NoLocking=1 -qq)
  apt-get "${apt_opts[@]}" update
  mkdir -p "$work/fetch"
  while read -r kind pkg version suite file sha; do
    if [ "$kind" = source ]; then
      (cd "$work/fetch" && apt-get "${apt_opts[@]}" source --download-only "$pkg=$version")
    else
      (cd "$work/fetch" && apt-get "${apt_opts[@]}" download "$pkg=$version")
    fi
    echo "$sha  $work/fetch/$file" | sha256sum -c --quiet - || { echo "native build: checksum mismatch for $file" >&2; exit 1; }
    cp "$work/fetch/$file" "$downloads/$file"
  done < <(grep -v '^#' "$here/inputs.lock" | grep .)
fi
lock_file() { awk -v p="$1" '$1 !~ /^#/ && $2 == p { print $5 }' "$here/inputs.lock"; }

# --- headers: wasi-libc sysroot, CPython headers + the bundled pyconfig.h
here_native="$here"
# shellcheck source=runtime/native/headers.sh
. "$here/headers.sh"
guest_headers "$work"

cflags=(--target=wasm32-wasip2 "--sysroot=$sysroot" -fPIC -O2)
ldshared=(wasm-ld-19 -shared --experimental-pic --unresolved-symbols=import-dynamic)

# --- libbz2 (static, -fPIC)
mkdir -p "$work/bzip2"
tar xzf "$downloads/$(lock_file bzip2)" -C "$work/bzip2" --strip-components=1
(
  cd "$work/bzip2"
  for f in blocksort huffman crctable randtable compress decompress bzlib; do
    clang-19 "${cflags[@]}" -D_FILE_OFFSET_BITS=64 -w -c "$f.c" -o "$f.o"
  done
  llvm-ar-19 rcs libbz2.a blocksort.o huffman.o crctable.o randtable.o compress.o decompress.o bzlib.o
)

# --- liblzma (static, -fPIC, no threads). configure links test programs, which
# needs the wasip1 target (wasm-ld) and compiler-rt's wasi builtins.
mkdir -p "$work/xz"
tar xJf "$downloads/$(lock_file xz-utils)" -C "$work/xz" --strip-components=1
(
  cd "$work/xz"
  ./configure -q --host=wasm32-unknown-wasi CC=clang-19 AR=llvm-ar-19 RANLIB=llvm-ranlib-19 \
    CFLAGS="--target=wasm32-wasi --sysroot=$sysroot -fPIC -O2" \
    LDFLAGS="--target=wasm32-wasi --sysroot=$sysroot -fuse-ld=lld" \
    --disable-shared --enable-static --disable-threads --disable-xz --disable-xzdec \
    --disable-lzmadec --disable-lzmainfo --disable-lzma-links --disable-scripts --disable-doc \
    --disable-nls --disable-sandbox --disable-microlzma --disable-lzip-decoder \
    --disable-clmul-crc --disable-arm64-crc32 --disable-loongarch-crc32
  make -s -C src/liblzma -j"$(nproc)" >/dev/null
)

# --- the extension modules
mkdir -p "$work/site"
modflags=("${cflags[@]}" -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
          -Wno-cast-function-type -I"$work/pyinc" -I"$here/modules")
clang-19 "${modflags[@]}" -I"$work/bzip2" -c "$here/modules/_bz2module.c" -o "$work/_bz2.o"
"${ldshared[@]}" -o "$work/site/_bz2.cpython-314-wasm32-wasi.so" "$work/_bz2.o" "$work/bzip2/libbz2.a"
clang-19 "${modflags[@]}" -I"$work/xz/src/liblzma/api" -c "$here/modules/_lzmamodule.c" -o "$work/_lzma.o"
"${ldshared[@]}" -o "$work/site/_lzma.cpython-314-wasm32-wasi.so" "$work/_lzma.o" "$work/xz/src/liblzma/.libs/liblzma.a"
clang-19 "${modflags[@]}" -c "$here/modules/_isola_snapshotmodule.c" -o "$work/_isola_snapshot.o"
"${ldshared[@]}" -o "$work/site/_isola_snapshot.cpython-314-wasm32-wasi.so" "$work/_isola_snapshot.o"
clang-19 "${modflags[@]}" -c "$here/modules/_isola_scryptmodule.c" -o "$work/_isola_scrypt.o"
"${ldshared[@]}" -o "$work/site/_isola_scrypt.cpython-314-wasm32-wasi.so" "$work/_isola_scrypt.o"

end=$(date +%s)
{
  echo "# isola native modules, key $key, built in $((end - start))s"
  echo "compiler: $(clang-19 --version | head -1)"
  sed 's/^/bundled /' "$work/pyinc/bundle.txt"
  grep -v '^#' "$here/inputs.lock" | grep . | awk '{print "input " $2 " " $3 " " $6}'
  (cd "$work/site" && sha256sum -- *.so | sed 's/^/output /')
} > "$work/site/manifest.txt"

mkdir -p "$dest.new"
mv "$work/site" "$dest.new/site"
mv "$dest.new/site/manifest.txt" "$dest.new/manifest.txt"
rm -rf "$dest"
mv "$dest.new" "$dest"
echo "native modules: built $dest in $((end - start))s"
install_out
