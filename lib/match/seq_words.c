/* seq_words.c — 16-bit seqs of many flows as sparse 64-bit words (seq_words.h). */
#include "seq_words.h"

#include "vmdelay/core/mem.h"

#include <stdlib.h>
#include <string.h>

static uint64_t word_key(uint32_t flow, uint32_t seq)
{
	return ((uint64_t)flow << 10 | (seq & 0xffff) >> 6) + 1;
}

static size_t home(const struct vd_seq_words *w, uint64_t key)
{
	/* top bits of key * 2^64 / golden ratio: consecutive keys spread over the table */
	unsigned bits = (unsigned)__builtin_ctzll(w->size);
	return bits ? (size_t)((key * 0x9e3779b97f4a7c15ull) >> (64 - bits)) : 0;
}

/* The slot of key, or the free one where it would go (the table is never full). */
static size_t find(const struct vd_seq_words *w, uint64_t key)
{
	size_t i = home(w, key);
	while (w->tab[i].key && w->tab[i].key != key)
		i = (i + 1) & (w->size - 1);
	return i;
}

int vd_seq_words_reserve(struct vd_seq_words *w, size_t more)
{
	if (2 * (w->used + more) <= w->size)
		return 0;
	struct vd_seq_words n = {.size = w->size ? w->size : 1024, .used = w->used};
	while (2 * (w->used + more) > n.size)
		n.size *= 2;
	if (!(n.tab = vd_mem_alloc(n.size, sizeof(*n.tab))))
		return -1;
	memset(n.tab, 0, n.size * sizeof(*n.tab));
	for (size_t i = 0; i < w->size; i++)
		if (w->tab[i].key)
			n.tab[find(&n, w->tab[i].key)] = w->tab[i];
	free(w->tab);
	*w = n;
	return 0;
}

void vd_seq_words_or(struct vd_seq_words *w, uint32_t flow, uint32_t seq, uint64_t bits)
{
	uint64_t key = word_key(flow, seq);
	struct vd_seq_word *e = &w->tab[find(w, key)];
	if (!e->key) {
		e->key = key;
		w->used++;
	}
	e->bits |= bits;
}

void vd_seq_words_clear(struct vd_seq_words *w, uint32_t flow, uint32_t seq)
{
	if (!w->size)
		return;
	/* (a word left without bits keeps its slot: the flow's seqs come round to it again) */
	w->tab[find(w, word_key(flow, seq))].bits &= ~(UINT64_C(1) << (seq & 63));
}

int vd_seq_words_has(const struct vd_seq_words *w, uint32_t flow, uint32_t seq)
{
	return w->size && (w->tab[find(w, word_key(flow, seq))].bits >> (seq & 63) & 1);
}

void vd_seq_words_prefetch(const struct vd_seq_words *w, uint32_t flow, uint32_t seq)
{
	if (w->size)
		__builtin_prefetch(&w->tab[home(w, word_key(flow, seq))]);
}

void vd_seq_words_stats(const struct vd_seq_words *w, size_t *bits, size_t *longest_probe)
{
	*bits = *longest_probe = 0;
	for (size_t i = 0; i < w->size; i++) {
		if (!w->tab[i].key)
			continue;
		*bits += (size_t)__builtin_popcountll(w->tab[i].bits);
		size_t probe = ((i - home(w, w->tab[i].key)) & (w->size - 1)) + 1;
		if (probe > *longest_probe)
			*longest_probe = probe;
	}
}

void vd_seq_words_free(struct vd_seq_words *w)
{
	free(w->tab);
	memset(w, 0, sizeof(*w));
}
