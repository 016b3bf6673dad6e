/* malloc & co. defined in the executable so that every call in the process
 * (this program, libeffcam, OpenBLAS, libc itself) lands here; each is
 * counted while armed and forwarded to glibc's allocator (__libc_*). glibc
 * only: the build checks __libc_malloc links before building this. */
#define _GNU_SOURCE 1
#include "alloc_count.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static atomic_int armed;
static atomic_size_t n_allocs, n_frees;

void alloc_count_arm(int on) { atomic_store(&armed, on); }
size_t alloc_count_allocs(void) { return atomic_load(&n_allocs); }
size_t alloc_count_frees(void) { return atomic_load(&n_frees); }

static void count_alloc(void) {
    if (atomic_load_explicit(&armed, memory_order_relaxed))
        atomic_fetch_add(&n_allocs, 1);
}

void *malloc(size_t n) {
    count_alloc();
    return __libc_malloc(n);
}

void *calloc(size_t a, size_t b) {
    count_alloc();
    return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n) {
    count_alloc();
    return __libc_realloc(p, n);
}

void free(void *p) {
    if (p && atomic_load_explicit(&armed, memory_order_relaxed))
        atomic_fetch_add(&n_frees, 1);
    __libc_free(p);
}

void *memalign(size_t align, size_t n) {
    count_alloc();
    return __libc_memalign(align, n);
}

void *aligned_alloc(size_t align, size_t n) {
    count_alloc();
    return __libc_memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n) {
    count_alloc();
    if (align < sizeof(void *) || (align & (align - 1)) != 0) return EINVAL;
    void *p = __libc_memalign(align, n);
    if (!p && n) return ENOMEM;
    *out = p;
    return 0;
}

static size_t page_size(void) {
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096;
}

void *valloc(size_t n) {
    count_alloc();
    return __libc_memalign(page_size(), n);
}

void *pvalloc(size_t n) {
    count_alloc();
    size_t ps = page_size();
    return __libc_memalign(ps, (n + ps - 1) / ps * ps);
}
