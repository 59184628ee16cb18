/* _isola_snapshot: build-time helper for the runtime's heap snapshot.
 *
 * Every sandbox starts from the same heap image, shared copy-on-write. An
 * object in that image whose reference count changes (each function call,
 * attribute read or instance creation touches several) costs the sandbox a
 * private copy of the object's whole page. `immortalize_heap` marks every
 * live object immortal, as CPython does for its static objects: their counts
 * are never written again, so their pages stay shared, and they are never
 * freed (objects of the build-time heap live as long as the sandbox anyway).
 *
 * It walks the collector's objects (PyUnstable_GC_VisitObjects) and what
 * they refer to, recursing into referents the collector does not track
 * (strings, numbers, untracked tuples), without allocating anything.
 *
 * `hold_free_chunks` does the same for the C allocator's writes: see below.
 *
 * `forget_wasi_state` is for a second snapshot, taken by the host after a
 * template's prelude ran (wasmtime-wizer): the WASI handles the C runtime
 * cached in linear memory (wasi-libc's preopened directories, the preview-1
 * adapter's descriptor table and stdio streams) name resources of the
 * build-time instance, which a restored instance does not have. Forgetting
 * them makes both fetch their handles again on first use, as they do after
 * componentize-py's own build-time snapshot, which calls the same two
 * functions.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* Untracked containers nest rarely and shallowly (tuples of constants). */
#define MAX_UNTRACKED_DEPTH 64

typedef struct {
  Py_ssize_t marked;
  int depth;
} walk_t;

static int mark_referent(PyObject *op, void *arg);

/* Mark `op`; 1 when it was mortal until now. */
static int mark(PyObject *op) {
  if (_Py_IsImmortal(op)) {
    return 0;
  }
  op->ob_refcnt = _Py_IMMORTAL_INITIAL_REFCNT;
  return 1;
}

static int mark_referent(PyObject *op, void *arg) {
  walk_t *walk = arg;
  if (op == NULL || !mark(op)) {
    return 0;
  }
  walk->marked++;
  /* Tracked objects are visited by the collector walk itself; untracked
   * ones are reached only through their referrers. */
  traverseproc traverse = Py_TYPE(op)->tp_traverse;
  if (traverse != NULL && PyObject_IS_GC(op) && !PyObject_GC_IsTracked(op) &&
      walk->depth < MAX_UNTRACKED_DEPTH) {
    walk->depth++;
    traverse(op, mark_referent, walk);
    walk->depth--;
  }
  return 0;
}

static int mark_tracked(PyObject *op, void *arg) {
  walk_t *walk = arg;
  if (mark(op)) {
    walk->marked++;
  }
  traverseproc traverse = Py_TYPE(op)->tp_traverse;
  if (traverse != NULL) {
    traverse(op, mark_referent, walk);
  }
  return 1; /* go on with the next object */
}

static PyObject *immortalize_heap(PyObject *module, PyObject *unused) {
  walk_t walk = {0, 0};
  PyUnstable_GC_VisitObjects(mark_tracked, &walk);
  return PyLong_FromSsize_t(walk.marked);
}

/* Free heap memory left by the build, taken out of the allocator's reach.
 *
 * Objects live in wasi-libc's dlmalloc heap (this CPython has no pymalloc).
 * What the build allocated and freed again leaves free chunks all over the
 * heap image; a sandbox's first allocations would land in them, each in a
 * different page of the shared image, so every sandbox would copy those
 * pages. Allocating every free chunk once, for good, makes later
 * allocations come from the top of the heap instead: fresh pages, packed
 * together. The held chunks stay part of the image (shared, never written).
 *
 * dlmalloc 2.8.6 as wasi-libc configures it (32-bit size_t, no FOOTERS,
 * MALLOC_ALIGNMENT 16, one contiguous segment from __heap_base to the end
 * of memory): a chunk is prev_foot, head (size | PINUSE 1 | CINUSE 2), then
 * the payload; the top chunk ends TOP_FOOT_SIZE bytes before the end of
 * memory. Each pass first walks the whole heap to check that it has exactly
 * this shape (otherwise nothing more is done), then walks it again taking
 * every free chunk it meets, with a request of exactly that chunk's size.
 * dlmalloc may serve such a request from another free chunk (its
 * "designated victim", split), never from the top while this one is free;
 * a chunk that did come from the top is given back. Passes repeat until
 * one finds no free chunk. */
extern char __heap_base;

#define CHUNK_ALIGN 16u
#define MIN_CHUNK 16u
#define CINUSE 2u
#define SIZE_BITS 7u
#define CHUNK_OVERHEAD 4u
/* align_offset(chunk2mem(0)) + pad_request(sizeof(struct malloc_segment)) +
 * MIN_CHUNK_SIZE = 8 + 32 + 16 */
#define TOP_FOOT_SIZE 56u

static inline size_t chunk_head(uintptr_t chunk) { return *(const size_t *)(chunk + sizeof(size_t)); }

/* The first chunk of the heap and the start of the top chunk; 0 when the heap
 * does not have the expected shape. */
static uintptr_t walk_heap(uintptr_t *first_out) {
  uintptr_t end = (uintptr_t)__builtin_wasm_memory_size(0) * 65536u - TOP_FOOT_SIZE;
  uintptr_t base = (uintptr_t)&__heap_base;
  uintptr_t c = base + ((CHUNK_ALIGN - ((base + 2 * sizeof(size_t)) & (CHUNK_ALIGN - 1))) & (CHUNK_ALIGN - 1));
  *first_out = c;
  while (c < end) {
    size_t head = chunk_head(c);
    size_t size = head & ~(size_t)SIZE_BITS;
    if (size < MIN_CHUNK || size % CHUNK_ALIGN != 0 || size > end - c) {
      return 0;
    }
    if (!(head & CINUSE)) {
      if (c + size == end) {
        /* the top chunk, followed by its foot marker */
        return chunk_head(end) == TOP_FOOT_SIZE ? c : 0;
      }
      /* a free chunk: the next one records it (prev_foot, PINUSE clear) */
      uintptr_t next = c + size;
      if (*(const size_t *)next != size || (chunk_head(next) & 1u)) {
        return 0;
      }
    }
    c += size;
  }
  return 0;
}

static PyObject *hold_free_chunks(PyObject *module, PyObject *unused) {
  uintptr_t first;
  Py_ssize_t held = 0, bytes = 0;
  for (int pass = 0; pass < 8; pass++) {
    uintptr_t top = walk_heap(&first);
    if (top == 0) {
      break;
    }
    Py_ssize_t found = 0;
    for (uintptr_t c = first; c < top;) {
      size_t head = chunk_head(c);
      size_t size = head & ~(size_t)SIZE_BITS;
      if (!(head & CINUSE)) {
        found++;
        char *p = malloc(size - CHUNK_OVERHEAD);
        if (p == NULL) {
          break;
        }
        if ((uintptr_t)p >= top) {
          free(p); /* from the top chunk: give it back, it merges again */
        } else {
          held++;
          bytes += (Py_ssize_t)(chunk_head((uintptr_t)p - 2 * sizeof(size_t)) & ~(size_t)SIZE_BITS);
        }
        /* this chunk may have been taken or split: read it again */
        size = chunk_head(c) & ~(size_t)SIZE_BITS;
      }
      c += size;
    }
    if (found == 0) {
      break;
    }
  }
  return Py_BuildValue("(nn)", held, bytes);
}

/* Exported by the preview-1 adapter that componentize-py links in. */
__attribute__((import_module("wasi_snapshot_preview1"), import_name("reset_adapter_state")))
extern void reset_adapter_state(void);
/* Exported by wasi-libc (libc.so). */
extern void __wasilibc_reset_preopens(void);

static PyObject *forget_wasi_state(PyObject *module, PyObject *unused) {
  reset_adapter_state();
  __wasilibc_reset_preopens();
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"immortalize_heap", immortalize_heap, METH_NOARGS,
     "immortalize_heap() -> int\n\nMark every live object immortal (its reference "
     "count is never written again); returns how many were mortal until now."},
    {"hold_free_chunks", hold_free_chunks, METH_NOARGS,
     "hold_free_chunks() -> (int, int)\n\nAllocate, for good, every free chunk of the C heap below "
     "its top, so that later allocations are packed at the top; returns how many chunks "
     "and bytes are now held (0, 0 when the heap does not have the expected shape)."},
    {"forget_wasi_state", forget_wasi_state, METH_NOARGS,
     "forget_wasi_state() -> None\n\nMake wasi-libc and the preview-1 adapter forget the "
     "WASI handles they cached (preopens, descriptors, stdio), so a restored snapshot "
     "fetches its own on first use. Call it last before a snapshot: any file "
     "descriptor open now is lost."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_isola_snapshot",
    .m_doc = "Build-time helper for the isola runtime's heap snapshot.",
    .m_size = 0,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__isola_snapshot(void) { return PyModuleDef_Init(&module); }
