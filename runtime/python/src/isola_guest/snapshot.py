"""The end of the build: make the heap image cheap for every sandbox to share.

Every sandbox starts from the heap snapshot componentize-py takes after the
build-time set-up, mapped copy-on-write. Writing anywhere in one of its
pages gives that sandbox a private copy of the page. Two kinds of writes
happen without any change to the data:

- the garbage collector's bookkeeping in every object it walks, avoided by
  ``gc.freeze()`` (the build-time objects move to the permanent generation);
- reference counts: calling a function, reading a module attribute or
  creating an instance of a class updates the counts of the objects
  involved. Marking the build-time objects immortal (``_isola_snapshot``, a
  small native module) stops those writes, as CPython does for its own
  static objects. Immortal objects are never freed; the build-time heap
  lives as long as the sandbox anyway.
"""

import gc

import _isola_snapshot


def seal():
    """Immortalize and freeze the build-time heap. Runs last at build time:
    whatever is created after it is an ordinary, mortal object. Returns how
    many objects became immortal."""
    marked = _isola_snapshot.immortalize_heap()
    gc.freeze()
    return marked
