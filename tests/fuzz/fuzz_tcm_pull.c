/* fuzz_tcm_pull.c — libFuzzer harness for a tcpmon record file read in two passes
 * (lib/input/tcmrec.c: vd_tcmrec_open_meta, the record cursor) and split into levels pulled in
 * time order (lib/input/tcm_pull.c through vd_echo_pull_split / vd_echo_pull_open). The first
 * pass must accept exactly the files the whole parser accepts, with the same record count; the
 * cursor must give the parser's records, in order; every event pulled must come no earlier
 * (time, then record) than the one before it, and a failure must name the file; the levels
 * pulled side by side from one shared reading (vd_echo_pull_specs) must give the events each
 * gives alone. Corpus:
 * fuzz_tcm_pull.corpus (tcm_synth files in per-CPU batches, with loss, unstable TSC). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmdelay/input/echo_pull.h"
#include "vmdelay/input/tcmrec.h"

static void two_passes(const char *path, const uint8_t *data, size_t size)
{
	struct tcmrec *whole = NULL, *meta = NULL;
	struct vd_tcmrec_cursor *c = NULL;
	struct vd_err err;
	uint64_t n = 0;
	int w = vd_tcmrec_parse(data, size, path, &whole, &err);
	int m = vd_tcmrec_open_meta(path, &meta, &n, &err);
	if ((w == 0) != (m == 0))
		abort(); /* the first pass accepts another set of files than the parser */
	if (m == 0 && (n != vd_tcmrec_count(whole) ||
		       vd_tcmrec_calib_count(meta) != vd_tcmrec_calib_count(whole) ||
		       vd_tcmrec_loss_count(meta) != vd_tcmrec_loss_count(whole)))
		abort();
	if (m == 0 && vd_tcmrec_cursor_open(path, &c, &err) == 0) {
		struct tcpmon_record r;
		size_t i = 0;
		int got;
		while ((got = vd_tcmrec_cursor_next(c, &r, &err)) > 0)
			if (memcmp(&r, vd_tcmrec_get(whole, i++), sizeof(r)))
				abort(); /* not the parser's record */
		if (got < 0 || i != n)
			abort();
		vd_tcmrec_cursor_close(c);
	}
	vd_tcmrec_free(whole);
	vd_tcmrec_free(meta);
}

/* A level's events pulled alone, kept (up to MAX_EVENTS) for the shared reading to match. */
#define MAX_EVENTS 4096
struct level {
	struct vd_echo ev[MAX_EVENTS];
	size_t n;
	int whole; /* pulled to its end without failing */
};
static struct level alone[VD_ECHO_PULL_SPLIT_MAX];

static void pull_level(const struct vd_vantage_spec *spec, struct level *keep)
{
	struct vd_echo_pull *p;
	struct vd_err err;
	struct vd_echo e;
	struct vd_echo_point pt;
	if (keep)
		keep->n = keep->whole = 0;
	if (vd_echo_pull_open(spec, NULL, &p, &err) != 0)
		return;
	vd_ns last = INT64_MIN;
	uint64_t last_index = 0;
	int rc;
	while ((rc = vd_echo_pull_next(p, &e, &err)) > 0) {
		if (e.ts < last || (e.ts == last && e.index <= last_index))
			abort(); /* out of time order */
		last = e.ts;
		last_index = e.index;
		if (keep && keep->n < MAX_EVENTS)
			keep->ev[keep->n++] = e;
	}
	if (rc < 0 && !strstr(err.msg, spec->path))
		abort(); /* a failure that does not name the file */
	if (rc == 0 && vd_echo_pull_finish(p, &pt, &err) < 0 && !strstr(err.msg, spec->path))
		abort();
	if (keep)
		keep->whole = rc == 0 && keep->n < MAX_EVENTS;
	vd_echo_pull_close(p);
}

static int same_event(const struct vd_echo *a, const struct vd_echo *b)
{
	return a->ts == b->ts && a->index == b->index && a->kind == b->kind && a->seq == b->seq &&
	       a->id == b->id && a->phase == b->phase && a->src.family == b->src.family &&
	       !memcmp(a->src.bytes, b->src.bytes, sizeof(a->src.bytes)) &&
	       !memcmp(a->dst.bytes, b->dst.bytes, sizeof(a->dst.bytes));
}

/* The levels x[0..n) opened together on the file's one reading and pulled in turn: each gives
 * the events it gave alone (the same ones, in the same order, no more), and fails only where
 * it failed alone. */
static void pull_shared(const struct vd_vantage_spec *x, size_t n, struct vd_tcm_split *split)
{
	struct vd_echo_read_opts o = {.tcm_split = split};
	struct vd_echo_pull *p[VD_ECHO_PULL_SPLIT_MAX] = {0};
	size_t got[VD_ECHO_PULL_SPLIT_MAX] = {0};
	int more[VD_ECHO_PULL_SPLIT_MAX] = {0}, any = 0;
	struct vd_err err;
	for (size_t i = 0; i < n; i++)
		any |= more[i] = vd_echo_pull_open(&x[i], &o, &p[i], &err) == 0;
	while (any) {
		any = 0;
		for (size_t i = 0; i < n; i++) {
			struct vd_echo e;
			int rc = more[i] ? vd_echo_pull_next(p[i], &e, &err) : 0;
			if (rc < 0 && (!strstr(err.msg, x[i].path) || alone[i].whole))
				abort(); /* fails where alone did not (files too short to give way)
					  */
			if (rc == 0 && more[i] && alone[i].whole && got[i] != alone[i].n)
				abort(); /* fewer events than alone */
			if (rc > 0 && got[i] < alone[i].n && !same_event(&e, &alone[i].ev[got[i]]))
				abort(); /* another event than alone */
			if (rc > 0 && alone[i].whole && got[i] >= alone[i].n)
				abort(); /* more events than alone */
			got[i] += rc > 0;
			any |= more[i] = rc > 0;
		}
	}
	for (size_t i = 0; i < n; i++)
		vd_echo_pull_close(p[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/fuzz_tcm_pull.%d.tcm", (int)getpid());
	FILE *f = fopen(path, "wb");
	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	two_passes(path, data, size);
	struct vd_vantage_spec spec = {.name = "g", .path = path}, x[VD_ECHO_PULL_SPLIT_MAX];
	struct vd_err err;
	int n = vd_echo_pull_split(&spec, x, &err);
	for (int i = 0; i < n; i++) {
		pull_level(&x[i], &alone[i]);
		vd_vantage_spec_free(&x[i]);
	}
	struct vd_vantage_spec *xs;
	struct vd_tping_split *ts;
	struct vd_tcm_split *split;
	size_t nx;
	if (n > 0 && vd_echo_pull_specs(&spec, 1, &xs, &nx, &ts, &split, &err) == 0) {
		if (nx != (size_t)n)
			abort(); /* split otherwise than alone */
		pull_shared(xs, nx, split);
		for (size_t i = 0; i < nx; i++)
			vd_vantage_spec_free(&xs[i]);
		free(xs);
		vd_echo_pull_specs_free(ts, split);
	}
	/* one level asked for directly, as FILE#trans-tx */
	snprintf(spec.select, sizeof(spec.select), "trans-tx");
	pull_level(&spec, NULL);
	return 0;
}
