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

static PyMethodDef methods[] = {
    {"immortalize_heap", immortalize_heap, METH_NOARGS,
     "immortalize_heap() -> int\n\nMark every live object immortal (its reference "
     "count is never written again); returns how many were mortal until now."},
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
