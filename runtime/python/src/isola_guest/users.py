"""``pwd`` and ``grp`` for the sandbox: one user and one group.

WASI has no user database, but programs ask it for the home directory
(``os.path.expanduser``, ``pathlib.Path.home``), the user name
(``getpass.getuser``) or an owner's name (``tarfile``, ``shutil.chown``).
Files and the process report owner 0 (see ``unsupported``), so the database
has exactly that user, named ``user``, whose home is the sandbox's default
working directory.
"""

import collections
import sys
import types

NAME = "user"
ID = 0
HOME = "/home/user"

struct_passwd = collections.namedtuple(
    "struct_passwd", "pw_name pw_passwd pw_uid pw_gid pw_gecos pw_dir pw_shell")
struct_group = collections.namedtuple("struct_group", "gr_name gr_passwd gr_gid gr_mem")

_USER = struct_passwd(NAME, "x", ID, ID, "isola sandbox user", HOME, "/bin/sh")
_GROUP = struct_group(NAME, "x", ID, [NAME])


def _id(value, what):
    try:
        return value.__index__()
    except AttributeError:
        raise TypeError("%s() argument must be int, not %s" % (what, type(value).__name__)) from None


def getpwuid(uid, /):
    """The user with id ``uid`` (only id 0 exists)."""
    if _id(uid, "getpwuid") != ID:
        raise KeyError("getpwuid(): uid not found: %d" % uid)
    return _USER


def getpwnam(name, /):
    """The user called ``name`` (only ``user`` exists)."""
    if not isinstance(name, str):
        raise TypeError("getpwnam() argument must be str, not %s" % type(name).__name__)
    if name != NAME:
        raise KeyError("getpwnam(): name not found: %r" % name)
    return _USER


def getpwall():
    """Every user: the one sandbox user."""
    return [_USER]


def getgrgid(gid, /):
    """The group with id ``gid`` (only id 0 exists)."""
    if _id(gid, "getgrgid") != ID:
        raise KeyError("getgrgid(): gid not found: %d" % gid)
    return _GROUP


def getgrnam(name, /):
    """The group called ``name`` (only ``user`` exists)."""
    if not isinstance(name, str):
        raise TypeError("getgrnam() argument must be str, not %s" % type(name).__name__)
    if name != NAME:
        raise KeyError("getgrnam(): name not found: %r" % name)
    return _GROUP


def getgrall():
    """Every group: the one sandbox group."""
    return [_GROUP]


def _module(name, doc, **attrs):
    module = types.ModuleType(name, doc)
    for key, value in attrs.items():
        if callable(value) and hasattr(value, "__module__"):
            try:
                value.__module__ = name
            except (AttributeError, TypeError):
                pass
        setattr(module, key, value)
    return module


def install():
    """Make ``import pwd`` / ``import grp`` give the sandbox's database."""
    if "pwd" not in sys.modules:
        sys.modules["pwd"] = _module(
            "pwd", "The sandbox's user database (one user; see isola_guest.users).",
            struct_passwd=struct_passwd, getpwuid=getpwuid, getpwnam=getpwnam, getpwall=getpwall)
    if "grp" not in sys.modules:
        sys.modules["grp"] = _module(
            "grp", "The sandbox's group database (one group; see isola_guest.users).",
            struct_group=struct_group, getgrgid=getgrgid, getgrnam=getgrnam, getgrall=getgrall)
