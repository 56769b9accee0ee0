/* clock_rest.c — the at-rest clock fits of a streamed analysis (clock_rest.h).
 *
 * Under --rest N the usual way fits each clock from the first and the last N probes, numbered
 * across every point: only matching every trace numbers them, so this pass streams them all
 * on the first pass's timeline (which matches the probes as the usual way does, whatever the
 * fit: clock_pass.c), keeps the times of the first N probes and of the last N so far, and fits
 * from them at the end. The second pass then takes these fits. */
#include "clock_rest.h"

#include <stdlib.h>

#include "trace_merge.h"
#include "vmdelay/core/mem.h"
#include "vmdelay/match/vantage.h"

struct rest {
	size_t nvp, rest;
	const struct vd_clock_map *maps;
	/* the times of probe p at each point, on the timeline until mapped_back puts them on the
	 * point's own clock: first[p] for p < rest, then last[p % rest] */
	struct vd_delay_times *first, *last;
	size_t n; /* probes seen */
};

static struct vd_delay_times *times_of(const struct rest *r, size_t p)
{
	return p < r->rest ? &r->first[p * r->nvp] : &r->last[(p % r->rest) * r->nvp];
}

/* Each probe's times on the timeline (only the first and the last rest are kept: the others are
 * not put back on their clocks, mapped_back does it for those kept). */
static int on_probes(void *ctx, const struct vd_stream_cell *cells, const int8_t *phase, size_t n)
{
	(void)phase;
	struct rest *r = ctx;
	for (const struct vd_stream_cell *cell = cells; cell < cells + n * r->nvp; cell += r->nvp) {
		struct vd_delay_times *t = times_of(r, r->n++);
		for (size_t v = 0; v < r->nvp; v++)
			t[v] = cell[v].present
				   ? (struct vd_delay_times){cell[v].req_ts, cell[v].rep_ts}
				   : (struct vd_delay_times){VD_NS_NONE, VD_NS_NONE};
	}
	return 0;
}

/* The probes kept, their times put back on each point's own clock. */
static void mapped_back(struct rest *r)
{
	size_t kept = r->n < 2 * r->rest ? r->n : 2 * r->rest;
	for (size_t k = 0; k < kept * r->nvp; k++) {
		struct vd_delay_times *t =
		    k < r->rest * r->nvp ? &r->first[k] : &r->last[k - r->rest * r->nvp];
		const struct vd_clock_map *m = &r->maps[k % r->nvp];
		*t = (struct vd_delay_times){vd_clock_map_from(m, t->req),
					     vd_clock_map_from(m, t->rep)};
	}
}

/* A time of point v on the reference clock, through the fits made so far. */
static vd_ns on_ref(const struct vd_delay *d, size_t v, vd_ns t)
{
	return d->fit_of[v] >= 0 ? vd_align_apply(&d->aligns[d->fit_of[v]].fit, t) : t;
}

static const struct vd_delay_times *rest_times(void *ctx, size_t p)
{
	return times_of(ctx, p);
}

int vd_clock_rest_fit(size_t n, size_t rest, vd_rest_times_fn times, void *ctx,
		      const struct vd_delay_opts *opts, struct vd_delay *d)
{
	size_t head = n < rest ? n : rest;		 /* [0, head) */
	size_t tail = n - head < rest ? head : n - rest; /* [tail, n) */
	struct vd_align_sample *s = vd_mem_alloc(head + (n - tail) + 1, sizeof(*s));
	if (!s)
		return -1;
	int rc = 0;
	d->rest_probes = 0;
	for (size_t k = 0; k < d->naligns && !rc; k++) {
		size_t v = d->aligns[k].vantage, a = d->aligns[k].against, ns = 0;
		for (size_t p = 0; p < n; p = p + 1 == head ? tail : p + 1) {
			const struct vd_delay_times *t = times(ctx, p);
			if (!vd_ns_valid(t[a].req) || !vd_ns_valid(t[v].req))
				continue;
			s[ns++] = (struct vd_align_sample){.in_req = t[v].req,
							   .in_rep = t[v].rep,
							   .out_req = on_ref(d, a, t[a].req),
							   .out_rep = on_ref(d, a, t[a].rep)};
		}
		if (!ns || vd_align_fit(opts->align, s, ns, &d->aligns[k].fit) < 0)
			rc = 1; /* the usual way warns */
		else if (d->rest_probes < ns)
			d->rest_probes = ns;
	}
	free(s);
	return rc;
}

int vd_clock_rest(const struct vd_vantage_spec *specs, size_t n,
		  const struct vd_echo_read_opts *ropts, const struct vd_delay_opts *opts,
		  const struct vd_clock_map *maps, struct vd_delay *d, struct vd_err *err)
{
	struct rest r = {.nvp = n, .rest = opts->rest, .maps = maps};
	struct vd_trace_reader *rd = calloc(n, sizeof(*rd));
	struct vd_vantage **vps = calloc(n, sizeof(*vps));
	struct vd_probe_stream *ps = NULL;
	struct vd_err rerr;
	struct vd_match_opts mo = {.window = opts->window};
	int rc = -1;
	r.first = vd_mem_alloc(r.rest, n * sizeof(*r.first));
	r.last = vd_mem_alloc(r.rest, n * sizeof(*r.last));
	if (!rd || !vps || !r.first || !r.last)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		if (vd_echo_pull_open(&specs[i], ropts, &rd[i].pull, &rerr) != 0) {
			rc = 1;
			goto out;
		}
		rd[i].map = &maps[i];
		if (!(vps[i] = vd_vantage_new("", specs[i].clock, specs[i].path, "")))
			goto oom;
	}
	if (vd_probe_stream_new(vps, n, &mo, on_probes, &r, &ps, err) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if ((rc = vd_trace_reader_start(&rd[i], ps, i, &rerr, err)) != 0)
			goto out;
	if ((rc = vd_trace_merge(rd, n, ps, &rerr, err)) != 0)
		goto out;
	rc = -1;
	if (vd_probe_stream_finish(ps, err) < 0)
		goto out;
	mapped_back(&r);
	if ((rc = vd_clock_rest_fit(r.n, r.rest, rest_times, &r, opts, d)) < 0)
		goto oom;
	goto out;
oom:
	rc = vd_err_set(err, "out of memory");
out:
	vd_probe_stream_free(ps);
	for (size_t i = 0; i < n; i++) {
		if (rd)
			vd_echo_pull_close(rd[i].pull);
		if (vps)
			vd_vantage_free(vps[i]);
	}
	free(rd);
	free(vps);
	free(r.first);
	free(r.last);
	return rc;
}
