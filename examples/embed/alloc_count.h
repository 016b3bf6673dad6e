/* Counting allocator for embed_noheap (see alloc_count.c). */
#ifndef EMBED_ALLOC_COUNT_H
#define EMBED_ALLOC_COUNT_H
#include <stddef.h>
/* Start / stop counting. Calls are always forwarded to glibc. */
void alloc_count_arm(int on);
/* Allocation calls (malloc, calloc, realloc, memalign, posix_memalign,
 * aligned_alloc, valloc, pvalloc) and free calls with a non-NULL pointer
 * made while armed, from any thread or library. */
size_t alloc_count_allocs(void);
size_t alloc_count_frees(void);
#endif
