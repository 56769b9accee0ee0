/* slab.h — blocks of 2^k equal slots for the many small per-flow tables of matching
 * (match.c): carved from big huge-page chunks and recycled by size, so that tens of thousands
 * of flows neither pay malloc and free each time a table grows nor scatter their tables over
 * so many small pages that every lookup misses the TLB. Freed blocks are kept for blocks of
 * their own size, not merged: merging (a buddy system) touched the buddy's line on every free
 * and cost more time than the memory it saved (tests/bench/match.sh). Internal to lib/match. */
#ifndef VMDELAY_LIB_MATCH_SLAB_H
#define VMDELAY_LIB_MATCH_SLAB_H

#include <stddef.h>
#include <stdint.h>

/* Blocks of up to 2^VD_SLAB_MAX_LOG2 slots come from the chunks; bigger ones from malloc. */
#define VD_SLAB_MAX_LOG2 11

struct vd_slab {
	size_t slot;			  /* bytes per slot */
	void *free[VD_SLAB_MAX_LOG2 + 1]; /* freed blocks by log2 of their slots, linked */
	uint8_t *bump;			  /* the unused rest of the newest chunk */
	size_t left;
	void **chunks;
	size_t nchunks;
};

/* An empty slab of slots of slot bytes (at least a pointer's size). */
void vd_slab_init(struct vd_slab *s, size_t slot);
/* A block of 2^log2 slots, zeroed, 64-byte aligned when from a chunk; NULL out of memory. */
void *vd_slab_alloc(struct vd_slab *s, unsigned log2);
/* Gives back a block vd_slab_alloc(s, log2) returned (NULL is ignored). */
void vd_slab_free(struct vd_slab *s, void *p, unsigned log2);
/* Frees the chunks (and so every block from them; blocks bigger than the chunks are the
 * caller's to give back with vd_slab_free). */
void vd_slab_destroy(struct vd_slab *s);

#endif
