/* pairing.h — the streaming step of ICMP echo matching within one vantage point, which a
 * vantage point runs on every event it is given (lib/match/vantage.c). Implemented in
 * lib/match/match.c; its own header so that vantage points need not see
 * the cross-vantage matching (match.h), which itself works on vantage points. */
#ifndef VMDELAY_MATCH_PAIRING_H
#define VMDELAY_MATCH_PAIRING_H

#include <stddef.h>

struct vd_vantage;
struct vd_echo;
struct vd_match_state;

/* Pairs a reply with the earliest still-unmatched earlier request (order added) with the same
 * family, id and seq and swapped addresses (tshark's rule), appending to v->pairs. A request
 * must already be in v->ev[v->n - 1]. Returns 0, or -1 out of memory. */
int vd_match_add(struct vd_vantage *v, const struct vd_echo *e);
/* From 32 flows on an echo is paired up to 32 echoes after vd_match_add took it (its table
 * lines are prefetched meanwhile): vd_match_flush pairs those still queued. Whoever reads
 * v->pairs, v->flows or the flow of v->ev before vd_match_pairs (which flushes) calls it first.
 * Returns 0, or -1 out of memory. */
int vd_match_flush(struct vd_vantage *v);
void vd_match_state_free(struct vd_match_state *s);
/* Pairs the queued echoes (vd_match_flush), then calls fn on the index in v->ev of every
 * request still waiting for a reply and keeps what it returns as the request's new index: lets
 * a streaming owner drop the answered requests from v->ev (lib/match/probe_stream.c) so that it
 * holds only those still waiting. Returns 0, or -1 out of memory. */
int vd_match_pending_remap(struct vd_vantage *v, size_t (*fn)(void *ctx, size_t req), void *ctx);
/* Sorts v's far_reps by request, for vd_pair_rep_index (lib/match/vantage.c). */
void vd_vantage_far_sort(struct vd_vantage *v);

#endif
