/* C++ `throw` in the guest ends the guest with a message.
 *
 * componentize-py's libc++/libc++abi are wasi-sdk's "noeh" builds and the
 * guest has no WebAssembly exception handling, so a C++ exception cannot be
 * caught. Code compiled with -fexceptions (numpy's unique.cpp and pocketfft,
 * which catch std::bad_alloc and errors of their own) still calls these two
 * functions to throw; they print the exception's type to stderr and abort,
 * which traps the sandbox (the host is unaffected). Linked statically, with
 * hidden visibility, into each extension module that needs them. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

/* The start of an Itanium C++ ABI std::type_info: vtable, mangled name. */
struct type_info_head {
    const void *vtable;
    const char *name;
};

void *__cxa_allocate_exception(size_t size) {
    void *p = malloc(size);
    if (p == NULL) {
        abort();
    }
    return p;
}

_Noreturn void __cxa_throw(void *exception, void *type_info, void (*destructor)(void *)) {
    const struct type_info_head *ti = type_info;
    (void)exception;
    (void)destructor;
    fprintf(stderr, "isola: C++ exception of type %s in a native module; "
            "C++ exceptions cannot be caught in the sandbox, aborting\n",
            ti != NULL && ti->name != NULL ? ti->name : "(unknown)");
    fflush(stderr);
    abort();
}
