/* seq_words.h — the 16-bit seqs of many flows as bits, 64 consecutive seqs to a word, kept only
 * for the words that hold a bit: the seqs matching answered and swept out of a flow's table
 * (match.c). A bitmap of the whole 16-bit space for each of tens of thousands of flows (8 KiB
 * each) would be most of the memory; a flow whose seqs run on holds a word per 64 of them.
 * Open addressing, linear probing, at most half full; keys (flow, seq / 64) are Fibonacci
 * hashed, so that a flow's consecutive words spread. Internal to lib/match. */
#ifndef VMDELAY_LIB_MATCH_SEQ_WORDS_H
#define VMDELAY_LIB_MATCH_SEQ_WORDS_H

#include <stddef.h>
#include <stdint.h>

struct vd_seq_word {
	uint64_t key; /* (flow << 10 | seq / 64) + 1; 0: free */
	uint64_t bits;
};

struct vd_seq_words {
	struct vd_seq_word *tab;
	size_t size, used; /* size a power of two (0: none yet) */
};

/* Makes room for more words to be added without failing; 0, or -1 out of memory. */
int vd_seq_words_reserve(struct vd_seq_words *w, size_t more);
/* Sets the bits of the word of seq (< 65536) of flow, bit k standing for seq - seq % 64 + k (one
 * look-up for the seqs of a word that a flow sweeps at once); room must have been reserved for
 * a new word. */
void vd_seq_words_or(struct vd_seq_words *w, uint32_t flow, uint32_t seq, uint64_t bits);
/* Clears seq of flow (nothing when its word is not there). */
void vd_seq_words_clear(struct vd_seq_words *w, uint32_t flow, uint32_t seq);
int vd_seq_words_has(const struct vd_seq_words *w, uint32_t flow, uint32_t seq);
/* Starts loading the slot where the word of seq of flow is or would go. */
void vd_seq_words_prefetch(const struct vd_seq_words *w, uint32_t flow, uint32_t seq);
/* Bits set, and the longest probe sequence (slots examined to find a word that is there). */
void vd_seq_words_stats(const struct vd_seq_words *w, size_t *bits, size_t *longest_probe);
void vd_seq_words_free(struct vd_seq_words *w);

#endif
