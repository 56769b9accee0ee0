/* delay_stream.h — the per-layer delay analysis of vd_delay_analyze, streamed: the packet traces
 * are read side by side in time order (a merge of their events, each reader pulled when its
 * next event is the earliest), paired and matched across vantage points as they go
 * (vmdelay/match/probe_stream.h), and each probe handed to the summaries as it leaves the
 * matching window. Memory follows the probes within the window and at most VD_DELAY_EXACT_MAX
 * probes' times (the exact medians), not the length of the traces (docs/methodology.md,
 * "Memory"). The tables are those of vd_delay_analyze; the probes themselves are not kept. */
#ifndef VMDELAY_DELAY_STREAM_H
#define VMDELAY_DELAY_STREAM_H

#include <stddef.h>

#include "vmdelay/core/err.h"
#include "vmdelay/delay/delay.h"
#include "vmdelay/input/echo_read.h"
#include "vmdelay/input/vantage_spec.h"
#include "vmdelay/match/probe_stream.h"
#include "vmdelay/match/vantage.h"

/* Which inputs stream: every spec a regular file holding a packet trace that gives one vantage
 * point (no "#*"), one trace alone too, whatever its size. Several clock labels are fitted in a
 * first pass over the traces (vmdelay/delay/clock_pass.h; vd_delay_stream gives way when that pass
 * cannot: --align none). Pipes (read once) stream, alone or with traces, on one clock
 * label: vd_delay_stream then gives way only on a failure, which its caller learns from
 * ropts->failures (echo_read.h). A tping or tcpmon file streams as one spec per point (level),
 * each selecting it (vd_echo_pull_specs: a tping file read once for all its points). Others
 * ("#*", a tcpmon file that lost records) are read with vd_vantage_read and analysed with
 * vd_delay_analyze. */
int vd_delay_stream_possible(const struct vd_vantage_spec *specs, size_t n);

/* A per-probe output (--csv): each probe as it leaves, in the order and with the number
 * vd_delay_analyze gives it (time order), once its phase is final (with --rest N, N probes
 * later or at the end). d holds the vantage points (named, duplicates renamed as
 * vd_vantage_set_unique_names does) and clocks; cell[v] the probe at point v (present 0: v
 * missed it; the request's flow indexes d->vps[v]->flows). Returns 0, or -1 to stop (out of
 * memory). */
typedef int (*vd_delay_probe_fn)(void *ctx, const struct vd_delay *d, size_t probe,
				 const struct vd_stream_cell *cell, int8_t phase);
struct vd_delay_probe_out {
	vd_delay_probe_fn fn;
	void *ctx;
};

/* Reads specs[0..n) streamed and fills set (one point per spec, in order) and d (summaries and
 * counts only: d->sums), handing each probe to each when not NULL. 0 on success; 1 when the
 * inputs cannot be streamed or a reader failed (a damaged or empty trace): nothing is kept and
 * the caller reads them the usual way, which reports the damage as it always has (each may
 * have had probes by then: the caller discards what it made of them); -1 out of memory (err). */
int vd_delay_stream(const struct vd_vantage_spec *specs, size_t n,
		    const struct vd_echo_read_opts *ropts, const struct vd_delay_opts *opts,
		    const struct vd_delay_probe_out *each, struct vd_vantage_set *set,
		    struct vd_delay *d, struct vd_err *err);

#endif
