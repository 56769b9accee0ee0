/* transfer.c — tperf transfer records: names, output rows, CSV reading (docs/formats/tcp.md). */
#include "vmdelay/tcp/transfer.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmdelay/core/mem.h"

static const char *const names[VD_XFER__COUNT] = {"ok", "refused", "reset", "timeout", "error"};

const char *vd_transfer_status_name(enum vd_transfer_status s)
{
	return (unsigned)s < VD_XFER__COUNT ? names[s] : "error";
}

int vd_transfer_status_parse(const char *name, enum vd_transfer_status *s)
{
	for (int i = 0; i < VD_XFER__COUNT; i++)
		if (strcmp(name, names[i]) == 0) {
			*s = (enum vd_transfer_status)i;
			return 0;
		}
	return -1;
}

void vd_transfer_finish(struct vd_transfer *t)
{
	vd_ns d = vd_ns_diff(t->end, t->start);
	t->throughput_bps = (t->status == VD_XFER_OK && vd_ns_valid(d) && d > 0)
				? (double)t->bytes * 8.0 * 1e9 / (double)d
				: NAN;
}

void vd_transfer_out_row(struct vd_out *o, const struct vd_transfer *t)
{
	vd_out_row_begin(o);
	vd_out_int(o, "idx", (int64_t)t->idx);
	vd_out_int(o, "bytes", (int64_t)t->bytes);
	vd_out_ns(o, "start_ns", t->start);
	vd_out_ns(o, "end_ns", t->end);
	vd_out_ns(o, "duration_ns", vd_ns_diff(t->end, t->start));
	vd_out_dbl(o, "throughput_bps", t->throughput_bps, 0);
	vd_out_str(o, "status", vd_transfer_status_name(t->status));
	vd_out_row_end(o);
}

/* Splits a CSV line in place (no quoted commas in tperf's own output). */
static int split(char *line, char **cells, int max)
{
	int n = 0;
	char *p = line;
	line[strcspn(line, "\r\n")] = 0;
	while (n < max) {
		cells[n++] = p;
		char *c = strchr(p, ',');
		if (!c)
			break;
		*c = 0;
		p = c + 1;
	}
	return n;
}

static int parse_i64(const char *s, int64_t *v)
{
	if (!*s) {
		*v = VD_NS_NONE;
		return 0;
	}
	errno = 0;
	char *end;
	long long x = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	*v = x;
	return 0;
}

int vd_transfer_load_csv(const char *path, struct vd_transfer **out, size_t *n, struct vd_err *err)
{
	*out = NULL;
	*n = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return vd_err_set(err, "%s: %s", path, strerror(errno));
	char line[1024];
	char *cells[16];
	enum { C_IDX, C_BYTES, C_START, C_END, C_STATUS, C__N };
	static const char *const want[C__N] = {"idx", "bytes", "start_ns", "end_ns", "status"};
	int col[C__N];
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return vd_err_set(err, "%s: empty file, expected a tperf --csv header", path);
	}
	int nc = split(line, cells, 16);
	for (int k = 0; k < C__N; k++) {
		col[k] = -1;
		for (int i = 0; i < nc; i++)
			if (strcmp(cells[i], want[k]) == 0)
				col[k] = i;
		if (col[k] < 0) {
			fclose(f);
			return vd_err_set(err,
					  "%s: line 1: no column '%s' (not a tperf --csv file)",
					  path, want[k]);
		}
	}
	size_t cap = 0;
	unsigned lineno = 1;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (line[0] == '\n' || line[0] == 0)
			continue;
		int m = split(line, cells, 16);
		struct vd_transfer t = {0};
		int64_t idx, bytes;
		int bad = 0;
		for (int k = 0; k < C__N; k++)
			bad |= col[k] >= m;
		if (!bad)
			bad = parse_i64(cells[col[C_IDX]], &idx) ||
			      parse_i64(cells[col[C_BYTES]], &bytes) ||
			      parse_i64(cells[col[C_START]], &t.start) ||
			      parse_i64(cells[col[C_END]], &t.end) ||
			      vd_transfer_status_parse(cells[col[C_STATUS]], &t.status) ||
			      idx < 0 || bytes < 0;
		if (bad) {
			free(*out);
			*out = NULL;
			*n = 0;
			fclose(f);
			return vd_err_set(err, "%s: line %u: malformed transfer row", path, lineno);
		}
		t.idx = (uint64_t)idx;
		t.bytes = (uint64_t)bytes;
		vd_transfer_finish(&t);
		if (vd_mem_reserve((void **)out, &cap, *n + 1, sizeof(**out))) {
			fclose(f);
			return vd_err_set(err, "%s: out of memory", path);
		}
		(*out)[(*n)++] = t;
	}
	fclose(f);
	return 0;
}
