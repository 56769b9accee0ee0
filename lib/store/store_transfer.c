/* store_transfer.c — writing and reading rows of the `transfers` table (schema migration 1). */
#include "vmdelay/store/store_transfer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "vmdelay/core/mem.h"

#include "store_impl.h"

int vd_store_add_transfer(struct vd_store *st, int64_t run_id, const struct vd_transfer *t,
			  struct vd_err *err)
{
	static const char *const cols[] = {"run_id",	     "idx",   "bytes", "start_ns", "end_ns",
					   "throughput_bps", "status"};
	char id[24], idx[24], bytes[24], start[24], end[24], bps[40];
	snprintf(id, sizeof(id), "%lld", (long long)run_id);
	snprintf(idx, sizeof(idx), "%llu", (unsigned long long)t->idx);
	snprintf(bytes, sizeof(bytes), "%llu", (unsigned long long)t->bytes);
	snprintf(start, sizeof(start), "%lld", (long long)t->start);
	snprintf(end, sizeof(end), "%lld", (long long)t->end);
	snprintf(bps, sizeof(bps), "%.17g", t->throughput_bps);
	const char *vals[] = {id,
			      idx,
			      bytes,
			      vd_ns_valid(t->start) ? start : NULL,
			      vd_ns_valid(t->end) ? end : NULL,
			      isnan(t->throughput_bps) ? NULL : bps,
			      vd_transfer_status_name(t->status)};
	return vd_store_add_row(st, "transfers", 7, cols, vals, err);
}

/* The transfers read so far and the first error. */
struct transfer_scan {
	struct vd_transfer **out;
	size_t *n, cap;
	struct vd_err *err;
};

/* One transfers row (idx, bytes, start_ns, end_ns, status). */
static int transfer_row(void *arg, const struct vd_store_row *s)
{
	struct transfer_scan *sc = arg;
	struct vd_transfer t = {0};
	t.idx = (uint64_t)vd_row_int64(s, 0);
	t.bytes = (uint64_t)vd_row_int64(s, 1);
	t.start = vd_row_null(s, 2) ? VD_NS_NONE : vd_row_int64(s, 2);
	t.end = vd_row_null(s, 3) ? VD_NS_NONE : vd_row_int64(s, 3);
	const char *stn = vd_row_text(s, 4);
	if (!stn || vd_transfer_status_parse(stn, &t.status))
		t.status = VD_XFER_ERROR;
	vd_transfer_finish(&t);
	if (vd_mem_reserve((void **)sc->out, &sc->cap, *sc->n + 1, sizeof(**sc->out)))
		return vd_err_set(sc->err, "out of memory reading transfers");
	(*sc->out)[(*sc->n)++] = t;
	return 0;
}

int vd_store_load_transfers(struct vd_store *st, int64_t run_id, struct vd_transfer **out,
			    size_t *n, struct vd_err *err)
{
	*out = NULL;
	*n = 0;
	/* An empty store (a reader does not make the schema) has no transfers. */
	if (st->version == 0)
		return 0;
	char id[24];
	snprintf(id, sizeof(id), "%lld", (long long)run_id);
	const char *params[] = {id};
	const char *sql = run_id > 0 ? "SELECT idx, bytes, start_ns, end_ns, status FROM transfers"
				       " WHERE run_id = ? ORDER BY idx"
				     : "SELECT t.idx, t.bytes, t.start_ns, t.end_ns, t.status FROM"
				       " transfers t JOIN runs r ON r.id = t.run_id WHERE"
				       " r.complete = 1 ORDER BY t.run_id, t.idx";
	struct transfer_scan sc = {.out = out, .n = n, .err = err};
	if (st->ops->select(st, sql, run_id > 0 ? 1 : 0, params, transfer_row, &sc, err)) {
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}
