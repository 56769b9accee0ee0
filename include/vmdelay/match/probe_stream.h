/* probe_stream.h — the same ICMP echo probe across vantage points on one clock, matched while
 * the points are read side by side in time order, in memory that does not grow with the trace:
 * pairs are kept until no earlier pair of their point can still come (every earlier request
 * answered, or waiting longer than --window, at least 10 s), probes until no pair can still join
 * them, and each probe is handed on as it leaves, in the order vd_match_probes sorts its probes
 * (docs/methodology.md, "Memory"). Gives the probes and counts of vd_match_pairs +
 * vd_match_probes (probes.h) whenever every reply comes within max(window, 10 s) of its request
 * and each file is in time order (a packet at most 100 ms earlier than its predecessors is
 * still in order). */
#ifndef VMDELAY_MATCH_PROBE_STREAM_H
#define VMDELAY_MATCH_PROBE_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "vmdelay/core/err.h"
#include "vmdelay/core/vdtime.h"
#include "vmdelay/input/echo.h"
#include "vmdelay/match/probes.h"
#include "vmdelay/match/vantage.h"

/* A probe at one vantage point as it leaves: the request (its flow in the point's flows) and
 * the reply's time and packet number. present 0: the point missed the probe. */
struct vd_stream_cell {
	vd_ns req_ts, rep_ts;
	uint64_t req_index, rep_index;
	uint32_t seq, flow;
	int8_t phase;
	uint8_t present;
};

/* Receives the probes as they leave, n at a time (1 to vd_probe_emit_run(nvp)) in the order
 * they leave: probe p's cells[p * nvp + v] for every vantage point v, and its phase[p] (the
 * request's that made it, enum vd_phase, or -1). A run is what left at once: the same probes
 * in the same order as one at a time, whatever the runs (a call per probe cost as much as
 * the summaries' work on it). Returns 0, or -1 to stop (out of memory). */
typedef int (*vd_probe_emit_fn)(void *ctx, const struct vd_stream_cell *cells, const int8_t *phase,
				size_t n);

/* The most probes handed to vd_probe_emit_fn at once with nvp vantage points: 64, fewer when
 * their cells would take more than 512 points' worth. */
static inline size_t vd_probe_emit_run(size_t nvp)
{
	return nvp <= 8 ? 64 : nvp < 512 ? 512 / nvp : 1;
}

struct vd_probe_stream;

/* The next-event time of a point that has no more events. */
#define VD_STREAM_END INT64_MAX

/* Matches the echoes of vps[0..nvp) (outermost first, made with vd_vantage_new and given no
 * event yet) into probes handed to emit. The times must be on one clock: points on several
 * labels come with their times put on one by the caller (vmdelay/delay/clock_pass.h). -1 with
 * err when out of memory. */
int vd_probe_stream_new(struct vd_vantage *const *vps, size_t nvp, const struct vd_match_opts *opts,
			vd_probe_emit_fn emit, void *ctx, struct vd_probe_stream **out,
			struct vd_err *err);
/* Adds an echo of vantage point v; next_ts is the time of v's next echo (VD_STREAM_END when v has
 * no more): events of every point come in time order, so that what is older than the window
 * before every point's next event can be matched and handed on. 0, or -1 (err). */
int vd_probe_stream_add(struct vd_probe_stream *s, size_t v, const struct vd_echo *e, vd_ns next_ts,
			struct vd_err *err);
/* Adds e[0..n) of vantage point v in time order, as vd_probe_stream_add each with the next one's
 * time (the last with next_ts), in one call: the streamed reading hands over runs of a point's
 * echoes that come before every other point's next one. 0, or -1 (err). */
int vd_probe_stream_add_run(struct vd_probe_stream *s, size_t v, const struct vd_echo *e, size_t n,
			    vd_ns next_ts, struct vd_err *err);
/* An echo of vantage point v and the time of v's next echo (VD_STREAM_END when v has no more),
 * as vd_probe_stream_add takes them. */
struct vd_stream_event {
	struct vd_echo e;
	vd_ns next_ts;
	size_t v;
};
/* Adds ev[0..n) in order, as vd_probe_stream_add each in turn, whichever point each is of: the
 * merge of several points' traces hands their echoes over a batch at a time (their runs are
 * short when the points see the same probes). 0, or -1 (err). */
int vd_probe_stream_add_events(struct vd_probe_stream *s, const struct vd_stream_event *ev,
			       size_t n, struct vd_err *err);
/* Sets v's next echo time without an echo (before the first one, or VD_STREAM_END at its end). */
int vd_probe_stream_advance(struct vd_probe_stream *s, size_t v, vd_ns next_ts, struct vd_err *err);
/* After every point's end: hands on every probe left and fills each point's stats as
 * vd_match_pairs and vd_match_probes do. 0, or -1 (err). */
int vd_probe_stream_finish(struct vd_probe_stream *s, struct vd_err *err);
void vd_probe_stream_free(struct vd_probe_stream *s);

/* What the stream holds now, for tests and benchmarks: probes not yet handed on, pairs waiting
 * for their turn, requests kept by the points (still waiting for a reply, or not yet dropped). */
struct vd_probe_stream_held {
	size_t probes, pairs, requests;
};
void vd_probe_stream_held(const struct vd_probe_stream *s, struct vd_probe_stream_held *h);

#endif
