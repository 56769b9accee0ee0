/* arena.c — zeroed cache-line blocks from mapped chunks (see arena.h). */
#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define CHUNK_MIN 4096
#define CHUNK_MAX (8u << 20)
#define HUGE_PAGE (2u << 20)

struct vd_arena_chunk {
	void *map; /* what to unmap */
	size_t maplen;
};

/* A new chunk for at least size bytes, twice the last one (or CHUNK_MIN), zeroed. */
static int add_chunk(struct vd_arena *a, size_t size)
{
	if (a->nchunks == a->chunk_cap) {
		size_t cap = a->chunk_cap ? a->chunk_cap * 2 : 8;
		struct vd_arena_chunk *c = realloc(a->chunks, cap * sizeof(*c));
		if (!c)
			return -1;
		a->chunks = c;
		a->chunk_cap = cap;
	}
	size_t bytes = a->nchunks ? a->mapped : CHUNK_MIN;
	if (bytes > CHUNK_MAX)
		bytes = CHUNK_MAX;
	if (bytes < size)
		bytes = size;
	size_t align = bytes >= HUGE_PAGE ? HUGE_PAGE : 0;
	size_t maplen = bytes + align;
	unsigned char *map =
	    mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return -1;
	unsigned char *base = map;
	if (align) {
		base = (unsigned char *)(((uintptr_t)map + align - 1) & ~(uintptr_t)(align - 1));
		madvise(base, bytes, MADV_HUGEPAGE); /* a hint: without, plain pages */
	}
	a->chunks[a->nchunks++] = (struct vd_arena_chunk){.map = map, .maplen = maplen};
	a->mapped += bytes;
	a->free_at = base;
	a->left = bytes;
	return 0;
}

void *vd_arena_alloc(struct vd_arena *a, size_t size)
{
	size = vd_arena_round(size);
	if (a->left < size && add_chunk(a, size))
		return NULL;
	void *p = a->free_at;
	a->free_at += size;
	a->left -= size;
	a->used += size;
	return p;
}

void vd_arena_destroy(struct vd_arena *a)
{
	for (size_t i = 0; i < a->nchunks; i++)
		munmap(a->chunks[i].map, a->chunks[i].maplen);
	free(a->chunks);
	*a = (struct vd_arena){0};
}

size_t vd_arena_bytes(const struct vd_arena *a)
{
	return a->mapped + a->chunk_cap * sizeof(*a->chunks);
}
