/* arena.h — zeroed, cache-line-aligned blocks that live as long as the analysis: flow states
 * (tcpflow.c) and the ACK-analysis blocks a flow gets when it first needs one (tcpan.c). Carved
 * from chunks mapped from the system (zeroed pages: a block costs no allocation call and no
 * clearing), each chunk twice the last up to a cap; chunks of a huge page or more are mapped on
 * huge page boundaries and asked to be backed by huge pages: with tens of thousands of flows
 * every packet reaches another flow's state, and 4 KiB pages would add a TLB miss. Blocks are
 * never freed one by one. Internal to lib/tcp. */
#ifndef VMDELAY_LIB_TCP_ARENA_H
#define VMDELAY_LIB_TCP_ARENA_H

#include <stddef.h>

struct vd_arena_chunk;

struct vd_arena {
	struct vd_arena_chunk *chunks;
	size_t nchunks, chunk_cap;
	unsigned char *free_at; /* the unused rest of the newest chunk */
	size_t left;		/* its bytes */
	size_t mapped;		/* bytes of every chunk */
	size_t used;		/* bytes of every block handed out */
};

/* A zeroed block of size bytes (rounded up to whole cache lines), on a cache line boundary;
 * NULL when out of memory. A zeroed struct vd_arena is an empty arena. */
void *vd_arena_alloc(struct vd_arena *a, size_t size);
/* Unmaps every chunk (and so every block). */
void vd_arena_destroy(struct vd_arena *a);
/* Bytes mapped, and the bookkeeping. */
size_t vd_arena_bytes(const struct vd_arena *a);
/* Bytes of the blocks handed out (each rounded up to whole cache lines). */
static inline size_t vd_arena_used(const struct vd_arena *a)
{
	return a->used;
}

/* size rounded up to whole cache lines: what vd_arena_alloc takes for it. */
static inline size_t vd_arena_round(size_t size)
{
	return (size + 63) / 64 * 64;
}

#endif
