/* trace_merge.c — traces read side by side into a probe stream (trace_merge.h). */
#include "trace_merge.h"

int vd_trace_reader_ahead(struct vd_trace_reader *r, struct vd_err *err)
{
	int rc = vd_echo_pull_next(r->pull, &r->next, err);
	r->has_next = rc > 0;
	if (rc > 0 && r->map)
		r->next.ts = vd_clock_map_to(r->map, r->next.ts);
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

int vd_trace_merge(struct vd_trace_reader *r, size_t n, struct vd_probe_stream *ps,
		   struct vd_err *rerr, struct vd_err *err)
{
	for (;;) {
		size_t best = n;
		for (size_t i = 0; i < n; i++)
			if (r[i].has_next && (best == n || r[i].next.ts < r[best].next.ts))
				best = i;
		if (best == n)
			return 0;
		int rc = vd_trace_reader_feed(&r[best], ps, best, rerr, err);
		if (rc)
			return rc;
	}
}
