/* _bz2 for the isola guest: BZ2Compressor and BZ2Decompressor over libbzip2,
 * with the interface the standard library's bz2 module expects. Written for
 * isola (the guest is single-threaded: no locks, the GIL is never released). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <bzlib.h>

#include "outbuf.h"

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

/* ---- BZ2Compressor ---------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    bz_stream bzs;
    int initialized;
    int flushed;
} Compressor;

/* Run BZ2_bzCompress with `action` over the input until it is consumed
 * (BZ_RUN) or the stream ends (BZ_FINISH). */
static PyObject *
compress_run(Compressor *c, const char *data, size_t len, int action)
{
    OutBuf out;
    if (outbuf_init(&out, -1) < 0) {
        return NULL;
    }
    c->bzs.next_in = (char *)data;
    c->bzs.avail_in = (unsigned int)len;
    for (;;) {
        char *next;
        size_t avail;
        if (outbuf_reserve(&out, &next, &avail) < 0) {
            goto error;
        }
        c->bzs.next_out = next;
        c->bzs.avail_out = (unsigned int)avail;
        int ret = BZ2_bzCompress(&c->bzs, action);
        outbuf_commit(&out, avail - c->bzs.avail_out);
        if (ret == BZ_STREAM_END) {
            break;
        }
        if (ret != BZ_RUN_OK && ret != BZ_FINISH_OK) {
            bz2_error(ret);
            goto error;
        }
        if (action == BZ_RUN && c->bzs.avail_in == 0) {
            break;
        }
    }
    return outbuf_finish(&out);
error:
    outbuf_abort(&out);
    return NULL;
}

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
    if (self->initialized) {
        BZ2_bzCompressEnd(&self->bzs);
        self->initialized = 0;
    }
    memset(&self->bzs, 0, sizeof(self->bzs));
    int ret = BZ2_bzCompressInit(&self->bzs, level, 0, 0);
    if (ret != BZ_OK) {
        bz2_error(ret);
        return -1;
    }
    self->initialized = 1;
    self->flushed = 0;
    return 0;
}

static PyObject *
Compressor_compress(Compressor *self, PyObject *arg)
{
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    PyObject *result = NULL;
    if (!self->initialized) {
        PyErr_SetString(PyExc_RuntimeError, "BZ2Compressor.__init__ was not called");
    } else if (self->flushed) {
        PyErr_SetString(PyExc_ValueError, "Compressor has been flushed");
    } else {
        result = compress_run(self, view.buf, (size_t)view.len, BZ_RUN);
    }
    PyBuffer_Release(&view);
    return result;
}

static PyObject *
Compressor_flush(Compressor *self, PyObject *Py_UNUSED(ignored))
{
    if (!self->initialized) {
        PyErr_SetString(PyExc_RuntimeError, "BZ2Compressor.__init__ was not called");
        return NULL;
    }
    if (self->flushed) {
        PyErr_SetString(PyExc_ValueError, "Repeated call to flush()");
        return NULL;
    }
    self->flushed = 1;
    return compress_run(self, NULL, 0, BZ_FINISH);
}

static void
Compressor_dealloc(Compressor *self)
{
    if (self->initialized) {
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
    int initialized;
    char eof;
    char needs_input;
    PyObject *unused_data;
    InBuf pending;
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
    if (self->initialized) {
        BZ2_bzDecompressEnd(&self->bzs);
        self->initialized = 0;
    }
    memset(&self->bzs, 0, sizeof(self->bzs));
    int ret = BZ2_bzDecompressInit(&self->bzs, 0, 0);
    if (ret != BZ_OK) {
        bz2_error(ret);
        return -1;
    }
    self->initialized = 1;
    self->eof = 0;
    self->needs_input = 1;
    inbuf_keep(&self->pending, NULL, 0);
    Py_XSETREF(self->unused_data, PyBytes_FromStringAndSize(NULL, 0));
    return self->unused_data == NULL ? -1 : 0;
}

static PyObject *
Decompressor_decompress(Decompressor *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"data", "max_length", NULL};
    Py_buffer view;
    Py_ssize_t max_length = -1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*|n:decompress", kwlist, &view, &max_length)) {
        return NULL;
    }
    PyObject *result = NULL;
    char *input = NULL;
    size_t input_len = 0;
    OutBuf out = {0};
    if (!self->initialized) {
        PyErr_SetString(PyExc_RuntimeError, "BZ2Decompressor.__init__ was not called");
        goto done;
    }
    if (self->eof) {
        PyErr_SetString(PyExc_EOFError, "End of stream already reached");
        goto done;
    }
    if (inbuf_join(&self->pending, view.buf, (size_t)view.len, &input, &input_len) < 0 ||
        outbuf_init(&out, max_length) < 0) {
        goto done;
    }
    self->bzs.next_in = input;
    self->bzs.avail_in = (unsigned int)input_len;
    for (;;) {
        char *next;
        size_t avail;
        if (outbuf_full(&out)) {
            break;
        }
        if (outbuf_reserve(&out, &next, &avail) < 0) {
            goto error;
        }
        self->bzs.next_out = next;
        self->bzs.avail_out = (unsigned int)avail;
        int ret = BZ2_bzDecompress(&self->bzs);
        outbuf_commit(&out, avail - self->bzs.avail_out);
        if (ret == BZ_STREAM_END) {
            self->eof = 1;
            break;
        }
        if (ret != BZ_OK) {
            bz2_error(ret);
            goto error;
        }
        if (self->bzs.avail_in == 0 && self->bzs.avail_out != 0) {
            break;
        }
    }
    if (self->eof) {
        self->needs_input = 0;
        PyObject *rest = PyBytes_FromStringAndSize(self->bzs.next_in, self->bzs.avail_in);
        if (rest == NULL) {
            goto error;
        }
        Py_SETREF(self->unused_data, rest);
        inbuf_keep(&self->pending, NULL, 0);
    } else if (self->bzs.avail_in == 0) {
        /* Output may still be held inside libbzip2 when the buffer filled up. */
        self->needs_input = !outbuf_full(&out);
        inbuf_keep(&self->pending, NULL, 0);
    } else {
        self->needs_input = 0;
        if (inbuf_keep(&self->pending, self->bzs.next_in, self->bzs.avail_in) < 0) {
            goto error;
        }
    }
    result = outbuf_finish(&out);
    goto done;
error:
    outbuf_abort(&out);
done:
    PyMem_Free(input);
    PyBuffer_Release(&view);
    return result;
}

static void
Decompressor_dealloc(Decompressor *self)
{
    if (self->initialized) {
        BZ2_bzDecompressEnd(&self->bzs);
    }
    PyMem_Free(self->pending.data);
    Py_XDECREF(self->unused_data);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
Decompressor_get_eof(Decompressor *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(self->eof);
}

static PyObject *
Decompressor_get_needs_input(Decompressor *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(self->needs_input);
}

static PyObject *
Decompressor_get_unused_data(Decompressor *self, void *Py_UNUSED(closure))
{
    if (self->unused_data == NULL) {
        return PyBytes_FromStringAndSize(NULL, 0);
    }
    return Py_NewRef(self->unused_data);
}

static PyGetSetDef Decompressor_getset[] = {
    {"eof", (getter)Decompressor_get_eof, NULL, "True if the end-of-stream marker has been reached.", NULL},
    {"needs_input", (getter)Decompressor_get_needs_input, NULL,
     "True if more input is needed before more decompressed data can be produced.", NULL},
    {"unused_data", (getter)Decompressor_get_unused_data, NULL,
     "Data found after the end of the compressed stream.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
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
    .tp_getset = Decompressor_getset,
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
