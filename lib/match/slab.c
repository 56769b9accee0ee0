/* slab.c — blocks of 2^k slots carved from huge-page chunks (slab.h). */
#include "slab.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define CHUNK ((size_t)4 << 20) /* two huge pages */
#define HUGE_ALIGN ((size_t)2 << 20)

void vd_slab_init(struct vd_slab *s, size_t slot)
{
	memset(s, 0, sizeof(*s));
	s->slot = slot;
}

static int new_chunk(struct vd_slab *s)
{
	void **c = realloc(s->chunks, (s->nchunks + 1) * sizeof(*c));
	if (!c)
		return -1;
	s->chunks = c;
	uint8_t *p = aligned_alloc(HUGE_ALIGN, CHUNK);
	if (!p)
		return -1;
#ifdef MADV_HUGEPAGE
	(void)madvise(p, CHUNK, MADV_HUGEPAGE); /* best effort */
#endif
	s->chunks[s->nchunks++] = p;
	s->bump = p;
	s->left = CHUNK;
	return 0;
}

void *vd_slab_alloc(struct vd_slab *s, unsigned log2)
{
	size_t bytes = s->slot << log2;
	if (log2 > VD_SLAB_MAX_LOG2)
		return calloc((size_t)1 << log2, s->slot);
	void *p = s->free[log2];
	if (p) {
		memcpy(&s->free[log2], p, sizeof(void *));
	} else {
		size_t need = (bytes + 63) & ~(size_t)63;
		if (s->left < need && new_chunk(s) < 0)
			return NULL; /* (the rest of the old chunk is left unused: at most a block)
				      */
		p = s->bump;
		s->bump += need;
		s->left -= need;
	}
	return memset(p, 0, bytes);
}

void vd_slab_free(struct vd_slab *s, void *p, unsigned log2)
{
	if (!p)
		return;
	if (log2 > VD_SLAB_MAX_LOG2) {
		free(p);
		return;
	}
	memcpy(p, &s->free[log2], sizeof(void *));
	s->free[log2] = p;
}

void vd_slab_destroy(struct vd_slab *s)
{
	for (size_t i = 0; i < s->nchunks; i++)
		free(s->chunks[i]);
	free(s->chunks);
	memset(s, 0, sizeof(*s));
}
