/* mem.h — allocation of the long arrays an analysis grows (events, pairs, probes): geometric
 * growth, and transparent huge pages for the big ones, so that a million-probe trace costs a few
 * hundred page faults instead of tens of thousands (each charged to the memory cgroup). */
#ifndef VMDELAY_MEM_H
#define VMDELAY_MEM_H

#include <stddef.h>

/* malloc(n * size) (at least one byte), advising huge pages when large. NULL when out of memory
 * or when n * size overflows. */
void *vd_mem_alloc(size_t n, size_t size);

/* Makes room for at least need elements of size bytes in *p (capacity *cap elements): grows
 * geometrically, keeps the contents. Returns 0, or -1 (out of memory; *p unchanged). */
int vd_mem_reserve(void **p, size_t *cap, size_t need, size_t size);

#endif
