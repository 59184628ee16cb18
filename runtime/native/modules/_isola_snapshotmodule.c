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
