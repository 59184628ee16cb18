/* _bz2 for the isola guest: BZ2Compressor and BZ2Decompressor over libbzip2,
 * with the interface the standard library's bz2 module expects. Written for
 * isola (the guest is single-threaded: no locks, the GIL is never released). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <bzlib.h>

#include "codec.h"

static PyObject *
bz2_error(int code)
{
    switch (code) {
    case BZ_PARAM_ERROR:
        return PyErr_Format(PyExc_ValueError, "Internal error - invalid parameters passed to libbzip2");
    case BZ_MEM_ERROR:
        return PyErr_NoMemory();
    case BZ_DATA_ERROR:
    case BZ_DATA_ERROR_MAGIC:
        return PyErr_Format(PyExc_OSError, "Invalid data stream");
    case BZ_IO_ERROR:
        return PyErr_Format(PyExc_OSError, "Unknown I/O error");
    case BZ_UNEXPECTED_EOF:
        return PyErr_Format(PyExc_EOFError, "Compressed file ended before the logical end-of-stream was detected");
    case BZ_SEQUENCE_ERROR:
        return PyErr_Format(PyExc_RuntimeError, "Internal error - Invalid sequence of commands sent to libbzip2");
    default:
        return PyErr_Format(PyExc_OSError, "Unrecognized error from libbzip2: %d", code);
    }
}

/* ---- the codec steps --------------------------------------------------- */

/* libbzip2 counts in unsigned int; a step never offers more than that. */
static unsigned int
clamp_uint(size_t n)
{
    return n > 0x40000000u ? 0x40000000u : (unsigned int)n;
}

static int
bz2_step(bz_stream *bzs, const char **in, size_t *in_len, char **out, size_t *out_len,
         int finish, int compress)
{
    if (compress && !finish && *in_len == 0) {
        /* libbzip2 calls a BZ_RUN without input a parameter error; nothing
           to compress is nothing to do (CPython's loop stops first too). */
        return 0;
    }
    unsigned int offered_in = clamp_uint(*in_len), offered_out = clamp_uint(*out_len);
    bzs->next_in = (char *)*in;
    bzs->avail_in = offered_in;
    bzs->next_out = *out;
    bzs->avail_out = offered_out;
    int ret = compress ? BZ2_bzCompress(bzs, finish ? BZ_FINISH : BZ_RUN) : BZ2_bzDecompress(bzs);
    *in += offered_in - bzs->avail_in;
    *in_len -= offered_in - bzs->avail_in;
    *out += offered_out - bzs->avail_out;
    *out_len -= offered_out - bzs->avail_out;
    if (ret == BZ_STREAM_END) {
        return 1;
    }
    if (ret != BZ_OK && ret != BZ_RUN_OK && ret != BZ_FINISH_OK) {
        bz2_error(ret);
        return -1;
    }
    return 0;
}

static int
compress_step(void *bzs, const char **in, size_t *in_len, char **out, size_t *out_len, int finish)
{
    return bz2_step(bzs, in, in_len, out, out_len, finish, 1);
}

static int
decompress_step(void *bzs, const char **in, size_t *in_len, char **out, size_t *out_len, int finish)
{
    return bz2_step(bzs, in, in_len, out, out_len, finish, 0);
}

/* ---- BZ2Compressor ---------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    bz_stream bzs;
    CompState st;
} Compressor;

static int
Compressor_init(Compressor *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"compresslevel", NULL};
    int level = 9;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|i:BZ2Compressor", kwlist, &level)) {
        return -1;
    }
    if (level < 1 || level > 9) {
        PyErr_SetString(PyExc_ValueError, "compresslevel must be between 1 and 9");
        return -1;
    }
    if (self->st.initialized) {
        BZ2_bzCompressEnd(&self->bzs);
        self->st.initialized = 0;
    }
    memset(&self->bzs, 0, sizeof(self->bzs));
    int ret = BZ2_bzCompressInit(&self->bzs, level, 0, 0);
    if (ret != BZ_OK) {
        bz2_error(ret);
        return -1;
    }
    self->st.initialized = 1;
    self->st.flushed = 0;
    return 0;
}

static PyObject *
Compressor_compress(Compressor *self, PyObject *arg)
{
    return comp_compress(&self->st, &self->bzs, compress_step, "BZ2Compressor", arg);
}

static PyObject *
Compressor_flush(Compressor *self, PyObject *Py_UNUSED(ignored))
{
    return comp_flush(&self->st, &self->bzs, compress_step, "BZ2Compressor");
}

static void
Compressor_dealloc(Compressor *self)
{
    if (self->st.initialized) {
        BZ2_bzCompressEnd(&self->bzs);
    }
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef Compressor_methods[] = {
    {"compress", (PyCFunction)Compressor_compress, METH_O,
     "compress($self, data, /)\n--\n\nProvide data to the compressor object.\n\n"
     "Returns a chunk of compressed data if possible, or b'' otherwise."},
    {"flush", (PyCFunction)Compressor_flush, METH_NOARGS,
     "flush($self, /)\n--\n\nFinish the compression process; returns the remaining compressed data."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject CompressorType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "_bz2.BZ2Compressor",
    .tp_basicsize = sizeof(Compressor),
    .tp_dealloc = (destructor)Compressor_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "BZ2Compressor(compresslevel=9, /)\n--\n\nCreate a compressor object for compressing data incrementally.",
    .tp_methods = Compressor_methods,
    .tp_init = (initproc)Compressor_init,
    .tp_new = PyType_GenericNew,
};

/* ---- BZ2Decompressor -------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    bz_stream bzs;
    DecompState st;
} Decompressor;

static int
Decompressor_init(Decompressor *self, PyObject *args, PyObject *kwargs)
{
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0) {
        PyErr_SetString(PyExc_TypeError, "BZ2Decompressor() takes no keyword arguments");
        return -1;
    }
    if (!PyArg_ParseTuple(args, ":BZ2Decompressor")) {
        return -1;
    }
    if (self->st.initialized) {
        BZ2_bzDecompressEnd(&self->bzs);
        self->st.initialized = 0;
    }
    memset(&self->bzs, 0, sizeof(self->bzs));
    int ret = BZ2_bzDecompressInit(&self->bzs, 0, 0);
    if (ret != BZ_OK) {
        bz2_error(ret);
        return -1;
    }
    return decomp_reset(&self->st);
}

static PyObject *
Decompressor_decompress(Decompressor *self, PyObject *args, PyObject *kwargs)
{
    return decomp_decompress(&self->st, &self->bzs, decompress_step, "BZ2Decompressor", args, kwargs);
}

static void
Decompressor_dealloc(Decompressor *self)
{
    if (self->st.initialized) {
        BZ2_bzDecompressEnd(&self->bzs);
    }
    decomp_clear(&self->st);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMemberDef Decompressor_members[] = {
    DECOMP_MEMBERS(Decompressor),
    {NULL, 0, 0, 0, NULL},
};

static PyMethodDef Decompressor_methods[] = {
    {"decompress", (PyCFunction)(void (*)(void))Decompressor_decompress, METH_VARARGS | METH_KEYWORDS,
     "decompress($self, /, data, max_length=-1)\n--\n\nDecompress data.\n\n"
     "Returns at most max_length bytes when max_length is non-negative; input that\n"
     "could not be processed yet is kept for the next call."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject DecompressorType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "_bz2.BZ2Decompressor",
    .tp_basicsize = sizeof(Decompressor),
    .tp_dealloc = (destructor)Decompressor_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "BZ2Decompressor()\n--\n\nCreate a decompressor object for decompressing data incrementally.",
    .tp_methods = Decompressor_methods,
    .tp_members = Decompressor_members,
    .tp_init = (initproc)Decompressor_init,
    .tp_new = PyType_GenericNew,
};

/* ---- module ----------------------------------------------------------- */

static struct PyModuleDef bz2_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_bz2",
    .m_doc = "libbzip2 compressor and decompressor objects (isola guest build).",
    .m_size = -1,
};

PyMODINIT_FUNC
PyInit__bz2(void)
{
    if (PyType_Ready(&CompressorType) < 0 || PyType_Ready(&DecompressorType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&bz2_module);
    if (m == NULL) {
        return NULL;
    }
    if (PyModule_AddObjectRef(m, "BZ2Compressor", (PyObject *)&CompressorType) < 0 ||
        PyModule_AddObjectRef(m, "BZ2Decompressor", (PyObject *)&DecompressorType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
