/* What the isola guest's _bz2 and _lzma modules share: a growable output
 * buffer, the input kept between decompress() calls, and the compress /
 * decompress loops around one codec step (libbzip2's or liblzma's).
 *
 * Output: outbuf_init(); repeat { outbuf_reserve() gives a pointer and a free
 * size; the codec writes; outbuf_commit(bytes written) }; outbuf_finish()
 * returns the bytes object (or outbuf_abort() on error). */
#ifndef ISOLA_CODEC_H
#define ISOLA_CODEC_H

#include <Python.h>
#include <stddef.h>

#define OUTBUF_FIRST_CHUNK 8192

typedef struct {
    PyObject *bytes;      /* capacity = PyBytes_GET_SIZE(bytes) */
    Py_ssize_t len;       /* bytes written so far */
    Py_ssize_t max;       /* < 0: unlimited */
} OutBuf;

static int
outbuf_init(OutBuf *b, Py_ssize_t max_length)
{
    Py_ssize_t first = OUTBUF_FIRST_CHUNK;
    if (max_length >= 0 && max_length < first) {
        first = max_length;
    }
    b->len = 0;
    b->max = max_length;
    b->bytes = PyBytes_FromStringAndSize(NULL, first);
    return b->bytes == NULL ? -1 : 0;
}

/* True when the buffer holds max_length bytes (never true when unlimited). */
static int
outbuf_full(const OutBuf *b)
{
    return b->max >= 0 && b->len >= b->max;
}

/* Free space for the codec; grows the buffer when it is full. Returns -1 with
 * MemoryError set, 0 with *avail == 0 when max_length is reached. */
static int
outbuf_reserve(OutBuf *b, char **next, size_t *avail)
{
    Py_ssize_t cap = PyBytes_GET_SIZE(b->bytes);
    if (b->len == cap && !outbuf_full(b)) {
        Py_ssize_t grow = cap < OUTBUF_FIRST_CHUNK ? OUTBUF_FIRST_CHUNK : cap;
        if (grow > PY_SSIZE_T_MAX - cap) {
            PyErr_NoMemory();
            return -1;
        }
        Py_ssize_t newcap = cap + grow;
        if (b->max >= 0 && newcap > b->max) {
            newcap = b->max;
        }
        if (_PyBytes_Resize(&b->bytes, newcap) < 0) {
            return -1;
        }
        cap = newcap;
    }
    *next = PyBytes_AS_STRING(b->bytes) + b->len;
    size_t room = (size_t)(cap - b->len);
    /* bzip2 and liblzma count in unsigned int / size_t; stay within both. */
    if (room > 0x40000000u) {
        room = 0x40000000u;
    }
    *avail = room;
    return 0;
}

static void
outbuf_commit(OutBuf *b, size_t written)
{
    b->len += (Py_ssize_t)written;
}

static PyObject *
outbuf_finish(OutBuf *b)
{
    if (PyBytes_GET_SIZE(b->bytes) != b->len && _PyBytes_Resize(&b->bytes, b->len) < 0) {
        return NULL;
    }
    PyObject *result = b->bytes;
    b->bytes = NULL;
    return result;
}

static void
outbuf_abort(OutBuf *b)
{
    Py_CLEAR(b->bytes);
}

/* Unconsumed input kept between decompress() calls. */
typedef struct {
    char *data;
    size_t len;
} InBuf;

/* Replace the kept input with `len` bytes at `src`. */
static int
inbuf_keep(InBuf *in, const char *src, size_t len)
{
    char *copy = NULL;
    if (len > 0) {
        copy = PyMem_Malloc(len);
        if (copy == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        memcpy(copy, src, len);
    }
    PyMem_Free(in->data);
    in->data = copy;
    in->len = len;
    return 0;
}

/* Kept input followed by `data`, in one new PyMem buffer (*out, caller frees).
 * Returns -1 with MemoryError set. */
static int
inbuf_join(const InBuf *in, const char *data, size_t len, char **out, size_t *out_len)
{
    size_t total = in->len + len;
    char *joined = PyMem_Malloc(total ? total : 1);
    if (joined == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    if (in->len) {
        memcpy(joined, in->data, in->len);
    }
    if (len) {
        memcpy(joined + in->len, data, len);
    }
    *out = joined;
    *out_len = total;
    return 0;
}

/* One step of a codec over its stream state. Reads from *in (*in_len bytes),
 * writes to *out (*out_len bytes free) and advances both. `finish`: end the
 * compressed stream. Returns 1 at the end of the stream, 0 to go on, -1 with
 * an exception set. */
typedef int (*codec_step)(void *codec, const char **in, size_t *in_len, char **out,
                          size_t *out_len, int finish);

/* Compress all of `data` (or, with `finish`, end the stream). */
static PyObject *
codec_compress(void *codec, codec_step step, const char *data, size_t len, int finish)
{
    OutBuf out;
    if (outbuf_init(&out, -1) < 0) {
        return NULL;
    }
    for (;;) {
        char *next;
        size_t avail, room;
        if (outbuf_reserve(&out, &next, &avail) < 0) {
            goto error;
        }
        room = avail;
        int ret = step(codec, &data, &len, &next, &avail, finish);
        outbuf_commit(&out, room - avail);
        if (ret < 0) {
            goto error;
        }
        if (finish ? ret == 1 : len == 0) {
            break;
        }
    }
    return outbuf_finish(&out);
error:
    outbuf_abort(&out);
    return NULL;
}

/* State of a compressor object. */
typedef struct {
    int initialized;
    int flushed;
} CompState;

/* compress(data) of a compressor object named `type`. */
static PyObject *
comp_compress(CompState *st, void *codec, codec_step step, const char *type, PyObject *arg)
{
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    PyObject *result = NULL;
    if (!st->initialized) {
        PyErr_Format(PyExc_RuntimeError, "%s.__init__ was not called", type);
    } else if (st->flushed) {
        PyErr_SetString(PyExc_ValueError, "Compressor has been flushed");
    } else {
        result = codec_compress(codec, step, view.buf, (size_t)view.len, 0);
    }
    PyBuffer_Release(&view);
    return result;
}

/* flush() of a compressor object named `type`. */
static PyObject *
comp_flush(CompState *st, void *codec, codec_step step, const char *type)
{
    if (!st->initialized) {
        PyErr_Format(PyExc_RuntimeError, "%s.__init__ was not called", type);
        return NULL;
    }
    if (st->flushed) {
        PyErr_SetString(PyExc_ValueError, "Repeated call to flush()");
        return NULL;
    }
    st->flushed = 1;
    return codec_compress(codec, step, NULL, 0, 1);
}

/* State of a decompressor object (eof, needs_input and unused_data are its
 * read-only attributes, see DECOMP_MEMBERS). */
typedef struct {
    int initialized;
    char eof;
    char needs_input;
    PyObject *unused_data;
    InBuf pending;
} DecompState;

/* Reset for a fresh stream. */
static int
decomp_reset(DecompState *st)
{
    st->initialized = 1;
    st->eof = 0;
    st->needs_input = 1;
    inbuf_keep(&st->pending, NULL, 0);
    Py_XSETREF(st->unused_data, PyBytes_FromStringAndSize(NULL, 0));
    return st->unused_data == NULL ? -1 : 0;
}

static void
decomp_clear(DecompState *st)
{
    PyMem_Free(st->pending.data);
    st->pending.data = NULL;
    Py_CLEAR(st->unused_data);
}

/* decompress(data, max_length=-1) of a decompressor object named `type`. */
static PyObject *
decomp_decompress(DecompState *st, void *codec, codec_step step, const char *type,
                  PyObject *args, PyObject *kwargs)
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
    if (!st->initialized) {
        PyErr_Format(PyExc_RuntimeError, "%s.__init__ was not called", type);
        goto done;
    }
    if (st->eof) {
        PyErr_SetString(PyExc_EOFError, "End of stream already reached");
        goto done;
    }
    if (inbuf_join(&st->pending, view.buf, (size_t)view.len, &input, &input_len) < 0 ||
        outbuf_init(&out, max_length) < 0) {
        goto done;
    }
    const char *in = input;
    size_t in_len = input_len;
    size_t avail = 1;
    while (!outbuf_full(&out)) {
        char *next;
        size_t room;
        if (outbuf_reserve(&out, &next, &avail) < 0) {
            goto error;
        }
        room = avail;
        int ret = step(codec, &in, &in_len, &next, &avail, 0);
        outbuf_commit(&out, room - avail);
        if (ret < 0) {
            goto error;
        }
        if (ret == 1) {
            st->eof = 1;
            break;
        }
        if (in_len == 0 && avail != 0) {
            break;
        }
    }
    if (st->eof) {
        st->needs_input = 0;
        PyObject *rest = PyBytes_FromStringAndSize(in, (Py_ssize_t)in_len);
        if (rest == NULL) {
            goto error;
        }
        Py_SETREF(st->unused_data, rest);
        inbuf_keep(&st->pending, NULL, 0);
    } else if (in_len == 0) {
        /* When the output filled up, the codec may still hold decoded bytes. */
        st->needs_input = !outbuf_full(&out);
        inbuf_keep(&st->pending, NULL, 0);
    } else {
        st->needs_input = 0;
        if (inbuf_keep(&st->pending, in, in_len) < 0) {
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

/* The read-only attributes of a decompressor whose DecompState field is `st`. */
#define DECOMP_MEMBERS(Type)                                                              \
    {"eof", Py_T_BOOL, offsetof(Type, st.eof), Py_READONLY,                               \
     "True if the end-of-stream marker has been reached."},                               \
    {"needs_input", Py_T_BOOL, offsetof(Type, st.needs_input), Py_READONLY,               \
     "True if more input is needed before more decompressed data can be produced."},      \
    {"unused_data", Py_T_OBJECT_EX, offsetof(Type, st.unused_data), Py_READONLY,         \
     "Data found after the end of the compressed stream."}

#endif /* ISOLA_CODEC_H */
