/* trace_merge.c — traces read side by side into a probe stream (trace_merge.h). */
#include "trace_merge.h"

#include <stdlib.h>

/* Reads r's next echo into *e, its time through r's map: as vd_trace_reader_ahead. */
static inline int pull_into(struct vd_trace_reader *r, struct vd_echo *e, struct vd_err *err)
{
	int rc = vd_echo_pull_next(r->pull, e, err);
	if (rc > 0 && r->map)
		e->ts = vd_clock_map_to(r->map, e->ts);
	return rc;
}

int vd_trace_reader_ahead(struct vd_trace_reader *r, struct vd_err *err)
{
	int rc = pull_into(r, &r->next, err);
	r->has_next = rc > 0;
	return rc;
}

int vd_trace_reader_start(struct vd_trace_reader *r, struct vd_probe_stream *ps, size_t v,
			  struct vd_err *rerr, struct vd_err *err)
{
	if (vd_trace_reader_ahead(r, rerr) <= 0)
		return 1;
	return vd_probe_stream_advance(ps, v, r->next.ts, err) < 0 ? -1 : 0;
}

int vd_trace_reader_feed(struct vd_trace_reader *r, struct vd_probe_stream *ps, size_t v,
			 struct vd_err *rerr, struct vd_err *err)
{
	struct vd_echo e = r->next;
	int rc = vd_trace_reader_ahead(r, rerr);
	if (rc < 0)
		return 1;
	return vd_probe_stream_add(ps, v, &e, rc ? r->next.ts : VD_STREAM_END, err) < 0 ? -1 : 0;
}

/* The most echoes handed to the probe stream at once. */
#define BATCH 64

/* Hands r's next echo and those after it up to upto (the last time at which r is still the
 * earliest reader) to ps in one run, as vd_trace_reader_feed one by one would, and reads the one
 * after: a lone trace's way. 0; 1 damaged (rerr); -1 (err). */
static int feed_run(struct vd_trace_reader *r, size_t v, vd_ns upto, struct vd_probe_stream *ps,
		    struct vd_err *rerr, struct vd_err *err)
{
	/* read straight into the run, the echo past it copied back as r's next */
	struct vd_echo run[BATCH + 1];
	size_t k = 1;
	int rc;
	run[0] = r->next;
	while ((rc = pull_into(r, &run[k], rerr)) > 0 && k < BATCH && run[k].ts <= upto)
		k++;
	r->has_next = rc > 0;
	if (rc > 0)
		r->next = run[k];
	/* damaged: the echo before the damage is not handed on, as vd_trace_reader_feed does */
	size_t n = rc < 0 ? k - 1 : k;
	vd_ns next_ts = rc < 0 ? run[k - 1].ts : rc ? run[k].ts : VD_STREAM_END;
	if (n && vd_probe_stream_add_run(ps, v, run, n, next_ts, err) < 0)
		return -1;
	return rc < 0;
}

/* Several traces: their echoes in time order, a batch at a time, each reader's run (while it
 * stays the earliest) read straight into it; the echo past a run copied back as its reader's
 * next. at[i]: reader i's next time (VD_STREAM_END: none). 0; 1 damaged (rerr); -1 (err). */
static int merge_batches(struct vd_trace_reader *r, vd_ns *at, size_t n, struct vd_probe_stream *ps,
			 struct vd_err *rerr, struct vd_err *err)
{
	struct vd_stream_event ev[BATCH + 1];
	size_t k = 0;
	int rc = 0;
	for (;;) {
		/* the earliest reader and the one after it (ties to the lower index) */
		size_t best = 0, second = n;
		for (size_t i = 1; i < n; i++) {
			if (at[i] < at[best]) {
				second = best;
				best = i;
			} else if (second == n || at[i] < at[second]) {
				second = i;
			}
		}
		if (at[best] == VD_STREAM_END)
			break;
		/* best stays the earliest up to second's next time, that too when best's index is
		 * lower */
		vd_ns upto = at[second] == VD_STREAM_END ? VD_STREAM_END
			     : best < second		 ? at[second]
							 : at[second] - 1;
		struct vd_trace_reader *b = &r[best];
		ev[k].e = b->next;
		ev[k].v = best;
		size_t j = k + 1;
		while ((rc = pull_into(b, &ev[j].e, rerr)) > 0 && j < BATCH && ev[j].e.ts <= upto) {
			ev[j - 1].next_ts = ev[j].e.ts;
			ev[j++].v = best;
		}
		b->has_next = rc > 0;
		at[best] = rc > 0 ? ev[j].e.ts : VD_STREAM_END;
		if (rc > 0)
			b->next = ev[j].e;
		if (rc < 0) {
			/* damaged: the echo before the damage is not handed on (its next time, the
			 * one of the echo it follows, is set) */
			k = j - 1;
			break;
		}
		ev[j - 1].next_ts = at[best];
		k = j;
		if (k == BATCH) {
			if (vd_probe_stream_add_events(ps, ev, k, err) < 0)
				return -1;
			k = 0;
		}
	}
	if (k && vd_probe_stream_add_events(ps, ev, k, err) < 0)
		return -1;
	return rc < 0;
}

int vd_trace_merge(struct vd_trace_reader *r, size_t n, struct vd_probe_stream *ps,
		   struct vd_err *rerr, struct vd_err *err)
{
	if (n > 1) {
		vd_ns *at = malloc(n * sizeof(*at));
		if (!at)
			return vd_err_set(err, "out of memory");
		for (size_t i = 0; i < n; i++)
			at[i] = r[i].has_next ? r[i].next.ts : VD_STREAM_END;
		int rc = merge_batches(r, at, n, ps, rerr, err);
		free(at);
		return rc;
	}
	int rc = 0;
	while (!rc && n && r[0].has_next)
		rc = feed_run(&r[0], 0, VD_STREAM_END, ps, rerr, err);
	return rc;
}
