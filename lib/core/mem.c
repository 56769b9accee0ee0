/* mem.c — big growable arrays with huge-page advice (see mem.h). */
#include "vmdelay/core/mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define HUGE_SIZE ((size_t)2 << 20)

/* Advise huge pages on every page of a big block: the whole of glibc's own mapping for it, so
 * that the advice does not split the mapping and realloc can still grow it in place with mremap
 * (it moves page tables, not bytes). Best effort: a kernel without THP ignores the advice. */
static void advise_huge(void *p, size_t len)
{
#ifdef MADV_HUGEPAGE
	if (len < 4 * HUGE_SIZE)
		return;
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)p & ~(pg - 1);
	uintptr_t e = ((uintptr_t)p + len + pg - 1) & ~(pg - 1);
	(void)madvise((void *)a, e - a, MADV_HUGEPAGE);
#else
	(void)p;
	(void)len;
#endif
}

void *vd_mem_alloc(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	size_t len = n * size;
	if (!len)
		len = 1;
	void *p = malloc(len);
	if (p)
		advise_huge(p, len);
	return p;
}

int vd_mem_reserve(void **p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 256;
	while (c < need) {
		if (c > SIZE_MAX / 2 / size)
			return -1;
		c *= 2;
	}
	void *q = realloc(*p, c * size);
	if (!q)
		return -1;
	advise_huge(q, c * size);
	*p = q;
	*cap = c;
	return 0;
}
