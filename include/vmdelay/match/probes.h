/* probes.h — the same ICMP echo probe across vantage points listed from the outermost to the
 * innermost, from the pairs each point matched (match.h). Survives loss at one point,
 * duplicates and reordering (docs/methodology.md, "Matching"). */
#ifndef VMDELAY_MATCH_PROBES_H
#define VMDELAY_MATCH_PROBES_H

#include <stddef.h>
#include <stdint.h>

#include "vmdelay/core/err.h"
#include "vmdelay/match/vantage.h"

struct vd_match_opts {
	/* A pair joins the probe nearest in time (after a coarse clock offset) with a compatible
	 * key, if no farther than this; 0: 10 s, well under the 65 s a 16-bit seq takes to wrap
	 * at 1000 probes/s. */
	vd_ns window;
};

/* Probes across vantage points: cell[p * nvp + v] is the index into vps[v]->pairs of probe p
 * at vantage point v, or -1 (a vantage point holds at most INT32_MAX pairs). Probes are
 * sorted by time. */
struct vd_probe_map {
	size_t nvp, n;
	int32_t *cell;
	int8_t *phase; /* enum vd_phase from tping's phase column, or -1 */
};

/* Matches the pairs of every vantage point (vd_match_pairs must have run) into probes. Keys: the
 * request's family, addresses, ICMP id and seq when both sides know them; a tping row knows only
 * its seq, so it matches a trace's probe by seq (low 16 bits) and nearest time. A second pair on
 * the same probe at one vantage point counts as a duplicate there. Returns 0 or -1. */
int vd_match_probes(struct vd_vantage *const *vps, size_t nvp, const struct vd_match_opts *opts,
		    struct vd_probe_map *map, struct vd_err *err);
void vd_probe_map_free(struct vd_probe_map *map);

/* The request of probe p at vantage point v, or NULL. */
const struct vd_echo_req *vd_probe_req(const struct vd_probe_map *m, struct vd_vantage *const *vps,
				       size_t p, size_t v);
/* The same request as a whole event (addresses, id) in *e: 0, or -1 when v missed probe p. */
int vd_probe_echo(const struct vd_probe_map *m, struct vd_vantage *const *vps, size_t p, size_t v,
		  struct vd_echo *e);
/* The pair (the reply's time and index) of probe p at vantage point v, or NULL. */
const struct vd_echo_pair *vd_probe_pair(const struct vd_probe_map *m,
					 struct vd_vantage *const *vps, size_t p, size_t v);

#endif
