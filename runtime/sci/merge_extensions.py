"""Link every extension module a meson build installed into one shared library.

    merge_extensions.py NAME BUILD_DIR SITE_DIR MESON...

componentize-py makes each extension ``.so`` a core instance of its own, and
wasmtime initialises every cross-instance function import and every element
of the shared function table each time a sandbox is created: numpy's and
pandas' ~60 modules repeat the same libc/libpython imports and GOT entries
in each instance. Linked as one library per package they share them.

For every extension module of BUILD_DIR installed under SITE_DIR (``MESON
introspect --installed``), ninja's own link command is read (``ninja -t
commands -s``); the objects of all of them, their static archives and
their flags go into one ``wasm-ld -shared`` link by the same compiler
driver. A source file several modules compile (numpy's lapack_lite,
mem_overlap.c, ...; pandas' tokenizer.c) is linked once, after checking
that its compilations are the same code (same flags but include
directories and visibility, identical preprocessed text). The per-module files are then removed from SITE_DIR
and SITE_DIR/isola-ext/ gets NAME.cpython-314-wasm32-wasi.so (a name
componentize-py links; the directory name is not importable) and
NAME.modules, one ``module.name relative/original/path.so`` per line, which
runtime/sci/src/isola_sci_ext.py reads to import each module from the
merged library (CPython finds ``PyInit_<last name component>`` in it).
"""

import json
import os
import shlex
import subprocess
import sys

SUFFIX = ".cpython-314-wasm32-wasi.so"
EXT_DIR = "isola-ext"

# Sources that modules compile with different macros or C++ flags, checked by
# hand to be the same code for every caller: (source path suffix, the module
# whose object is linked, why the others' callers are served alike).
EQUIVALENT = [
    ("numpy/_core/src/common/npy_hashtable.cpp", "numpy._core._multiarray_umath",
     "_multiarray_tests compiles it without NPY_INTERNAL_BUILD and with C++ "
     "exceptions and RTTI; the file uses neither the macro nor throw/try/typeid, "
     "and PyArrayIdentityHash's layout depends on Py_GIL_DISABLED alone"),
]


def ninja_command(build: str, target: str) -> list[str]:
    """ninja's final command for ``target`` (relative to ``build``), split."""
    out = subprocess.run(["ninja", "-C", build, "-t", "commands", "-s", target],
                         check=True, capture_output=True, text=True).stdout.strip().splitlines()
    if len(out) != 1:
        sys.exit(f"merge: expected one command for {target}, got {len(out)}")
    argv = shlex.split(out[0])
    # A response file (meson's, for a long command) holds arguments too.
    expanded = []
    for arg in argv:
        if arg.startswith("@"):
            with open(os.path.join(build, arg[1:])) as f:
                expanded += shlex.split(f.read())
        else:
            expanded.append(arg)
    return expanded


def compile_parts(argv: list[str]) -> tuple[str, list[str]]:
    """A compile command's source file and its flags without the outputs."""
    source, flags, skip = None, [], False
    for k, arg in enumerate(argv):
        if skip:
            skip = False
        elif arg in ("-o", "-MQ", "-MF"):
            skip = True
        elif arg == "-c":
            source = argv[k + 1]
            skip = True
        elif arg != "-MD":
            flags.append(arg)
    if source is None:
        sys.exit(f"merge: not a compile command: {shlex.join(argv)}")
    return source, flags


def preprocessed(build: str, flags: list[str], source: str) -> bytes:
    """``source`` as the compiler sees it with ``flags`` (no line markers)."""
    return subprocess.run([*flags, "-E", "-P", source, "-o", "-"], check=True,
                          capture_output=True, cwd=build).stdout


def same_code(build: str, source: str, commands: list[list[str]]) -> str | None:
    """Why objects compiled from one source by ``commands`` may differ, or None.

    Targets compile a shared source with their own include directories and
    symbol visibility; the objects are the same code when the remaining
    flags match and the preprocessed sources are identical (visibility only
    decides what the library exports).
    """
    def essential(flags: list[str]) -> list[str]:
        return [f for f in flags if not f.startswith(("-I", "-fvisibility="))]

    first = essential(commands[0])
    for flags in commands[1:]:
        if essential(flags) != first:
            return f"flags differ: {shlex.join(first)} / {shlex.join(essential(flags))}"
    text = preprocessed(build, commands[0], source)
    for flags in commands[1:]:
        if preprocessed(build, flags, source) != text:
            return "preprocessed sources differ"
    return None


def strong_symbols(build: str, path: str) -> set[str]:
    """The strong global symbols an object (or any member of an archive) defines."""
    out = subprocess.run(["llvm-nm-19", "--defined-only", "-g", path], check=True,
                         capture_output=True, text=True, cwd=build).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[-2] not in ("W", "V", "w", "v"):
            names.add(parts[-1])
    return names


def wasm_exports(path: str) -> set[str]:
    """Names in the export section of a core wasm module."""
    data = open(path, "rb").read()

    def leb(i: int) -> tuple[int, int]:
        result = shift = 0
        while True:
            byte = data[i]
            i += 1
            result |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return result, i

    names: set[str] = set()
    i = 8
    while i < len(data):
        section, i = data[i], i + 1
        size, i = leb(i)
        if section == 7:
            count, j = leb(i)
            for _ in range(count):
                length, j = leb(j)
                names.add(data[j:j + length].decode())
                j += length + 1  # kind byte
                _, j = leb(j)  # index
        i += size
    return names


def main() -> None:
    name, build, site, meson = sys.argv[1], os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3]), sys.argv[4:]
    installed = json.loads(subprocess.run([*meson, "introspect", "--installed", build],
                                          check=True, capture_output=True, text=True).stdout)
    modules = []  # (module name, path relative to site, build-relative target)
    for built, dest in sorted(installed.items()):
        if dest.endswith(SUFFIX) and os.path.commonpath([site, dest]) == site:
            rel = os.path.relpath(dest, site)
            modules.append((rel[:-len(SUFFIX)].replace("/", "."), rel, os.path.relpath(built, build)))
    if not modules:
        sys.exit(f"merge: no extension modules of {build} installed under {site}")
    short = {}
    for module, _, _ in modules:
        last = module.rpartition(".")[2]
        if last in short:
            sys.exit(f"merge: {module} and {short[last]} both need PyInit_{last}; they cannot share a library")
        short[last] = module

    driver = None
    parts: dict[str, tuple[list[str], list[str]]] = {}  # module -> (objects, archives)
    flags: list[str] = []
    for module, _, target in modules:
        argv = ninja_command(build, target)
        tool, args = argv[0], argv[1:]
        # The C++ driver when any module is C++ (both link alike; see wasm32-cc).
        if driver is None or tool.endswith("++"):
            driver = tool
        objs, archs = parts.setdefault(module, ([], []))
        skip = False
        for arg in args:
            if skip:
                skip = False
            elif arg == "-o":
                skip = True
            elif arg.endswith((".o", ".obj")):
                objs.append(arg)
            elif arg.endswith(".a"):
                archs.append(arg)
            elif arg not in flags:
                flags.append(arg)
    if "-shared" not in flags:
        sys.exit("merge: ninja's link commands are not -shared links")

    # One source several modules compile is linked once, if it is the same code.
    sources: dict[str, list[tuple[str, str]]] = {}  # source -> [(module, object)]
    for module, (objs, _) in parts.items():
        for obj in objs:
            source, _ = compile_parts(ninja_command(build, obj))
            sources.setdefault(os.path.normpath(os.path.join(build, source)), []).append((module, obj))
    chosen: dict[str, str] = {}  # object -> the object linked in its place
    for source, users in sources.items():
        objs = [o for _, o in users]
        keep = objs[0]
        if len(objs) > 1:
            commands = [compile_parts(ninja_command(build, o))[1] for o in objs]
            why = same_code(build, os.path.relpath(source, build), commands)
            if why is not None:
                known = [(m, reason) for suffix, m, reason in EQUIVALENT if source.endswith("/" + suffix)]
                target = [o for m, o in users if known and m == known[0][0]]
                if not target:
                    sys.exit(f"merge: {source} is compiled differently for {', '.join(objs)}: {why}")
                print(f"merge: {os.path.relpath(source, build)}: {why}; linked from {known[0][0]}: {known[0][1]}")
                keep = target[0]
            print(f"merge: {os.path.relpath(source, build)} once for {len(objs)} modules")
        for o in objs:
            chosen[o] = keep

    # A module whose own objects define a symbol another module takes from a
    # static archive (numpy.random.mtrand compiles distributions.c with
    # NP_RANDOM_LEGACY; the other generators link libnpyrandom's) would
    # replace that module's definition, and two modules defining one symbol in
    # different sources (pandas' khash_python.h defines traced_malloc & co.
    # in every module including it) cannot be linked together: such a module
    # keeps a library of its own, as before.
    symbols = {o: strong_symbols(build, o) for o in set(chosen.values())}
    own = {m: {chosen[o] for o in objs} for m, (objs, _) in parts.items()}
    from_archives = {a: strong_symbols(build, a) for _, archs in parts.values() for a in archs}
    apart: set[str] = set()
    for m in parts:
        for n in parts:
            if m == n or n in apart:
                continue
            mine = set().union(*(symbols[o] for o in own[m] - own[n]))
            theirs_objects = set().union(*(symbols[o] for o in own[n]))
            clash = mine & (set().union(*(from_archives[a] for a in parts[n][1])) - theirs_objects)
            how = "links from a static archive"
            if not clash and m > n:
                clash = mine & set().union(*(symbols[o] for o in own[n] - own[m]))
                how = "defines in objects of its own"
            if clash:
                print(f"merge: {m} kept apart: it defines {', '.join(sorted(clash)[:5])}"
                      f"{' ...' if len(clash) > 5 else ''}, which {n} {how}")
                apart.add(m)
                break
    merged = [mod for mod in modules if mod[0] not in apart]
    linked: list[str] = []
    archives: list[str] = []
    for module, _, _ in merged:
        objs, archs = parts[module]
        linked += [chosen[o] for o in objs if chosen[o] not in linked]
        archives += [a for a in archs if a not in archives]

    out_dir = os.path.join(site, EXT_DIR)
    os.makedirs(out_dir, exist_ok=True)
    library = os.path.join(out_dir, name + SUFFIX)
    # Archives after every object, as a link of one module has them.
    # A signature mismatch (one symbol, two declarations) would trap at run time.
    subprocess.run([driver, "-o", library, *linked, *archives, *flags, "-Wl,--fatal-warnings"], check=True, cwd=build)

    exports = wasm_exports(library)
    missing = [m for m, _, _ in merged if "PyInit_" + m.rpartition(".")[2] not in exports]
    if missing:
        sys.exit(f"merge: {library} does not export the init functions of {', '.join(missing)}")
    for _, rel, _ in merged:
        os.remove(os.path.join(site, rel))
    with open(os.path.join(out_dir, name + ".modules"), "w") as f:
        for module, rel, _ in merged:
            f.write(f"{module} {rel}\n")
    print(f"merge: flags {' '.join(flags)}")
    print(f"merge: {len(merged)} of {len(modules)} extension modules ({len(linked)} objects, {len(archives)} archives) -> {library}")


if __name__ == "__main__":
    main()
