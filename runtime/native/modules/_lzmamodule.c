/* _lzma for the isola guest: LZMACompressor, LZMADecompressor, filter-chain
 * specifiers and the constants over liblzma, with the interface the standard
 * library's lzma module (and zipfile, tarfile) expects. Written for isola
 * (the guest is single-threaded: no locks, the GIL is never released). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <lzma.h>

#include "codec.h"

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
    static const struct {
        lzma_ret ret;
        const char *message;
    } errors[] = {
        {LZMA_UNSUPPORTED_CHECK, "Unsupported integrity check"},
        {LZMA_MEMLIMIT_ERROR, "Memory usage limit exceeded"},
        {LZMA_FORMAT_ERROR, "Input format not supported by decoder"},
        {LZMA_OPTIONS_ERROR, "Invalid or unsupported options"},
        {LZMA_DATA_ERROR, "Corrupt input data"},
        {LZMA_BUF_ERROR, "Insufficient buffer space"},
        {LZMA_PROG_ERROR, "Internal error"},
    };
    if (ret == LZMA_OK || ret == LZMA_GET_CHECK || ret == LZMA_NO_CHECK || ret == LZMA_STREAM_END) {
        return 0;
    }
    if (ret == LZMA_MEM_ERROR) {
        PyErr_NoMemory();
        return 1;
    }
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
        if (errors[i].ret == ret) {
            PyErr_SetString(LZMAError, errors[i].message);
            return 1;
        }
    }
    PyErr_Format(LZMAError, "Unrecognized error from liblzma: %d", (int)ret);
    return 1;
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

/* Options of the delta and BCJ filters: one optional uint32 `key`. */
static void *
parse_one_option(PyObject *spec, const char *key, uint32_t value, size_t size, int delta)
{
    const char *const keys[] = {key, NULL};
    if (spec_check_keys(spec, keys) < 0 || spec_u32(spec, key, &value) < 0) {
        return NULL;
    }
    void *options = PyMem_Calloc(1, size);
    if (options == NULL) {
        return PyErr_NoMemory();
    }
    if (delta) {
        ((lzma_options_delta *)options)->type = LZMA_DELTA_TYPE_BYTE;
        ((lzma_options_delta *)options)->dist = value;
    } else {
        ((lzma_options_bcj *)options)->start_offset = value;
    }
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
        f->options = parse_one_option(spec, "dist", 1, sizeof(lzma_options_delta), 1);
        break;
    case LZMA_FILTER_X86:
    case LZMA_FILTER_POWERPC:
    case LZMA_FILTER_IA64:
    case LZMA_FILTER_ARM:
    case LZMA_FILTER_ARMTHUMB:
    case LZMA_FILTER_ARM64:
    case LZMA_FILTER_SPARC:
    case LZMA_FILTER_RISCV:
        f->options = parse_one_option(spec, "start_offset", 0, sizeof(lzma_options_bcj), 0);
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

/* ---- the codec step ---------------------------------------------------- */

typedef struct {
    lzma_stream lzs;
    int check; /* the decoder's LZMADecompressor.check */
} Codec;

static int
lzma_step(void *codec, const char **in, size_t *in_len, char **out, size_t *out_len, int finish)
{
    Codec *c = codec;
    lzma_stream *lzs = &c->lzs;
    lzs->next_in = (const uint8_t *)*in;
    lzs->avail_in = *in_len;
    lzs->next_out = (uint8_t *)*out;
    lzs->avail_out = *out_len;
    lzma_ret ret = lzma_code(lzs, finish ? LZMA_FINISH : LZMA_RUN);
    *in = (const char *)lzs->next_in;
    *in_len = lzs->avail_in;
    *out = (char *)lzs->next_out;
    *out_len = lzs->avail_out;
    if (ret == LZMA_BUF_ERROR && lzs->avail_in == 0 && lzs->avail_out > 0) {
        return 0; /* no progress possible without more input */
    }
    if (lzma_failed(ret)) {
        return -1;
    }
    if (ret == LZMA_GET_CHECK || ret == LZMA_NO_CHECK) {
        c->check = lzma_get_check(lzs);
    }
    return ret == LZMA_STREAM_END ? 1 : 0;
}

/* ---- LZMACompressor --------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    Codec codec;
    CompState st;
} Compressor;

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
    if (self->st.initialized) {
        lzma_end(&self->codec.lzs);
        self->st.initialized = 0;
    }
    lzma_stream init = LZMA_STREAM_INIT;
    self->codec.lzs = init;
    lzma_stream *lzs = &self->codec.lzs;
    lzma_ret ret;
    switch (format) {
    case FORMAT_XZ_VALUE:
        if (check == -1) {
            check = LZMA_CHECK_CRC64;
        }
        if (filters_obj == Py_None) {
            ret = lzma_easy_encoder(lzs, preset, (lzma_check)check);
        } else {
            ret = lzma_stream_encoder(lzs, filters, (lzma_check)check);
        }
        break;
    case FORMAT_ALONE_VALUE:
        if (filters_obj == Py_None) {
            lzma_options_lzma options;
            if (lzma_lzma_preset(&options, preset)) {
                PyErr_Format(LZMAError, "Invalid compression preset: %u", preset);
                return -1;
            }
            ret = lzma_alone_encoder(lzs, &options);
        } else if (filters[0].id == LZMA_FILTER_LZMA1 && filters[1].id == LZMA_VLI_UNKNOWN) {
            ret = lzma_alone_encoder(lzs, filters[0].options);
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
        ret = lzma_raw_encoder(lzs, filters);
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
    self->st.initialized = 1;
    self->st.flushed = 0;
    return 0;
}

static PyObject *
Compressor_compress(Compressor *self, PyObject *arg)
{
    return comp_compress(&self->st, &self->codec, lzma_step, "LZMACompressor", arg);
}

static PyObject *
Compressor_flush(Compressor *self, PyObject *Py_UNUSED(ignored))
{
    return comp_flush(&self->st, &self->codec, lzma_step, "LZMACompressor");
}

static void
Compressor_dealloc(Compressor *self)
{
    if (self->st.initialized) {
        lzma_end(&self->codec.lzs);
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
    Codec codec;
    DecompState st;
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
    if (self->st.initialized) {
        lzma_end(&self->codec.lzs);
        self->st.initialized = 0;
    }
    lzma_stream init = LZMA_STREAM_INIT;
    self->codec.lzs = init;
    lzma_stream *lzs = &self->codec.lzs;
    const uint32_t flags = LZMA_TELL_ANY_CHECK | LZMA_TELL_NO_CHECK;
    lzma_ret ret;
    switch (format) {
    case FORMAT_AUTO_VALUE:
        self->codec.check = LZMA_CHECK_UNKNOWN_VALUE;
        ret = lzma_auto_decoder(lzs, memlimit, flags);
        break;
    case FORMAT_XZ_VALUE:
        self->codec.check = LZMA_CHECK_UNKNOWN_VALUE;
        ret = lzma_stream_decoder(lzs, memlimit, flags);
        break;
    case FORMAT_ALONE_VALUE:
        self->codec.check = LZMA_CHECK_NONE;
        ret = lzma_alone_decoder(lzs, memlimit);
        break;
    case FORMAT_RAW_VALUE: {
        lzma_filter filters[LZMA_FILTERS_MAX + 1];
        if (parse_filter_chain(filters_obj, filters) < 0) {
            return -1;
        }
        self->codec.check = LZMA_CHECK_NONE;
        ret = lzma_raw_decoder(lzs, filters);
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
    return decomp_reset(&self->st);
}

static PyObject *
Decompressor_decompress(Decompressor *self, PyObject *args, PyObject *kwargs)
{
    return decomp_decompress(&self->st, &self->codec, lzma_step, "LZMADecompressor", args, kwargs);
}

static void
Decompressor_dealloc(Decompressor *self)
{
    if (self->st.initialized) {
        lzma_end(&self->codec.lzs);
    }
    decomp_clear(&self->st);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMemberDef Decompressor_members[] = {
    {"check", Py_T_INT, offsetof(Decompressor, codec.check), Py_READONLY,
     "ID of the integrity check used by the input stream."},
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
    .tp_name = "_lzma.LZMADecompressor",
    .tp_basicsize = sizeof(Decompressor),
    .tp_dealloc = (destructor)Decompressor_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "LZMADecompressor(format=FORMAT_AUTO, memlimit=None, filters=None)\n--\n\n"
              "Create a decompressor object for decompressing data incrementally.",
    .tp_methods = Decompressor_methods,
    .tp_members = Decompressor_members,
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
