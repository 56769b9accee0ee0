/* echo_pull.c — one packet trace's ICMP echoes pulled one at a time (echo_pull.h), through the
 * same steps as the push reader of echo_trace.c. */
#include "vmdelay/input/echo_pull.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "echo_trace.h"
#include "tcm_pull.h"
#include "tping_pull.h"
#include "tping_read.h"
#include "tping_split.h"
#include "vmdelay/core/progress.h"
#include "vmdelay/input/source.h"
#include "vmdelay/input/trace.h"

struct vd_echo_pull {
	const struct vd_vantage_spec *spec;
	struct vd_echo_failures *failures;
	struct vd_source *src;
	struct vd_tping_pull *tping; /* a tping file's point (src NULL), else NULL: a trace */
	struct vd_tcm_pull *tcm;     /* a tcpmon file's level (then src is NULL) */
	struct vd_decode_opts decode;
	struct vd_progress prog;
	uint64_t size;
	struct vd_echo_point pt; /* what the push reader would close the point with */
};

/* err, also left as spec's failure when the caller asked (its first only). Returns -1. */
static int failed(struct vd_echo_failures *f, const struct vd_vantage_spec *spec,
		  const struct vd_err *err)
{
	/* addresses compared as numbers: spec may be another array's (a caller's copy) */
	uintptr_t at = (uintptr_t)spec, first = f ? (uintptr_t)f->specs : 0;
	size_t i = (at - first) / sizeof(*spec);
	if (f && at >= first && i < f->n && &f->specs[i] == spec && !f->err[i].msg[0])
		f->err[i] = *err;
	return -1;
}

/* One point of a tping file (t, NULL out of memory), named as vd_echo_read names it when it
 * is the one selected. */
static int open_tping(struct vd_echo_pull *p, const struct vd_vantage_spec *spec, int point,
		      struct vd_tping_pull *t, struct vd_echo_failures *failures,
		      struct vd_echo_pull **out, struct vd_err *err)
{
	p->spec = spec;
	p->failures = failures;
	if (!(p->tping = t)) {
		vd_echo_pull_close(p);
		vd_err_set(err, "out of memory");
		return failed(failures, spec, err);
	}
	snprintf(p->pt.name, sizeof(p->pt.name), "%s",
		 spec->name[0] ? spec->name : vd_tping_point_name(point));
	snprintf(p->pt.clock, sizeof(p->pt.clock), "%s", spec->clock);
	snprintf(p->pt.format, sizeof(p->pt.format), "%s", vd_format_name(vd_tping_pull_format(t)));
	snprintf(p->pt.select, sizeof(p->pt.select), "%s", vd_tping_point_name(point));
	p->pt.path = spec->path;
	*out = p;
	return 0;
}

/* A tcpmon record file: one level pulled (vd_tcm_pull; vd_source_open would read it whole), 1
 * (read whole) for several, -1 failed; 2 when spec is no tcpmon file. */
static int open_tcm(struct vd_echo_pull *p, const struct vd_vantage_spec *spec,
		    const struct vd_echo_read_opts *opts, struct vd_echo_pull **out,
		    struct vd_err *err)
{
	struct vd_echo_failures *failures = opts ? opts->failures : NULL;
	enum vd_format f;
	struct vd_err ferr;
	/* a file split is a tcpmon file: its levels may share a reading open (removed since) */
	if (!vd_tcm_split_holds(opts ? opts->tcm_split : NULL, spec->path) &&
	    (vd_format_is_stream(spec->path) || vd_format_detect_file(spec->path, &f, &ferr) < 0 ||
	     f != VD_FORMAT_TCPMON))
		return 2;
	int level = vd_tcm_pull_level(spec), r = level < 0 ? 1 : 0;
	if (r == 0)
		r = vd_tcm_pull_open(opts ? opts->tcm_split : NULL, spec, level,
				     opts ? opts->progress : 0, &p->tcm, err);
	if (r != 0) {
		free(p);
		return r < 0 ? failed(failures, spec, err) : 1;
	}
	p->spec = spec;
	p->failures = failures;
	*out = p;
	return 0;
}

/* Why the point gave no echo, as vd_echo_read says it. -1. */
static int no_echo(const struct vd_echo_pull *p, uint64_t records, struct vd_err *err)
{
	if (p->tping)
		return vd_err_set(err, "%s: no %s timestamps in this tping file", p->spec->path,
				  p->pt.select);
	return vd_echo_trace_check(p->spec, p->spec->select[0] != 0, records, 0, p->pt.format, err);
}

int vd_echo_pull_open(const struct vd_vantage_spec *spec, const struct vd_echo_read_opts *opts,
		      struct vd_echo_pull **out, struct vd_err *err)
{
	*out = NULL;
	struct vd_echo_failures *failures = opts ? opts->failures : NULL;
	struct vd_echo_pull *p = calloc(1, sizeof(*p));
	if (!p) {
		vd_err_set(err, "out of memory");
		return failed(failures, spec, err);
	}
	struct vd_tping_pull *t = NULL;
	int alone =
	    opts && opts->tping_split ? vd_tping_split_attach(opts->tping_split, spec, &t, err) : 1;
	if (alone <= 0) {
		if (alone == 0)
			return open_tping(p, spec, vd_tping_pull_point(spec), t, failures, out,
					  err);
		free(p);
		return failed(failures, spec, err);
	}
	int tcm = open_tcm(p, spec, opts, out, err);
	if (tcm != 2)
		return tcm;
	if (vd_source_open(spec, VD_SOURCE_ANY, &p->src, err) < 0) {
		free(p);
		return failed(failures, spec, err);
	}
	enum vd_format f = vd_source_format(p->src);
	int tping = vd_format_is_tping(f);
	int point = tping ? vd_tping_pull_point(spec) : -1;
	if ((tping && point < 0) || f == VD_FORMAT_TCPMON || strcmp(spec->select, "*") == 0) {
		vd_source_close(p->src);
		free(p);
		return 1;
	}
	if (tping) {
		t = vd_tping_pull_open(p->src, spec->path, point);
		p->src = NULL; /* the point's reading holds it */
		return open_tping(p, spec, point, t, failures, out, err);
	}
	if (opts && opts->filter)
		vd_source_set_filter(p->src, opts->filter);
	p->spec = spec;
	p->failures = failures;
	if (opts)
		p->decode = opts->decode;
	int progress = opts ? opts->progress : 0;
	p->size = vd_progress_file_size(spec->path);
	vd_progress_init(&p->prog, spec->path, progress == VD_PROGRESS_FORCED, progress == 0,
			 p->size);
	vd_vantage_spec_name(spec, p->pt.name, sizeof(p->pt.name));
	snprintf(p->pt.clock, sizeof(p->pt.clock), "%s", spec->clock);
	snprintf(p->pt.format, sizeof(p->pt.format), "%s",
		 vd_trace_format(vd_source_trace(p->src)));
	snprintf(p->pt.select, sizeof(p->pt.select), "%s", spec->select);
	p->pt.path = spec->path;
	*out = p;
	return 0;
}

/* The trace ended without any echo: the failure vd_echo_pull_finish will give, left for a
 * caller that gives way at once. 0 (the end). */
static int echoless(struct vd_echo_pull *p)
{
	struct vd_err why;
	no_echo(p, p->tping ? 0 : vd_source_records(p->src), &why);
	failed(p->failures, p->spec, &why);
	return 0;
}

/* Damage (err): -1, or with end_on_damage after an echo the end of the trace (0). */
static int damaged(struct vd_echo_pull *p, struct vd_err *err)
{
	failed(p->failures, p->spec, err);
	return p->failures && p->failures->end_on_damage && p->pt.echoes ? 0 : -1;
}

int vd_echo_pull_next(struct vd_echo_pull *p, struct vd_echo *e, struct vd_err *err)
{
	if (p->tcm) {
		int r = vd_tcm_pull_next(p->tcm, e, err);
		if (r < 0)
			return damaged(p, err);
		p->pt.echoes += (uint64_t)r;
		return r;
	}
	if (p->tping) {
		int r = vd_tping_pull_next(p->tping, e, err);
		if (r < 0)
			return damaged(p, err);
		if (r == 0)
			return p->pt.echoes ? 0 : echoless(p);
		p->pt.echoes++;
		return 1;
	}
	for (;;) {
		struct vd_item it;
		int r = vd_source_next(p->src, &it, err);
		if (r == 0 && !p->pt.echoes) /* the reason the caller gives way: said now */
			return echoless(p);
		if (r < 0)
			return damaged(p, err);
		if (r == 0)
			return 0;
		uint64_t records = vd_source_records(p->src);
		if (vd_progress_due(&p->prog, records))
			vd_progress_update(&p->prog, records, it.pkt.offset);
		int er = vd_echo_trace_packet(p->spec, &p->decode, &it.pkt, &p->pt, e, err);
		if (er < 0)
			return damaged(p, err);
		if (er) {
			p->pt.echoes++;
			return 1;
		}
	}
}

int vd_echo_pull_finish(struct vd_echo_pull *p, struct vd_echo_point *pt, struct vd_err *err)
{
	if (p->tcm) {
		int r = vd_tcm_pull_finish(p->tcm, &p->pt, err);
		*pt = p->pt;
		return r < 0 ? failed(p->failures, p->spec, err) : 0;
	}
	if (p->tping) {
		p->pt.records = vd_tping_pull_rows(p->tping);
		p->pt.has_phase = vd_tping_pull_has_phase(p->tping);
		*pt = p->pt;
		if (p->pt.echoes)
			return 0;
		no_echo(p, 0, err);
		return failed(p->failures, p->spec, err);
	}
	p->pt.records = vd_source_records(p->src);
	vd_progress_done(&p->prog, p->pt.records, p->size);
	vd_echo_trace_notes(&p->pt, vd_trace_compression(vd_source_trace(p->src)));
	*pt = p->pt;
	if (vd_echo_trace_check(p->spec, p->spec->select[0] != 0, p->pt.records, p->pt.echoes,
				p->pt.format, err) < 0)
		return failed(p->failures, p->spec, err);
	return 0;
}

void vd_echo_pull_close(struct vd_echo_pull *p)
{
	if (!p)
		return;
	vd_source_close(p->src);
	vd_tping_pull_close(p->tping);
	vd_tcm_pull_free(p->tcm);
	free(p);
}

int vd_echo_pull_takes_all(const struct vd_vantage_spec *specs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		enum vd_format f;
		struct vd_err err;
		if (strcmp(specs[i].select, "*") == 0)
			return 0;
		if (vd_format_is_stream(specs[i].path))
			continue;
		if (vd_format_detect_file(specs[i].path, &f, &err) < 0)
			return 0;
		if (!vd_format_is_trace(f) &&
		    !(vd_format_is_tping(f) && vd_tping_pull_point(&specs[i]) >= 0))
			return 0;
	}
	return 1;
}

/* vd_echo_pull_split, a tcpmon file's levels kept in ts (may be NULL) for their shared reading */
static int pull_split(struct vd_tcm_split *ts, const struct vd_vantage_spec *spec,
		      struct vd_vantage_spec out[VD_ECHO_PULL_SPLIT_MAX], struct vd_err *err)
{
	enum vd_format f;
	struct vd_err ferr;
	if (vd_format_is_stream(spec->path) || vd_format_detect_file(spec->path, &f, &ferr) < 0)
		return 0;
	if (f == VD_FORMAT_TCPMON)
		return vd_tcm_pull_split(ts, spec, out, err);
	struct vd_tping_split *s = vd_format_is_tping(f) ? vd_tping_split_new() : NULL;
	int n = s ? vd_tping_split_file(s, spec, out, err) : 0;
	vd_tping_split_free(s); /* its points read alone */
	return n;
}

int vd_echo_pull_split(const struct vd_vantage_spec *spec,
		       struct vd_vantage_spec out[VD_ECHO_PULL_SPLIT_MAX], struct vd_err *err)
{
	return pull_split(NULL, spec, out, err);
}

int vd_echo_pull_specs(const struct vd_vantage_spec *specs, size_t n, struct vd_vantage_spec **out,
		       size_t *nout, struct vd_tping_split **split, struct vd_tcm_split **tcm_split,
		       struct vd_err *err)
{
	struct vd_vantage_spec *x = calloc(n * VD_ECHO_PULL_SPLIT_MAX + 1, sizeof(*x));
	struct vd_tping_split *s = vd_tping_split_new();
	struct vd_tcm_split *ts = tcm_split ? vd_tcm_split_new() : NULL;
	size_t nx = 0;
	int rc = x && s && (ts || !tcm_split) ? 0 : vd_err_set(err, "out of memory");
	for (size_t i = 0; i < n && !rc; i++) {
		/* a tping file split here keeps its first rows for one reading, a tcpmon file its
		 * levels for the reading its levels will share */
		int k = vd_tping_split_file(s, &specs[i], &x[nx], err);
		if (k == 0)
			k = pull_split(ts, &specs[i], &x[nx], err);
		if (k == 0) {
			x[nx] = specs[i];
			k = (x[nx].path = strdup(specs[i].path)) ? 1
								 : vd_err_set(err, "out of memory");
		}
		rc = k < 0 ? -1 : 0;
		nx += k < 0 ? 0 : (size_t)k;
	}
	if (rc < 0) {
		for (size_t j = 0; j < nx; j++)
			vd_vantage_spec_free(&x[j]);
		free(x);
		vd_tping_split_free(s);
		vd_tcm_split_free(ts);
		return -1;
	}
	*out = x;
	*nout = nx;
	*split = s;
	if (tcm_split)
		*tcm_split = ts;
	return 0;
}

void vd_echo_pull_specs_free(struct vd_tping_split *split, struct vd_tcm_split *tcm_split)
{
	vd_tping_split_free(split);
	vd_tcm_split_free(tcm_split);
}
