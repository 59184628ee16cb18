/* A growable bytes object that (de)compressors write into, shared by the
 * isola guest's _bz2 and _lzma modules.
 *
 * Usage: outbuf_init(); repeat { outbuf_reserve() gives a pointer and a free
 * size; the codec writes; outbuf_commit(bytes written) }; outbuf_finish()
 * returns the bytes object (or outbuf_abort() on error). */
#ifndef ISOLA_OUTBUF_H
#define ISOLA_OUTBUF_H

#include <Python.h>

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

#endif /* ISOLA_OUTBUF_H */
