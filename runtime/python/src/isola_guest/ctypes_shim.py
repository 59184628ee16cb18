"""``ctypes`` without a foreign-function interface.

The sandbox cannot load native libraries or call C functions (there is no
``_ctypes``). Many packages still import ``ctypes`` only to ask for the size
of C types (sympy: ``sizeof(c_long)``) or to describe structures they never
pass to C. This module gives them the C data types of this wasm32 build
(``int`` and ``long`` 4 bytes, pointers 4, ``long long`` 8), ``sizeof``,
``alignment``, structures, unions, arrays and pointer types with their
sizes and field offsets, and value objects holding Python values.
Everything that needs native code — loading a library (``CDLL``,
``cdll.LoadLibrary``, ``pythonapi``), taking addresses, casting, reading
raw memory — raises ``OSError`` naming the sandbox. ``ctypes.util.find_library``
finds nothing.
"""

import errno
import sys
import types

__version__ = "1.1.0"

_NO_FFI = "isola sandbox: %s needs a foreign-function interface, which the sandbox does not offer"


def _refuse(what):
    return OSError(errno.ENOSYS, _NO_FFI % what)


class ArgumentError(Exception):
    """Raised when a foreign function call cannot convert an argument."""


# ---- simple types -------------------------------------------------------

class _CDataType(type):
    """Metaclass of every C data type: sizes, arrays (``c_int * 4``)."""

    def __mul__(cls, length):
        if not isinstance(length, int) or length < 0:
            raise ValueError("array length must be a non-negative int")
        return ARRAY(cls, length)

    __rmul__ = __mul__


class _CData(metaclass=_CDataType):
    _size_ = 0
    _align_ = 1
    _b_base_ = None
    _b_needsfree_ = True

    def __reduce__(self):
        raise ValueError("ctypes objects cannot be pickled in the isola sandbox")

    @classmethod
    def from_address(cls, address):
        raise _refuse("%s.from_address" % cls.__name__)

    @classmethod
    def from_buffer(cls, source, offset=0):
        raise _refuse("%s.from_buffer" % cls.__name__)

    @classmethod
    def from_buffer_copy(cls, source, offset=0):
        raise _refuse("%s.from_buffer_copy" % cls.__name__)

    @classmethod
    def in_dll(cls, library, name):
        raise _refuse("%s.in_dll" % cls.__name__)


class _SimpleCData(_CData):
    _type_ = None
    _default_ = 0

    def __init__(self, value=None):
        self.value = self._default_ if value is None else self._check(value)

    @classmethod
    def _check(cls, value):
        return value

    def __repr__(self):
        return "%s(%r)" % (type(self).__name__, self.value)

    def __bool__(self):
        return bool(self.value)


def _int_type(name, code, size, signed):
    bits = size * 8
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)

    def _check(cls, value):
        value = value.__index__()
        # C truncates silently, as ctypes does.
        value &= (1 << bits) - 1
        if signed and value > hi:
            value -= 1 << bits
        return value

    return _CDataType(name, (_SimpleCData,), {
        "_type_": code, "_size_": size, "_align_": size, "_check": classmethod(_check),
        "__doc__": "C %s: %d bytes, %d to %d." % (name[2:], size, lo, hi),
    })


c_byte = _int_type("c_byte", "b", 1, True)
c_ubyte = _int_type("c_ubyte", "B", 1, False)
c_short = _int_type("c_short", "h", 2, True)
c_ushort = _int_type("c_ushort", "H", 2, False)
c_int = _int_type("c_int", "i", 4, True)
c_uint = _int_type("c_uint", "I", 4, False)
c_long = _int_type("c_long", "l", 4, True)
c_ulong = _int_type("c_ulong", "L", 4, False)
c_longlong = _int_type("c_longlong", "q", 8, True)
c_ulonglong = _int_type("c_ulonglong", "Q", 8, False)
c_int8, c_uint8, c_int16, c_uint16 = c_byte, c_ubyte, c_short, c_ushort
c_int32, c_uint32, c_int64, c_uint64 = c_int, c_uint, c_longlong, c_ulonglong
c_size_t, c_ssize_t = c_uint, c_int
c_time_t = c_longlong


def _float_type(name, code, size, align):
    return _CDataType(name, (_SimpleCData,), {
        "_type_": code, "_size_": size, "_align_": align, "_default_": 0.0,
        "_check": classmethod(lambda cls, v: float(v)),
        "__doc__": "C %s: %d bytes." % (name[2:], size),
    })


c_float = _float_type("c_float", "f", 4, 4)
c_double = _float_type("c_double", "d", 8, 8)
c_longdouble = _float_type("c_longdouble", "g", 16, 16)


class c_bool(_SimpleCData):
    """C _Bool: 1 byte."""
    _type_, _size_, _align_, _default_ = "?", 1, 1, False

    @classmethod
    def _check(cls, value):
        return bool(value)


class c_char(_SimpleCData):
    """C char: one byte."""
    _type_, _size_, _align_, _default_ = "c", 1, 1, b"\x00"

    @classmethod
    def _check(cls, value):
        if isinstance(value, int):
            return bytes([value & 0xFF])
        if isinstance(value, bytes) and len(value) == 1:
            return value
        raise TypeError("one character bytes, bytearray or integer expected")


class c_wchar(_SimpleCData):
    """C wchar_t: 4 bytes."""
    _type_, _size_, _align_, _default_ = "u", 4, 4, "\x00"

    @classmethod
    def _check(cls, value):
        if isinstance(value, str) and len(value) == 1:
            return value
        raise TypeError("one character unicode string expected")


class c_char_p(_SimpleCData):
    """C char * (a Python bytes value here): 4 bytes."""
    _type_, _size_, _align_, _default_ = "z", 4, 4, None


class c_wchar_p(_SimpleCData):
    """C wchar_t * (a Python str value here): 4 bytes."""
    _type_, _size_, _align_, _default_ = "Z", 4, 4, None


class c_void_p(_SimpleCData):
    """C void * (an int or None here): 4 bytes."""
    _type_, _size_, _align_, _default_ = "P", 4, 4, None


c_voidp = c_void_p
py_object = _CDataType("py_object", (_SimpleCData,), {"_type_": "O", "_size_": 4, "_align_": 4,
                                                        "_default_": None})


# ---- structures, unions, arrays, pointers -----------------------------

class _StructType(_CDataType):
    """Lays out ``_fields_`` with natural alignment (``_pack_`` honoured)."""

    def __init__(cls, name, bases, ns):
        super().__init__(name, bases, ns)
        if "_fields_" in ns:
            cls._layout()

    def __setattr__(cls, name, value):
        super().__setattr__(name, value)
        if name == "_fields_":
            cls._layout()

    def _layout(cls):
        union = cls._is_union_
        pack = getattr(cls, "_pack_", 0) or 0
        base = cls.__mro__[1]
        offset = 0 if union else getattr(base, "_size_", 0)
        size, align = offset, getattr(base, "_align_", 1)
        names = []
        for field in cls._fields_:
            fname, ftype = field[0], field[1]
            fsize, falign = sizeof(ftype), alignment(ftype)
            if pack:
                falign = min(falign, pack)
            if union:
                at = 0
                size = max(size, fsize)
            else:
                at = (offset + falign - 1) // falign * falign
                offset = at + fsize
                size = offset
            align = max(align, falign)
            type.__setattr__(cls, fname, _Field(fname, ftype, at, fsize))
            names.append(fname)
        type.__setattr__(cls, "_size_", (size + align - 1) // align * align if size else 0)
        type.__setattr__(cls, "_align_", align)
        type.__setattr__(cls, "_field_names_", tuple(names))


class _Field:
    """A structure field: its offset and size, and the value on instances."""

    def __init__(self, name, ftype, offset, size):
        self.name, self.type, self.offset, self.size = name, ftype, offset, size

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        value = obj.__dict__.get(self.name)
        if value is None:
            value = self.type() if isinstance(self.type, _CDataType) else None
            obj.__dict__[self.name] = value
        return value.value if isinstance(value, _SimpleCData) else value

    def __set__(self, obj, value):
        if isinstance(self.type, type) and issubclass(self.type, _SimpleCData):
            value = self.type(value)
        obj.__dict__[self.name] = value

    def __repr__(self):
        return "<Field type=%s, ofs=%d, size=%d>" % (getattr(self.type, "__name__", self.type),
                                                    self.offset, self.size)


class _StructBase(_CData):
    _is_union_ = False
    _fields_ = ()

    def __init__(self, *args, **kwargs):
        names = getattr(type(self), "_field_names_", ())
        if len(args) > len(names):
            raise TypeError("too many initializers")
        for name, value in zip(names, args):
            setattr(self, name, value)
        for name, value in kwargs.items():
            setattr(self, name, value)


class Structure(_StructBase, metaclass=_StructType):
    """A C struct: ``_fields_ = [("x", c_int), …]``."""


class Union(_StructBase, metaclass=_StructType):
    """A C union: every field at offset 0."""
    _is_union_ = True


BigEndianStructure = LittleEndianStructure = Structure
BigEndianUnion = LittleEndianUnion = Union


class Array(_CData):
    """A C array of ``_length_`` items of ``_type_``."""
    _length_ = 0
    _type_ = c_int

    def __init__(self, *items):
        if len(items) > self._length_:
            raise IndexError("invalid index")
        self._items = [self._type_() for _ in range(self._length_)]
        for i, item in enumerate(items):
            self[i] = item

    def __len__(self):
        return self._length_

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._length_))]
        item = self._items[index]
        return item.value if isinstance(item, _SimpleCData) else item

    def __setitem__(self, index, value):
        if issubclass(self._type_, _SimpleCData):
            value = self._type_(value)
        self._items[index] = value

    @property
    def value(self):
        if self._type_ in (c_char, c_wchar):
            joined = (b"" if self._type_ is c_char else "").join(self[:])
            return joined.split(b"\x00" if self._type_ is c_char else "\x00")[0]
        raise AttributeError("value")

    @value.setter
    def value(self, data):
        for i, ch in enumerate(data):
            self[i] = ch

    @property
    def raw(self):
        if self._type_ is c_char:
            return b"".join(self[:])
        raise AttributeError("raw")


_array_types = {}


def ARRAY(typ, length):
    """The type of an array of ``length`` items of ``typ`` (also ``typ * length``)."""
    key = (typ, length)
    if key not in _array_types:
        _array_types[key] = _CDataType("%s_Array_%d" % (typ.__name__, length), (Array,), {
            "_type_": typ, "_length_": length,
            "_size_": sizeof(typ) * length, "_align_": alignment(typ)})
    return _array_types[key]


class _Pointer(_CData):
    """A pointer type's instances: they only hold the object pointed to."""
    _size_ = _align_ = 4
    _type_ = None

    def __init__(self, obj=None):
        self._obj = obj

    @property
    def contents(self):
        if self._obj is None:
            raise ValueError("NULL pointer access")
        return self._obj

    def __bool__(self):
        return self._obj is not None


_pointer_types = {}


def POINTER(typ):
    """The type of pointers to ``typ`` (4 bytes)."""
    if typ not in _pointer_types:
        name = "LP_%s" % (typ.__name__ if isinstance(typ, type) else typ)
        _pointer_types[typ] = _CDataType(name, (_Pointer,), {"_type_": typ})
    return _pointer_types[typ]


def pointer(obj):
    """A pointer object to ``obj`` (it holds the object; there is no address)."""
    return POINTER(type(obj))(obj)


def sizeof(obj_or_type):
    """Size in bytes of a C type or instance, as in this wasm32 build."""
    cls = obj_or_type if isinstance(obj_or_type, type) else type(obj_or_type)
    if not issubclass(cls, _CData):
        raise TypeError("this type has no size")
    return cls._size_


def alignment(obj_or_type):
    """Alignment in bytes of a C type or instance."""
    cls = obj_or_type if isinstance(obj_or_type, type) else type(obj_or_type)
    if not issubclass(cls, _CData):
        raise TypeError("no alignment info")
    return cls._align_


def create_string_buffer(init, size=None):
    """A ``c_char`` array (from bytes, or of ``size`` zero bytes)."""
    if isinstance(init, int):
        size, init = init, b""
    if size is None:
        size = len(init) + 1
    buf = (c_char * size)()
    buf.value = [bytes([b]) for b in init]
    return buf


def create_unicode_buffer(init, size=None):
    """A ``c_wchar`` array (from str, or of ``size`` NULs)."""
    if isinstance(init, int):
        size, init = init, ""
    if size is None:
        size = len(init) + 1
    buf = (c_wchar * size)()
    buf.value = init
    return buf


def _refusing(name):
    def refuse(*_args, **_kwargs):
        raise _refuse("ctypes.%s" % name)

    refuse.__name__ = name
    refuse.__doc__ = "Not available: " + (_NO_FFI % ("ctypes.%s" % name))
    return refuse


addressof = _refusing("addressof")
byref = _refusing("byref")
cast = _refusing("cast")
memmove = _refusing("memmove")
memset = _refusing("memset")
string_at = _refusing("string_at")
wstring_at = _refusing("wstring_at")
resize = _refusing("resize")
CFUNCTYPE = _refusing("CFUNCTYPE")
PYFUNCTYPE = _refusing("PYFUNCTYPE")


def get_errno():
    return 0


def set_errno(value):
    return 0


class CDLL:
    """A native library: cannot be loaded in the sandbox (``OSError``)."""

    def __init__(self, name, *args, **kwargs):
        raise _refuse("loading the native library %r" % (name,))


class PyDLL(CDLL):
    """A native library using the Python C API: cannot be loaded either."""


class LibraryLoader:
    """``cdll`` / ``pydll``: every library lookup raises ``OSError``."""

    def __init__(self, dlltype):
        self._dlltype = dlltype

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return self._dlltype(name)

    __getitem__ = __getattr__

    def LoadLibrary(self, name):
        return self._dlltype(name)


cdll = LibraryLoader(CDLL)
pydll = LibraryLoader(PyDLL)


class _PythonAPI:
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise _refuse("ctypes.pythonapi.%s" % name)


pythonapi = _PythonAPI()
RTLD_LOCAL = 0
RTLD_GLOBAL = 256
DEFAULT_MODE = RTLD_LOCAL


def _find_library(name):
    """No native libraries exist in the sandbox."""
    return None


def install():
    """Make ``import ctypes`` / ``import ctypes.util`` give this module."""
    if "ctypes" in sys.modules:
        return
    module = sys.modules[__name__]
    util = types.ModuleType("ctypes.util", "ctypes.util in the isola sandbox: no native libraries.")
    util.find_library = _find_library
    module.util = util
    module.__path__ = []  # a package: ctypes.util below
    sys.modules["ctypes"] = module
    sys.modules["ctypes.util"] = util
