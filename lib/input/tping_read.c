/* tping_read.c — tping rows (tping_csv.c, tping_json.c, tping_sqlite.c) turned into echo
 * events at the hw, kernel and user vantage points, and the #SELECT that picks them
 * (tping_read.h). The rows come from the source (source.h), one at a time. */
#include "tping_read.h"

#include "tping_rows.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	PT_HW = VD_TPING_HW,
	PT_KERNEL = VD_TPING_KERNEL,
	PT_USER = VD_TPING_USER,
	PT__COUNT = VD_TPING_POINTS
};
static const char *const point_names[PT__COUNT] = {"hw", "kernel", "user"};

const char *vd_tping_point_name(int k)
{
	return point_names[k];
}

struct tping_reader {
	const struct vd_vantage_spec *spec;
	const struct vd_echo_sink *sink;
	int want[PT__COUNT]; /* selected explicitly */
	int any_selected;
	struct vd_echo_point *pt[PT__COUNT];
	uint64_t rows;
};

int vd_tping_select(const struct vd_vantage_spec *spec, int want[VD_TPING_POINTS],
		    struct vd_err *err)
{
	int n = 0;
	memset(want, 0, VD_TPING_POINTS * sizeof(*want));
	if (!spec->select[0])
		return 0;
	char buf[VD_VANTAGE_SELECT_MAX];
	snprintf(buf, sizeof(buf), "%s", spec->select);
	char *save = NULL;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int found = 0;
		for (int p = 0; p < PT__COUNT; p++)
			if (strcmp(tok, point_names[p]) == 0) {
				n += !want[p];
				want[p] = 1;
				found = 1;
			}
		/* run=N is the source's: it picks the SQLite run (source.c) */
		if (!found && strncmp(tok, "run=", 4) == 0 && vd_tping_run_parse(tok + 4) >= 0)
			found = 1;
		if (!found)
			return vd_err_usage(
			    err,
			    "%s: bad selector '#%s' for a tping file (want hw, kernel, "
			    "user or run=N, comma separated)",
			    spec->path, tok);
	}
	return n;
}

static int tping_select(struct tping_reader *rd, struct vd_err *err)
{
	int n = vd_tping_select(rd->spec, rd->want, err);
	rd->any_selected = n > 0;
	return n < 0 ? -1 : 0;
}

size_t vd_tping_row_events(const struct vd_probe *p, int k, uint64_t row, struct vd_echo e[2])
{
	const vd_ns tx[PT__COUNT] = {p->hw_tx, p->kernel_tx, p->user_tx};
	const vd_ns rx[PT__COUNT] = {p->hw_rx, p->kernel_rx, p->user_rx};
	/* A duplicate or late row is a reply only: its request is the earlier row's. */
	int reply_only = p->status == VD_PROBE_DUPLICATE || p->status == VD_PROBE_LATE;
	size_t n = 0;
	if (vd_ns_valid(tx[k]) && !reply_only)
		e[n++] = (struct vd_echo){.ts = tx[k],
					  .kind = VD_ECHO_REQUEST,
					  .seq = p->seq,
					  .phase = (int8_t)p->phase,
					  .index = row};
	if (vd_ns_valid(rx[k]))
		e[n++] = (struct vd_echo){.ts = rx[k],
					  .kind = VD_ECHO_REPLY,
					  .seq = p->seq,
					  .phase = (int8_t)p->phase,
					  .index = row};
	return n;
}

static int add(struct tping_reader *rd, int k, const struct vd_echo *e)
{
	struct vd_echo_point *p = rd->pt[k];
	if (e->kind == VD_ECHO_REQUEST && e->phase < 0)
		p->has_phase = 0;
	return vd_echo_point_add(rd->sink, p, e);
}

/* One row: at each point, its request and its reply, when timed. */
static int tping_row(struct tping_reader *rd, const struct vd_probe *p)
{
	rd->rows++;
	for (int k = 0; k < PT__COUNT; k++) {
		struct vd_echo e[2];
		size_t n = vd_tping_row_events(p, k, rd->rows, e);
		for (size_t i = 0; i < n; i++)
			if (add(rd, k, &e[i]) < 0)
				return -1;
	}
	return 0;
}

static int read_rows(struct tping_reader *rd, struct vd_source *src, struct vd_err *err)
{
	struct vd_item it;
	int r;
	while ((r = vd_source_next(src, &it, err)) > 0)
		if (tping_row(rd, &it.probe) < 0)
			return vd_err_set(err, "%s: out of memory", rd->spec->path);
	return r;
}

/* Which points the file gives: the selected ones (each must have timestamps), else every
 * point with any. */
static int choose(struct tping_reader *rd, int chosen[PT__COUNT], struct vd_err *err)
{
	int nchosen = 0;
	for (int k = 0; k < PT__COUNT; k++) {
		chosen[k] = rd->any_selected ? rd->want[k] : rd->pt[k]->echoes > 0;
		if (chosen[k] && rd->pt[k]->echoes == 0)
			return vd_err_set(err, "%s: no %s timestamps in this tping file",
					  rd->spec->path, point_names[k]);
		nchosen += chosen[k];
	}
	if (!nchosen)
		return vd_err_set(err, "%s: no probes with timestamps in this tping file",
				  rd->spec->path);
	return nchosen;
}

int vd_echo_read_tping(const struct vd_vantage_spec *spec, struct vd_source *src,
		       const struct vd_echo_sink *sink, struct vd_err *err)
{
	struct tping_reader rd = {.spec = spec, .sink = sink};
	if (tping_select(&rd, err) < 0)
		return -1;
	int rc = 0, chosen[PT__COUNT] = {0};
	for (int k = 0; k < PT__COUNT && !rc; k++) {
		rd.pt[k] = vd_echo_point_open(sink, point_names[k], spec,
					      vd_format_name(vd_source_format(src)));
		if (!rd.pt[k])
			rc = vd_err_set(err, "out of memory");
		else
			rd.pt[k]->has_phase = 1;
	}
	int nchosen = rc ? -1 : read_rows(&rd, src, err);
	if (nchosen == 0)
		nchosen = choose(&rd, chosen, err);
	rc = nchosen < 0 ? -1 : 0;
	for (int k = 0; k < PT__COUNT; k++) {
		struct vd_echo_point *p = rd.pt[k];
		int keep = !rc && chosen[k];
		if (keep) {
			if (spec->name[0] && nchosen == 1)
				snprintf(p->name, sizeof(p->name), "%s", spec->name);
			else if (spec->name[0])
				snprintf(p->name, sizeof(p->name), "%.60s.%s", spec->name,
					 point_names[k]);
			snprintf(p->select, sizeof(p->select), "%s", point_names[k]);
			p->records = rd.rows;
		}
		if (vd_echo_point_close(sink, p, keep) < 0 && !rc)
			rc = vd_err_set(err, "out of memory");
	}
	return rc;
}
