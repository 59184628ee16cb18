"""The end of the build: make the heap image cheap for every sandbox to share.

Every sandbox starts from the heap snapshot componentize-py takes after the
build-time set-up, mapped copy-on-write. Writing anywhere in one of its
pages gives that sandbox a private copy of the page. Three kinds of writes
happen without any change to the data:

- the garbage collector's bookkeeping in every object it walks, avoided by
  ``gc.freeze()`` (the build-time objects move to the permanent generation);
- reference counts: calling a function, reading a module attribute or
  creating an instance of a class updates the counts of the objects
  involved. Marking the build-time objects immortal (``_isola_snapshot``, a
  small native module) stops those writes, as CPython does for its own
  static objects. Immortal objects are never freed; the build-time heap
  lives as long as the sandbox anyway;
- allocation: this CPython has no pymalloc, every object comes from the C
  allocator (wasi-libc's dlmalloc), which hands out the free chunks the
  build left all over the heap (and CPython's free lists hand out the
  objects they keep) before fresh memory. A sandbox's first allocations
  would each copy a different page of the image. ``seal`` collects (which
  also empties the free lists) and then allocates every free chunk below
  the heap's top for good (``_isola_snapshot.hold_free_chunks``), so a
  sandbox's allocations are packed into fresh pages at the top. The held
  chunks (about 2.5 MB in the default runtime) stay in the shared image and
  are never written; a sandbox can no longer reuse them, so its memory use
  starts that much closer to its limit once it allocates.
"""

import gc

import _isola_snapshot

#: What ``seal`` took out of the C allocator's reach: ``(chunks, bytes)``
#: of free heap memory; ``(0, 0)`` when the heap did not have the shape
#: ``hold_free_chunks`` expects; ``None`` before ``seal`` ran.
held_free_memory = None


def seal():
    """Collect, immortalize and freeze the build-time heap, then hold its
    free memory. Runs last at build time: whatever is created after it is an
    ordinary, mortal object, allocated above the build-time heap. Returns
    how many objects became immortal."""
    global held_free_memory
    gc.collect()
    marked = _isola_snapshot.immortalize_heap()
    gc.freeze()
    held_free_memory = _isola_snapshot.hold_free_chunks()
    return marked
