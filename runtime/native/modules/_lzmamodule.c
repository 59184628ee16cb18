/* _lzma for the isola guest: LZMACompressor, LZMADecompressor, filter-chain
 * specifiers and the constants over liblzma, with the interface the standard
 * library's lzma module (and zipfile, tarfile) expects. Written for isola
 * (the guest is single-threaded: no locks, the GIL is never released). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <lzma.h>

#include "outbuf.h"

/* The Python-level values of the lzma module's container formats. */
enum {
    FORMAT_AUTO_VALUE = 0,
    FORMAT_XZ_VALUE = 1,
    FORMAT_ALONE_VALUE = 2,
    FORMAT_RAW_VALUE = 3,
};

/* LZMADecompressor.check before the stream header has been read. */
#define LZMA_CHECK_UNKNOWN_VALUE (LZMA_CHECK_ID_MAX + 1)

static PyObject *LZMAError;

/* Sets an exception and returns 1 when `ret` is an error. */
static int
lzma_failed(lzma_ret ret)
{
    switch (ret) {
    case LZMA_OK:
    case LZMA_GET_CHECK:
    case LZMA_NO_CHECK:
    case LZMA_STREAM_END:
        return 0;
    case LZMA_UNSUPPORTED_CHECK:
        PyErr_SetString(LZMAError, "Unsupported integrity check");
        return 1;
    case LZMA_MEM_ERROR:
        PyErr_NoMemory();
        return 1;
    case LZMA_MEMLIMIT_ERROR:
        PyErr_SetString(LZMAError, "Memory usage limit exceeded");
        return 1;
    case LZMA_FORMAT_ERROR:
        PyErr_SetString(LZMAError, "Input format not supported by decoder");
        return 1;
    case LZMA_OPTIONS_ERROR:
        PyErr_SetString(LZMAError, "Invalid or unsupported options");
        return 1;
    case LZMA_DATA_ERROR:
        PyErr_SetString(LZMAError, "Corrupt input data");
        return 1;
    case LZMA_BUF_ERROR:
        PyErr_SetString(LZMAError, "Insufficient buffer space");
        return 1;
    case LZMA_PROG_ERROR:
        PyErr_SetString(LZMAError, "Internal error");
        return 1;
    default:
        PyErr_Format(LZMAError, "Unrecognized error from liblzma: %d", (int)ret);
        return 1;
    }
}

/* ---- filter specifiers (dicts) <-> lzma_filter ------------------------ */

/* Reads an optional unsigned 32-bit entry of a filter-specifier dict.
 * Returns 0 (absent), 1 (stored in *out) or -1 (error set). */
static int
spec_u32(PyObject *spec, const char *key, uint32_t *out)
{
    PyObject *value;
    int found = PyDict_GetItemStringRef(spec, key, &value);
    if (found <= 0) {
        return found;
    }
    unsigned long v = PyLong_AsUnsignedLong(value);
    Py_DECREF(value);
    if (v == (unsigned long)-1 && PyErr_Occurred()) {
        return -1;
    }
    if (v > UINT32_MAX) {
        PyErr_Format(PyExc_OverflowError, "Value too large for uint32_t type: %s", key);
        return -1;
    }
    *out = (uint32_t)v;
    return 1;
}

/* Every key of `spec` must be "id" or one of `allowed`. */
static int
spec_check_keys(PyObject *spec, const char *const *allowed)
{
    PyObject *key;
    Py_ssize_t pos = 0;
    while (PyDict_Next(spec, &pos, &key, NULL)) {
        if (!PyUnicode_Check(key)) {
            PyErr_SetString(PyExc_TypeError, "Filter specifier keys must be strings");
            return -1;
        }
        const char *name = PyUnicode_AsUTF8(key);
        if (name == NULL) {
            return -1;
        }
        int ok = strcmp(name, "id") == 0;
        for (const char *const *a = allowed; !ok && *a != NULL; a++) {
            ok = strcmp(name, *a) == 0;
        }
        if (!ok) {
            PyErr_Format(PyExc_ValueError, "Invalid filter specifier option '%s'", name);
            return -1;
        }
    }
    return 0;
}

static void *
parse_lzma_options(PyObject *spec)
{
    static const char *const keys[] = {"preset", "dict_size", "lc", "lp", "pb", "mode",
                                       "nice_len", "mf", "depth", NULL};
    if (spec_check_keys(spec, keys) < 0) {
        return NULL;
    }
    uint32_t preset = LZMA_PRESET_DEFAULT;
    if (spec_u32(spec, "preset", &preset) < 0) {
        return NULL;
    }
    lzma_options_lzma *options = PyMem_Calloc(1, sizeof(*options));
    if (options == NULL) {
        return PyErr_NoMemory();
    }
    if (lzma_lzma_preset(options, preset)) {
        PyMem_Free(options);
        PyErr_Format(LZMAError, "Invalid compression preset: %u", preset);
        return NULL;
    }
    uint32_t v;
    int r;
#define LZMA_FIELD(name, assign)                  \
    if ((r = spec_u32(spec, #name, &v)) < 0) {     \
        PyMem_Free(options);                       \
        return NULL;                               \
    } else if (r) {                                \
        assign;                                    \
    }
    LZMA_FIELD(dict_size, options->dict_size = v)
    LZMA_FIELD(lc, options->lc = v)
    LZMA_FIELD(lp, options->lp = v)
    LZMA_FIELD(pb, options->pb = v)
    LZMA_FIELD(mode, options->mode = (lzma_mode)v)
    LZMA_FIELD(nice_len, options->nice_len = v)
    LZMA_FIELD(mf, options->mf = (lzma_match_finder)v)
    LZMA_FIELD(depth, options->depth = v)
#undef LZMA_FIELD
    return options;
}

static void *
parse_delta_options(PyObject *spec)
{
    static const char *const keys[] = {"dist", NULL};
    uint32_t dist = 1;
    if (spec_check_keys(spec, keys) < 0 || spec_u32(spec, "dist", &dist) < 0) {
        return NULL;
    }
    lzma_options_delta *options = PyMem_Calloc(1, sizeof(*options));
    if (options == NULL) {
        return PyErr_NoMemory();
    }
    options->type = LZMA_DELTA_TYPE_BYTE;
    options->dist = dist;
    return options;
}

static void *
parse_bcj_options(PyObject *spec)
{
    static const char *const keys[] = {"start_offset", NULL};
    uint32_t start_offset = 0;
    if (spec_check_keys(spec, keys) < 0 || spec_u32(spec, "start_offset", &start_offset) < 0) {
        return NULL;
    }
    lzma_options_bcj *options = PyMem_Calloc(1, sizeof(*options));
    if (options == NULL) {
        return PyErr_NoMemory();
    }
    options->start_offset = start_offset;
    return options;
}

static int
parse_filter_spec(PyObject *spec, lzma_filter *f)
{
    if (!PyMapping_Check(spec) || !PyDict_Check(spec)) {
        PyErr_SetString(PyExc_TypeError, "Filter specifier must be a dict or dict-like object");
        return -1;
    }
    PyObject *id_obj;
    int found = PyDict_GetItemStringRef(spec, "id", &id_obj);
    if (found < 0) {
        return -1;
    }
    if (found == 0) {
        PyErr_SetString(PyExc_ValueError, "Filter specifier must have an \"id\" entry");
        return -1;
    }
    unsigned long long id = PyLong_AsUnsignedLongLong(id_obj);
    Py_DECREF(id_obj);
    if (id == (unsigned long long)-1 && PyErr_Occurred()) {
        return -1;
    }
    f->id = (lzma_vli)id;
    switch (f->id) {
    case LZMA_FILTER_LZMA1:
    case LZMA_FILTER_LZMA2:
        f->options = parse_lzma_options(spec);
        break;
    case LZMA_FILTER_DELTA:
        f->options = parse_delta_options(spec);
        break;
    case LZMA_FILTER_X86:
    case LZMA_FILTER_POWERPC:
    case LZMA_FILTER_IA64:
    case LZMA_FILTER_ARM:
    case LZMA_FILTER_ARMTHUMB:
    case LZMA_FILTER_ARM64:
    case LZMA_FILTER_SPARC:
    case LZMA_FILTER_RISCV:
        f->options = parse_bcj_options(spec);
        break;
    default:
        PyErr_Format(PyExc_ValueError, "Invalid filter ID: %llu", id);
        return -1;
    }
    return f->options == NULL ? -1 : 0;
}

static void
free_filter_chain(lzma_filter filters[])
{
    for (int i = 0; filters[i].id != LZMA_VLI_UNKNOWN; i++) {
        PyMem_Free(filters[i].options);
    }
}

/* `filters` must hold LZMA_FILTERS_MAX + 1 entries. */
static int
parse_filter_chain(PyObject *chain, lzma_filter filters[])
{
    Py_ssize_t n = PySequence_Length(chain);
    if (n < 0) {
        return -1;
    }
    if (n > LZMA_FILTERS_MAX) {
        PyErr_Format(PyExc_ValueError, "Too many filters - liblzma supports a maximum of %d",
                     LZMA_FILTERS_MAX);
        return -1;
    }
    filters[0].id = LZMA_VLI_UNKNOWN;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *spec = PySequence_GetItem(chain, i);
        if (spec == NULL) {
            free_filter_chain(filters);
            return -1;
        }
        int ok = parse_filter_spec(spec, &filters[i]);
        Py_DECREF(spec);
        if (ok < 0) {
            filters[i].id = LZMA_VLI_UNKNOWN;
            free_filter_chain(filters);
            return -1;
        }
        filters[i + 1].id = LZMA_VLI_UNKNOWN;
    }
    return 0;
}

static int
dict_set_u32(PyObject *dict, const char *key, uint32_t value)
{
    PyObject *v = PyLong_FromUnsignedLong(value);
    if (v == NULL) {
        return -1;
    }
    int r = PyDict_SetItemString(dict, key, v);
    Py_DECREF(v);
    return r;
}

/* Filter specifier dict for a decoded filter (as _decode_filter_properties). */
static PyObject *
build_filter_spec(const lzma_filter *f)
{
    PyObject *spec = PyDict_New();
    if (spec == NULL) {
        return NULL;
    }
    PyObject *id = PyLong_FromUnsignedLongLong(f->id);
    if (id == NULL || PyDict_SetItemString(spec, "id", id) < 0) {
        Py_XDECREF(id);
        goto error;
    }
    Py_DECREF(id);
    switch (f->id) {
    case LZMA_FILTER_LZMA1: {
        const lzma_options_lzma *o = f->options;
        if (dict_set_u32(spec, "lc", o->lc) < 0 || dict_set_u32(spec, "lp", o->lp) < 0 ||
            dict_set_u32(spec, "pb", o->pb) < 0 || dict_set_u32(spec, "dict_size", o->dict_size) < 0) {
            goto error;
        }
        break;
    }
    case LZMA_FILTER_LZMA2: {
        const lzma_options_lzma *o = f->options;
        if (dict_set_u32(spec, "dict_size", o->dict_size) < 0) {
            goto error;
        }
        break;
    }
    case LZMA_FILTER_DELTA: {
        const lzma_options_delta *o = f->options;
        if (dict_set_u32(spec, "dist", o->dist) < 0) {
            goto error;
        }
        break;
    }
    default: {
        const lzma_options_bcj *o = f->options;
        if (o != NULL && dict_set_u32(spec, "start_offset", o->start_offset) < 0) {
            goto error;
        }
        break;
    }
    }
    return spec;
error:
    Py_DECREF(spec);
    return NULL;
}

/* ---- LZMACompressor --------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    lzma_stream lzs;
    int initialized;
    int flushed;
} Compressor;

static PyObject *
compress_run(Compressor *c, const uint8_t *data, size_t len, lzma_action action)
{
    OutBuf out;
    if (outbuf_init(&out, -1) < 0) {
        return NULL;
    }
    c->lzs.next_in = data;
    c->lzs.avail_in = len;
    for (;;) {
        char *next;
        size_t avail;
        if (outbuf_reserve(&out, &next, &avail) < 0) {
            goto error;
        }
        c->lzs.next_out = (uint8_t *)next;
        c->lzs.avail_out = avail;
        lzma_ret ret = lzma_code(&c->lzs, action);
        outbuf_commit(&out, avail - c->lzs.avail_out);
        if (ret == LZMA_BUF_ERROR && c->lzs.avail_in == 0 && c->lzs.avail_out > 0) {
            ret = LZMA_OK; /* nothing to do */
        }
        if (lzma_failed(ret)) {
            goto error;
        }
        if ((action == LZMA_RUN && c->lzs.avail_in == 0) ||
            (action == LZMA_FINISH && ret == LZMA_STREAM_END)) {
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
    static char *kwlist[] = {"format", "check", "preset", "filters", NULL};
    int format = FORMAT_XZ_VALUE;
    int check = -1;
    PyObject *preset_obj = Py_None;
    PyObject *filters_obj = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|iiOO:LZMACompressor", kwlist, &format,
                                     &check, &preset_obj, &filters_obj)) {
        return -1;
    }
    if (format != FORMAT_XZ_VALUE && check != -1 && check != LZMA_CHECK_NONE) {
        PyErr_SetString(PyExc_ValueError, "Integrity checks are only supported by FORMAT_XZ");
        return -1;
    }
    if (preset_obj != Py_None && filters_obj != Py_None) {
        PyErr_SetString(PyExc_ValueError, "Cannot specify both preset and filter chain");
        return -1;
    }
    uint32_t preset = LZMA_PRESET_DEFAULT;
    if (preset_obj != Py_None) {
        unsigned long p = PyLong_AsUnsignedLong(preset_obj);
        if (p == (unsigned long)-1 && PyErr_Occurred()) {
            return -1;
        }
        preset = (uint32_t)p;
    }
    lzma_filter filters[LZMA_FILTERS_MAX + 1];
    filters[0].id = LZMA_VLI_UNKNOWN;
    if (filters_obj != Py_None && parse_filter_chain(filters_obj, filters) < 0) {
        return -1;
    }
    if (self->initialized) {
        lzma_end(&self->lzs);
        self->initialized = 0;
    }
    lzma_stream init = LZMA_STREAM_INIT;
    self->lzs = init;
    lzma_ret ret;
    switch (format) {
    case FORMAT_XZ_VALUE:
        if (check == -1) {
            check = LZMA_CHECK_CRC64;
        }
        if (filters_obj == Py_None) {
            ret = lzma_easy_encoder(&self->lzs, preset, (lzma_check)check);
        } else {
            ret = lzma_stream_encoder(&self->lzs, filters, (lzma_check)check);
        }
        break;
    case FORMAT_ALONE_VALUE:
        if (filters_obj == Py_None) {
            lzma_options_lzma options;
            if (lzma_lzma_preset(&options, preset)) {
                PyErr_Format(LZMAError, "Invalid compression preset: %u", preset);
                return -1;
            }
            ret = lzma_alone_encoder(&self->lzs, &options);
        } else if (filters[0].id == LZMA_FILTER_LZMA1 && filters[1].id == LZMA_VLI_UNKNOWN) {
            ret = lzma_alone_encoder(&self->lzs, filters[0].options);
        } else {
            free_filter_chain(filters);
            PyErr_SetString(PyExc_ValueError, "Invalid filter chain for FORMAT_ALONE - "
                                              "must be a single LZMA1 filter");
            return -1;
        }
        break;
    case FORMAT_RAW_VALUE:
        if (filters_obj == Py_None) {
            PyErr_SetString(PyExc_ValueError, "Must specify filters for FORMAT_RAW");
            return -1;
        }
        ret = lzma_raw_encoder(&self->lzs, filters);
        break;
    default:
        free_filter_chain(filters);
        PyErr_Format(PyExc_ValueError, "Invalid container format: %d", format);
        return -1;
    }
    free_filter_chain(filters);
    if (lzma_failed(ret)) {
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
        PyErr_SetString(PyExc_RuntimeError, "LZMACompressor.__init__ was not called");
    } else if (self->flushed) {
        PyErr_SetString(PyExc_ValueError, "Compressor has been flushed");
    } else {
        result = compress_run(self, view.buf, (size_t)view.len, LZMA_RUN);
    }
    PyBuffer_Release(&view);
    return result;
}

static PyObject *
Compressor_flush(Compressor *self, PyObject *Py_UNUSED(ignored))
{
    if (!self->initialized) {
        PyErr_SetString(PyExc_RuntimeError, "LZMACompressor.__init__ was not called");
        return NULL;
    }
    if (self->flushed) {
        PyErr_SetString(PyExc_ValueError, "Repeated call to flush()");
        return NULL;
    }
    self->flushed = 1;
    return compress_run(self, NULL, 0, LZMA_FINISH);
}

static void
Compressor_dealloc(Compressor *self)
{
    if (self->initialized) {
        lzma_end(&self->lzs);
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
    .tp_name = "_lzma.LZMACompressor",
    .tp_basicsize = sizeof(Compressor),
    .tp_dealloc = (destructor)Compressor_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "LZMACompressor(format=FORMAT_XZ, check=-1, preset=None, filters=None)\n--\n\n"
              "Create a compressor object for compressing data incrementally.",
    .tp_methods = Compressor_methods,
    .tp_init = (initproc)Compressor_init,
    .tp_new = PyType_GenericNew,
};

/* ---- LZMADecompressor ------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    lzma_stream lzs;
    int initialized;
    int check;
    char eof;
    char needs_input;
    PyObject *unused_data;
    InBuf pending;
} Decompressor;

static int
Decompressor_init(Decompressor *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"format", "memlimit", "filters", NULL};
    int format = FORMAT_AUTO_VALUE;
    PyObject *memlimit_obj = Py_None;
    PyObject *filters_obj = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|iOO:LZMADecompressor", kwlist, &format,
                                     &memlimit_obj, &filters_obj)) {
        return -1;
    }
    uint64_t memlimit = UINT64_MAX;
    if (memlimit_obj != Py_None) {
        if (format == FORMAT_RAW_VALUE) {
            PyErr_SetString(PyExc_ValueError, "Cannot specify memory limit with FORMAT_RAW");
            return -1;
        }
        unsigned long long m = PyLong_AsUnsignedLongLong(memlimit_obj);
        if (m == (unsigned long long)-1 && PyErr_Occurred()) {
            return -1;
        }
        memlimit = m;
    }
    if (format == FORMAT_RAW_VALUE && filters_obj == Py_None) {
        PyErr_SetString(PyExc_ValueError, "Must specify filters for FORMAT_RAW");
        return -1;
    }
    if (format != FORMAT_RAW_VALUE && filters_obj != Py_None) {
        PyErr_SetString(PyExc_ValueError, "Cannot specify filters except with FORMAT_RAW");
        return -1;
    }
    if (self->initialized) {
        lzma_end(&self->lzs);
        self->initialized = 0;
    }
    lzma_stream init = LZMA_STREAM_INIT;
    self->lzs = init;
    const uint32_t flags = LZMA_TELL_ANY_CHECK | LZMA_TELL_NO_CHECK;
    lzma_ret ret;
    switch (format) {
    case FORMAT_AUTO_VALUE:
        self->check = LZMA_CHECK_UNKNOWN_VALUE;
        ret = lzma_auto_decoder(&self->lzs, memlimit, flags);
        break;
    case FORMAT_XZ_VALUE:
        self->check = LZMA_CHECK_UNKNOWN_VALUE;
        ret = lzma_stream_decoder(&self->lzs, memlimit, flags);
        break;
    case FORMAT_ALONE_VALUE:
        self->check = LZMA_CHECK_NONE;
        ret = lzma_alone_decoder(&self->lzs, memlimit);
        break;
    case FORMAT_RAW_VALUE: {
        lzma_filter filters[LZMA_FILTERS_MAX + 1];
        if (parse_filter_chain(filters_obj, filters) < 0) {
            return -1;
        }
        self->check = LZMA_CHECK_NONE;
        ret = lzma_raw_decoder(&self->lzs, filters);
        free_filter_chain(filters);
        break;
    }
    default:
        PyErr_Format(PyExc_ValueError, "Invalid container format: %d", format);
        return -1;
    }
    if (lzma_failed(ret)) {
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
        PyErr_SetString(PyExc_RuntimeError, "LZMADecompressor.__init__ was not called");
        goto done;
    }
    if (self->eof) {
        PyErr_SetString(PyExc_EOFError, "Already at end of stream");
        goto done;
    }
    if (inbuf_join(&self->pending, view.buf, (size_t)view.len, &input, &input_len) < 0 ||
        outbuf_init(&out, max_length) < 0) {
        goto done;
    }
    lzma_stream *lzs = &self->lzs;
    lzs->next_in = (const uint8_t *)input;
    lzs->avail_in = input_len;
    for (;;) {
        char *next;
        size_t avail;
        if (outbuf_full(&out)) {
            break;
        }
        if (outbuf_reserve(&out, &next, &avail) < 0) {
            goto error;
        }
        lzs->next_out = (uint8_t *)next;
        lzs->avail_out = avail;
        lzma_ret ret = lzma_code(lzs, LZMA_RUN);
        outbuf_commit(&out, avail - lzs->avail_out);
        if (ret == LZMA_BUF_ERROR && lzs->avail_in == 0 && lzs->avail_out > 0) {
            break; /* no progress possible without more input */
        }
        if (lzma_failed(ret)) {
            goto error;
        }
        if (ret == LZMA_GET_CHECK || ret == LZMA_NO_CHECK) {
            self->check = lzma_get_check(lzs);
        }
        if (ret == LZMA_STREAM_END) {
            self->eof = 1;
            break;
        }
        if (lzs->avail_in == 0 && lzs->avail_out != 0) {
            break;
        }
    }
    if (self->eof) {
        self->needs_input = 0;
        PyObject *rest = PyBytes_FromStringAndSize((const char *)lzs->next_in, lzs->avail_in);
        if (rest == NULL) {
            goto error;
        }
        Py_SETREF(self->unused_data, rest);
        inbuf_keep(&self->pending, NULL, 0);
    } else if (lzs->avail_in == 0) {
        /* When the output filled up, liblzma may still hold decoded bytes. */
        self->needs_input = !outbuf_full(&out);
        inbuf_keep(&self->pending, NULL, 0);
    } else {
        self->needs_input = 0;
        if (inbuf_keep(&self->pending, (const char *)lzs->next_in, lzs->avail_in) < 0) {
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
        lzma_end(&self->lzs);
    }
    PyMem_Free(self->pending.data);
    Py_XDECREF(self->unused_data);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
Decompressor_get_check(Decompressor *self, void *Py_UNUSED(closure))
{
    return PyLong_FromLong(self->check);
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
    {"check", (getter)Decompressor_get_check, NULL,
     "ID of the integrity check used by the input stream.", NULL},
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
    .tp_name = "_lzma.LZMADecompressor",
    .tp_basicsize = sizeof(Decompressor),
    .tp_dealloc = (destructor)Decompressor_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "LZMADecompressor(format=FORMAT_AUTO, memlimit=None, filters=None)\n--\n\n"
              "Create a decompressor object for decompressing data incrementally.",
    .tp_methods = Decompressor_methods,
    .tp_getset = Decompressor_getset,
    .tp_init = (initproc)Decompressor_init,
    .tp_new = PyType_GenericNew,
};

/* ---- module functions ------------------------------------------------- */

static PyObject *
is_check_supported(PyObject *Py_UNUSED(module), PyObject *arg)
{
    int check = PyLong_AsInt(arg);
    if (check == -1 && PyErr_Occurred()) {
        return NULL;
    }
    return PyBool_FromLong(lzma_check_is_supported((lzma_check)check));
}

static PyObject *
encode_filter_properties(PyObject *Py_UNUSED(module), PyObject *spec)
{
    lzma_filter filter;
    if (parse_filter_spec(spec, &filter) < 0) {
        return NULL;
    }
    PyObject *result = NULL;
    uint32_t size;
    lzma_ret ret = lzma_properties_size(&size, &filter);
    if (!lzma_failed(ret)) {
        result = PyBytes_FromStringAndSize(NULL, size);
        if (result != NULL) {
            ret = lzma_properties_encode(&filter, (uint8_t *)PyBytes_AS_STRING(result));
            if (lzma_failed(ret)) {
                Py_CLEAR(result);
            }
        }
    }
    PyMem_Free(filter.options);
    return result;
}

static PyObject *
decode_filter_properties(PyObject *Py_UNUSED(module), PyObject *args)
{
    unsigned long long id;
    Py_buffer props;
    if (!PyArg_ParseTuple(args, "Ky*:_decode_filter_properties", &id, &props)) {
        return NULL;
    }
    lzma_filter filter = {.id = (lzma_vli)id, .options = NULL};
    lzma_ret ret = lzma_properties_decode(&filter, NULL, props.buf, (size_t)props.len);
    PyBuffer_Release(&props);
    if (lzma_failed(ret)) {
        return NULL;
    }
    PyObject *result = build_filter_spec(&filter);
    free(filter.options); /* allocated by liblzma with malloc */
    return result;
}

static PyMethodDef module_methods[] = {
    {"is_check_supported", is_check_supported, METH_O,
     "is_check_supported($module, check_id, /)\n--\n\n"
     "Test whether the given integrity check is supported."},
    {"_encode_filter_properties", encode_filter_properties, METH_O,
     "_encode_filter_properties($module, filter, /)\n--\n\n"
     "Return the raw properties (bytes) of a filter specifier."},
    {"_decode_filter_properties", decode_filter_properties, METH_VARARGS,
     "_decode_filter_properties($module, filter_id, encoded_props, /)\n--\n\n"
     "Return a filter specifier (dict) from raw properties."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef lzma_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_lzma",
    .m_doc = "liblzma compressor and decompressor objects (isola guest build).",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__lzma(void)
{
    if (PyType_Ready(&CompressorType) < 0 || PyType_Ready(&DecompressorType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&lzma_module);
    if (m == NULL) {
        return NULL;
    }
    static const struct {
        const char *name;
        unsigned long long value;
    } constants[] = {
        {"FORMAT_AUTO", FORMAT_AUTO_VALUE},
        {"FORMAT_XZ", FORMAT_XZ_VALUE},
        {"FORMAT_ALONE", FORMAT_ALONE_VALUE},
        {"FORMAT_RAW", FORMAT_RAW_VALUE},
        {"CHECK_NONE", LZMA_CHECK_NONE},
        {"CHECK_CRC32", LZMA_CHECK_CRC32},
        {"CHECK_CRC64", LZMA_CHECK_CRC64},
        {"CHECK_SHA256", LZMA_CHECK_SHA256},
        {"CHECK_ID_MAX", LZMA_CHECK_ID_MAX},
        {"CHECK_UNKNOWN", LZMA_CHECK_UNKNOWN_VALUE},
        {"FILTER_LZMA1", LZMA_FILTER_LZMA1},
        {"FILTER_LZMA2", LZMA_FILTER_LZMA2},
        {"FILTER_DELTA", LZMA_FILTER_DELTA},
        {"FILTER_X86", LZMA_FILTER_X86},
        {"FILTER_IA64", LZMA_FILTER_IA64},
        {"FILTER_ARM", LZMA_FILTER_ARM},
        {"FILTER_ARMTHUMB", LZMA_FILTER_ARMTHUMB},
        {"FILTER_SPARC", LZMA_FILTER_SPARC},
        {"FILTER_POWERPC", LZMA_FILTER_POWERPC},
        {"MF_HC3", LZMA_MF_HC3},
        {"MF_HC4", LZMA_MF_HC4},
        {"MF_BT2", LZMA_MF_BT2},
        {"MF_BT3", LZMA_MF_BT3},
        {"MF_BT4", LZMA_MF_BT4},
        {"MODE_FAST", LZMA_MODE_FAST},
        {"MODE_NORMAL", LZMA_MODE_NORMAL},
        {"PRESET_DEFAULT", LZMA_PRESET_DEFAULT},
        {"PRESET_EXTREME", LZMA_PRESET_EXTREME},
    };
    for (size_t i = 0; i < sizeof(constants) / sizeof(constants[0]); i++) {
        PyObject *v = PyLong_FromUnsignedLongLong(constants[i].value);
        if (v == NULL || PyModule_Add(m, constants[i].name, v) < 0) {
            goto error;
        }
    }
    LZMAError = PyErr_NewExceptionWithDoc("_lzma.LZMAError", "Call to liblzma failed.", NULL, NULL);
    if (LZMAError == NULL || PyModule_AddObjectRef(m, "LZMAError", LZMAError) < 0 ||
        PyModule_AddObjectRef(m, "LZMACompressor", (PyObject *)&CompressorType) < 0 ||
        PyModule_AddObjectRef(m, "LZMADecompressor", (PyObject *)&DecompressorType) < 0) {
        goto error;
    }
    return m;
error:
    Py_DECREF(m);
    return NULL;
}
