/* delay_stream.c — the streamed delay analysis (delay_stream.h): a merge of the traces' events
 * by time feeding the probe stream, whose probes feed the summaries. On several clocks a first
 * pass fits them (clock_pass.h) and the merge reads every time through its point's map. */
#include "vmdelay/delay/delay_stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock_rest.h"
#include "delay_sums.h"
#include "trace_merge.h"
#include "vmdelay/delay/clock_pass.h"
#include "vmdelay/input/format.h"

int vd_delay_stream_possible(const struct vd_vantage_spec *specs, size_t n)
{
	int pipes = 0;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (strcmp(specs[i].select, "*") == 0 || stat(specs[i].path, &st) < 0)
			return 0;
		/* a pipe is read once, so it streams (its length unknown, maybe endless) */
		if (vd_format_is_stream(specs[i].path)) {
			pipes = 1;
			continue;
		}
		/* read again the usual way when a reader fails */
		if (!S_ISREG(st.st_mode))
			return 0;
	}
	/* with a pipe, which its caller cannot read again, no reader may give way for want of a
	 * format it reads, nor the clocks' first pass read the inputs twice */
	for (size_t i = 1; pipes && i < n; i++)
		if (strcmp(specs[i].clock, specs[0].clock) != 0)
			return 0;
	return n > 0 && (!pipes || vd_echo_pull_takes_all(specs, n));
}

struct feed {
	struct vd_delay_sums *sums;
	size_t nvp;
	struct vd_delay_times *t; /* a run's probes' times: vd_probe_emit_run(nvp) * nvp */
	const struct vd_delay_probe_out *each;
	const struct vd_delay *d;
	const struct vd_clock_map *maps; /* several clocks: each point's, else NULL */
	struct vd_stream_cell *raw;	 /* a run's cells with the times of the traces */
};

static int on_probes(void *ctx, const struct vd_stream_cell *cells, const int8_t *phase, size_t n)
{
	struct feed *f = ctx;
	size_t nvp = f->nvp, m = n * nvp;
	if (f->maps) {
		/* the summaries and rows take each point's own times, as read */
		for (size_t c = 0; c < m; c += nvp)
			for (size_t v = 0; v < nvp; v++) {
				struct vd_stream_cell *r = &f->raw[c + v];
				*r = cells[c + v];
				if (r->present) {
					r->req_ts = vd_clock_map_from(&f->maps[v], r->req_ts);
					r->rep_ts = vd_clock_map_from(&f->maps[v], r->rep_ts);
				}
			}
		cells = f->raw;
	}
	for (size_t c = 0; c < m; c++)
		f->t[c] = cells[c].present
			      ? (struct vd_delay_times){cells[c].req_ts, cells[c].rep_ts}
			      : (struct vd_delay_times){VD_NS_NONE, VD_NS_NONE};
	/* the cells ride with the times: under --rest the sums know the phase last */
	return vd_delay_sums_add_run(f->sums, f->t, phase, f->each ? cells : NULL, n);
}

static int on_phased(void *ctx, size_t probe, const void *cells, int8_t phase)
{
	const struct feed *f = ctx;
	return f->each->fn(f->each->ctx, f->d, probe, cells, phase);
}

/* --rest N on several clocks: the at-rest fits (clock_rest.h) from the probes the summaries keep,
 * or from a pass of their own when they keep only sketches. */
struct rest_fit {
	const struct vd_vantage_spec *specs;
	size_t n;
	const struct vd_echo_read_opts *ropts;
	const struct vd_delay_opts *opts;
	const struct vd_clock_map *maps;
	struct vd_delay *d;
	struct vd_err *err;
	int later; /* from the summaries' probes, after the stream */
	int rc;	   /* vd_clock_rest's when it ran */
};

/* Past exact_max probes the sketches take values as they come, with the fits as they are: the
 * at-rest fits need their pass first. */
static int rest_pass_now(void *ctx)
{
	struct rest_fit *x = ctx;
	x->later = 0;
	x->rc = vd_clock_rest(x->specs, x->n, x->ropts, x->opts, x->maps, x->d, x->err);
	return x->rc;
}

static const struct vd_delay_times *sums_times(void *ctx, size_t p)
{
	return vd_delay_sums_times(ctx, p);
}

/* d's clocks for the summaries: one label, the reference (vd_clock_pass sets several). */
static int delay_init(struct vd_delay *d, struct vd_vantage *const *vps, size_t nvp,
		      const struct vd_delay_opts *opts)
{
	memset(d, 0, sizeof(*d));
	d->vps = vps;
	d->nvp = nvp;
	d->exact_max = opts->exact_max ? opts->exact_max : VD_DELAY_EXACT_MAX;
	d->aligned = calloc(nvp, sizeof(*d->aligned));
	d->clock_id = calloc(nvp, sizeof(*d->clock_id));
	d->fit_of = malloc(nvp * sizeof(*d->fit_of));
	d->aligns = calloc(1, sizeof(*d->aligns));
	if (!d->aligned || !d->clock_id || !d->fit_of || !d->aligns)
		return -1;
	for (size_t v = 0; v < nvp; v++) {
		d->aligned[v] = 1;
		d->fit_of[v] = -1;
	}
	d->map.nvp = nvp;
	return 0;
}

int vd_delay_stream(const struct vd_vantage_spec *specs, size_t n,
		    const struct vd_echo_read_opts *ropts, const struct vd_delay_opts *opts,
		    const struct vd_delay_probe_out *each, struct vd_vantage_set *set,
		    struct vd_delay *d, struct vd_err *err)
{
	memset(d, 0, sizeof(*d));
	if (!vd_delay_stream_possible(specs, n))
		return 1;
	struct vd_trace_reader *r = calloc(n, sizeof(*r));
	struct vd_probe_stream *ps = NULL;
	struct feed feed = {.nvp = n, .each = each && each->fn ? each : NULL, .d = d};
	struct vd_clock_map *maps = NULL;
	struct rest_fit rest = {
	    .specs = specs, .n = n, .ropts = ropts, .opts = opts, .d = d, .err = err};
	struct vd_err rerr;
	int rc = 1;
	if (!r)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		int o = vd_echo_pull_open(&specs[i], ropts, &r[i].pull, &rerr);
		if (o != 0)
			goto out; /* not a trace, or it fails: the usual way says why */
		char name[VD_VANTAGE_NAME_MAX];
		vd_vantage_spec_name(&specs[i], name, sizeof(name));
		struct vd_vantage *v = vd_vantage_new(name, specs[i].clock, specs[i].path, "");
		if (!v || vd_vantage_set_append(set, v) < 0) {
			vd_vantage_free(v);
			goto oom;
		}
	}
	/* the names the rows carry from the first probe: as cmd_delay makes them at the end */
	vd_vantage_set_unique_names(set);
	if (delay_init(d, set->v, n, opts) < 0)
		goto oom;
	for (size_t i = 1; i < n && !maps; i++)
		if (strcmp(specs[i].clock, specs[0].clock) != 0) {
			maps = calloc(n, sizeof(*maps));
			feed.raw = calloc(vd_probe_emit_run(n) * n, sizeof(*feed.raw));
			if (!maps || !feed.raw)
				goto oom;
			size_t point_probes;
			int c = vd_clock_pass(specs, n, ropts, opts, d, maps, &point_probes, err);
			rest.maps = maps;
			/* --rest N: a pass of its own, unless the summaries will keep every probe's
			 * times (no --csv row waits for the fits; as many probes as a point of a
			 * fit made can be kept exact) */
			rest.later = !c && opts->rest && !feed.each && point_probes <= d->exact_max;
			if (!c && opts->rest && !rest.later)
				c = rest_pass_now(&rest);
			if (c < 0)
				goto fail;
			if (c > 0)
				goto out;
			feed.maps = maps;
			for (size_t k = 0; k < n; k++)
				r[k].map = &maps[k];
		}
	if (!(feed.sums = vd_delay_sums_new(d, opts->rest)))
		goto oom;
	if (rest.later) /* more probes than a point of a fit made: the pass after all */
		vd_delay_sums_before_sketch(feed.sums, rest_pass_now, &rest);
	if (feed.each &&
	    vd_delay_sums_each(feed.sums, n * sizeof(struct vd_stream_cell), on_phased, &feed) < 0)
		goto oom;
	feed.t = calloc(vd_probe_emit_run(n) * n, sizeof(*feed.t));
	struct vd_match_opts mo = {.window = opts->window};
	if (!feed.t || vd_probe_stream_new(set->v, n, &mo, on_probes, &feed, &ps, err) < 0)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		int a = vd_trace_reader_start(&r[i], ps, i, &rerr, err);
		if (a < 0)
			goto fail;
		if (a > 0) /* damaged, or no echo at all */
			goto out;
	}
	int m = vd_trace_merge(r, n, ps, &rerr, err);
	if (m < 0)
		goto stopped;
	if (m > 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct vd_echo_point pt;
		if (vd_echo_pull_finish(r[i].pull, &pt, &rerr) < 0)
			goto out;
		struct vd_vantage *v = set->v[i];
		snprintf(v->name, sizeof(v->name), "%s", pt.name);
		snprintf(v->select, sizeof(v->select), "%s", pt.select);
		snprintf(v->notes, sizeof(v->notes), "%s", pt.notes);
		snprintf(v->format, sizeof(v->format), "%s", pt.format);
		v->encap = pt.encap;
		v->records = pt.records;
		v->has_phase = pt.has_phase;
	}
	vd_vantage_set_unique_names(set); /* the probes held till the end carry them too */
	if (vd_probe_stream_finish(ps, err) < 0)
		goto stopped_oom;
	/* the window's memory back before the summaries take theirs */
	vd_probe_stream_free(ps);
	ps = NULL;
	if (vd_delay_sums_close(feed.sums) < 0)
		goto stopped_oom;
	if (rest.later) {
		int c = vd_clock_rest_fit(vd_delay_sums_count(feed.sums), opts->rest, sums_times,
					  feed.sums, opts, d);
		if (c < 0)
			goto oom;
		if (c > 0)
			goto out;
	}
	if (vd_delay_sums_finish(feed.sums, d) < 0)
		goto oom;
	rc = 0;
	goto done;
stopped: /* the summaries stopped the stream: out of memory, or the at-rest pass failed */
	if (rest.rc > 0)
		goto out;
	goto fail;
stopped_oom:
	if (rest.rc > 0)
		goto out;
	if (rest.rc < 0)
		goto fail;
oom:
	vd_err_set(err, "out of memory");
fail:
	rc = -1;
out:
	vd_delay_free(d);
	vd_vantage_set_free(set);
done:
	vd_probe_stream_free(ps);
	vd_delay_sums_free(feed.sums);
	free(feed.t);
	free(feed.raw);
	free(maps);
	for (size_t i = 0; r && i < n; i++)
		vd_echo_pull_close(r[i].pull);
	free(r);
	return rc;
}
