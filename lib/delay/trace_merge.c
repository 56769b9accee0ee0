/* trace_merge.c — traces read side by side into a probe stream (trace_merge.h). */
#include "trace_merge.h"

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
#define RUN_MAX 64

/* Hands r's next echo and those after it up to upto (the last time at which r is still the
 * earliest reader) to ps in one run, as vd_trace_reader_feed one by one would, and reads the one
 * after. 0; 1 damaged (rerr); -1 (err). */
static int feed_run(struct vd_trace_reader *r, size_t v, vd_ns upto, struct vd_probe_stream *ps,
		    struct vd_err *rerr, struct vd_err *err)
{
	/* read straight into the run, the echo past it copied back as r's next */
	struct vd_echo run[RUN_MAX + 1];
	size_t k = 1;
	int rc;
	run[0] = r->next;
	while ((rc = pull_into(r, &run[k], rerr)) > 0 && k < RUN_MAX && run[k].ts <= upto)
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

int vd_trace_merge(struct vd_trace_reader *r, size_t n, struct vd_probe_stream *ps,
		   struct vd_err *rerr, struct vd_err *err)
{
	for (;;) {
		/* the earliest reader and the one after it (ties to the lower index) */
		size_t best = n, second = n;
		for (size_t i = 0; i < n; i++) {
			if (!r[i].has_next)
				continue;
			if (best == n || r[i].next.ts < r[best].next.ts) {
				second = best;
				best = i;
			} else if (second == n || r[i].next.ts < r[second].next.ts) {
				second = i;
			}
		}
		if (best == n)
			return 0;
		/* best stays the earliest up to second's next time, that too when best's index is
		 * lower */
		vd_ns upto = second == n     ? VD_STREAM_END
			     : best < second ? r[second].next.ts
					     : r[second].next.ts - 1;
		int rc = feed_run(&r[best], best, upto, ps, rerr, err);
		if (rc)
			return rc;
	}
}
