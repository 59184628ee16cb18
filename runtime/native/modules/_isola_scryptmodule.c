/* _isola_scrypt: scrypt's ROMix (RFC 7914, section 5) for the guest's
 * hashlib.scrypt (isola_guest.scrypt), which CPython takes from OpenSSL only.
 *
 * The Python side checks the arguments as CPython does and runs PBKDF2;
 * this is the memory-hard part, Salsa20/8 over 128 * r * n bytes, which in
 * Python takes about 77 us per Salsa20/8 core in the sandbox (40 s for
 * n = 2**14, r = 8) and here well under a microsecond.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define ROTL(a, b) (((a) << (b)) | ((a) >> (32 - (b))))

/* Salsa20/8 core of B (16 words), in place. */
static void salsa20_8(uint32_t b[16]) {
  uint32_t x[16];
  memcpy(x, b, sizeof x);
  for (int i = 0; i < 8; i += 2) {
    x[4] ^= ROTL(x[0] + x[12], 7);   x[8] ^= ROTL(x[4] + x[0], 9);
    x[12] ^= ROTL(x[8] + x[4], 13);  x[0] ^= ROTL(x[12] + x[8], 18);
    x[9] ^= ROTL(x[5] + x[1], 7);    x[13] ^= ROTL(x[9] + x[5], 9);
    x[1] ^= ROTL(x[13] + x[9], 13);  x[5] ^= ROTL(x[1] + x[13], 18);
    x[14] ^= ROTL(x[10] + x[6], 7);  x[2] ^= ROTL(x[14] + x[10], 9);
    x[6] ^= ROTL(x[2] + x[14], 13);  x[10] ^= ROTL(x[6] + x[2], 18);
    x[3] ^= ROTL(x[15] + x[11], 7);  x[7] ^= ROTL(x[3] + x[15], 9);
    x[11] ^= ROTL(x[7] + x[3], 13);  x[15] ^= ROTL(x[11] + x[7], 18);
    x[1] ^= ROTL(x[0] + x[3], 7);    x[2] ^= ROTL(x[1] + x[0], 9);
    x[3] ^= ROTL(x[2] + x[1], 13);   x[0] ^= ROTL(x[3] + x[2], 18);
    x[6] ^= ROTL(x[5] + x[4], 7);    x[7] ^= ROTL(x[6] + x[5], 9);
    x[4] ^= ROTL(x[7] + x[6], 13);   x[5] ^= ROTL(x[4] + x[7], 18);
    x[11] ^= ROTL(x[10] + x[9], 7);  x[8] ^= ROTL(x[11] + x[10], 9);
    x[9] ^= ROTL(x[8] + x[11], 13);  x[10] ^= ROTL(x[9] + x[8], 18);
    x[12] ^= ROTL(x[15] + x[14], 7); x[13] ^= ROTL(x[12] + x[15], 9);
    x[14] ^= ROTL(x[13] + x[12], 13); x[15] ^= ROTL(x[14] + x[13], 18);
  }
  for (int i = 0; i < 16; i++) {
    b[i] += x[i];
  }
}

/* scryptBlockMix: B (2r blocks of 16 words) into Y, using X as scratch. */
static void block_mix(const uint32_t *b, uint32_t *y, uint32_t x[16], size_t r) {
  memcpy(x, &b[(2 * r - 1) * 16], 64);
  for (size_t i = 0; i < 2 * r; i++) {
    for (int k = 0; k < 16; k++) {
      x[k] ^= b[i * 16 + k];
    }
    salsa20_8(x);
    /* Even blocks first, then odd ones. */
    memcpy(&y[((i & 1) * r + (i >> 1)) * 16], x, 64);
  }
}

static PyObject *romix(PyObject *module, PyObject *args) {
  Py_buffer data;
  unsigned long n, r;
  if (!PyArg_ParseTuple(args, "y*kk:romix", &data, &n, &r)) {
    return NULL;
  }
  size_t words = 32 * (size_t)r;
  if (r == 0 || n < 2 || (n & (n - 1)) != 0 || (size_t)data.len != 4 * words ||
      n > SIZE_MAX / (4 * words)) {
    PyBuffer_Release(&data);
    PyErr_SetString(PyExc_ValueError, "romix: bad sizes");
    return NULL;
  }
  uint32_t *v = PyMem_RawMalloc(4 * words * (size_t)n);
  uint32_t *x = PyMem_RawMalloc(4 * words);
  uint32_t *y = PyMem_RawMalloc(4 * words);
  if (v == NULL || x == NULL || y == NULL) {
    PyMem_RawFree(v);
    PyMem_RawFree(x);
    PyMem_RawFree(y);
    PyBuffer_Release(&data);
    return PyErr_NoMemory();
  }
  const unsigned char *in = data.buf;
  for (size_t k = 0; k < words; k++) {
    x[k] = (uint32_t)in[4 * k] | (uint32_t)in[4 * k + 1] << 8 | (uint32_t)in[4 * k + 2] << 16 |
           (uint32_t)in[4 * k + 3] << 24;
  }
  PyBuffer_Release(&data);
  uint32_t scratch[16];
  for (unsigned long i = 0; i < n; i++) {
    memcpy(&v[i * words], x, 4 * words);
    block_mix(x, y, scratch, r);
    memcpy(x, y, 4 * words);
  }
  for (unsigned long i = 0; i < n; i++) {
    /* Integerify: the last block's first word (n <= 2**32 here). */
    const uint32_t *vj = &v[(x[(2 * r - 1) * 16] & (n - 1)) * words];
    for (size_t k = 0; k < words; k++) {
      x[k] ^= vj[k];
    }
    block_mix(x, y, scratch, r);
    memcpy(x, y, 4 * words);
  }
  PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(4 * words));
  if (out != NULL) {
    unsigned char *o = (unsigned char *)PyBytes_AS_STRING(out);
    for (size_t k = 0; k < words; k++) {
      o[4 * k] = (unsigned char)x[k];
      o[4 * k + 1] = (unsigned char)(x[k] >> 8);
      o[4 * k + 2] = (unsigned char)(x[k] >> 16);
      o[4 * k + 3] = (unsigned char)(x[k] >> 24);
    }
  }
  PyMem_RawFree(v);
  PyMem_RawFree(x);
  PyMem_RawFree(y);
  return out;
}

static PyMethodDef methods[] = {
    {"romix", romix, METH_VARARGS,
     "romix(data, n, r) -> bytes\n\nscryptROMix (RFC 7914) of one 128 * r byte chunk with "
     "cost n (a power of 2); takes 128 * r * n bytes of memory while it runs."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_isola_scrypt",
    .m_doc = "scrypt's ROMix for the isola guest's hashlib.scrypt.",
    .m_size = 0,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__isola_scrypt(void) { return PyModuleDef_Init(&module); }
