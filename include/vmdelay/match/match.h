/* match.h — ICMP echo matching within a vantage point: requests with their replies, completed
 * after the last event. Survives duplicates, retransmissions and reordering (docs/methodology.md,
 * "Matching"). The same probe across vantage points is probes.h. */
#ifndef VMDELAY_MATCH_H
#define VMDELAY_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include "vmdelay/core/err.h"
#include "vmdelay/match/pairing.h"
#include "vmdelay/match/vantage.h"

/* Pairing is streamed: vd_vantage_add hands every echo to vd_match_add (pairing.h). */

/* The shape of v's pending-request tables: flows, keys kept in the flows' tables, their slots,
 * keys swept out of them as answered (16-bit seqs answered within the last half wrap, kept as
 * bits), and the longest probe sequence (slots examined to find a key or a word of swept bits
 * that is there), which must stay small however the flows interleave; words_lookups counts the
 * requests' look-ups in the swept bits that many flows share (each a cache line a request
 * touches): a request on a seq its flow has not swept does not make one. Pairs the echoes
 * still queued first (vd_match_flush); -1 out of memory. */
struct vd_match_table_stats {
	size_t flows, keys, slots, answered, longest_probe, words_lookups;
};
int vd_match_table_stats(struct vd_vantage *v, struct vd_match_table_stats *st);

/* Completes v's pairing: sorts v->pairs by request time and fills v->stats (requests left
 * without a reply, duplicates). May be called again after more events are added.
 * Returns 0, or -1 out of memory. */
int vd_match_pairs(struct vd_vantage *v, struct vd_err *err);

#endif
