/* store_transfer.c — writing and reading rows of the `transfers` table (schema migration 1). */
#include "vmdelay/store/store_transfer.h"

#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>

#include "vmdelay/core/mem.h"

int vd_store_add_transfer(struct vd_store *st, int64_t run_id, const struct vd_transfer *t,
			  struct vd_err *err)
{
	static const char *const cols[] = { "run_id", "idx",	       "bytes", "start_ns",
					    "end_ns", "throughput_bps", "status" };
	char id[24], idx[24], bytes[24], start[24], end[24], bps[40];
	snprintf(id, sizeof(id), "%lld", (long long)run_id);
	snprintf(idx, sizeof(idx), "%llu", (unsigned long long)t->idx);
	snprintf(bytes, sizeof(bytes), "%llu", (unsigned long long)t->bytes);
	snprintf(start, sizeof(start), "%lld", (long long)t->start);
	snprintf(end, sizeof(end), "%lld", (long long)t->end);
	snprintf(bps, sizeof(bps), "%.17g", t->throughput_bps);
	const char *vals[] = { id,
			       idx,
			       bytes,
			       vd_ns_valid(t->start) ? start : NULL,
			       vd_ns_valid(t->end) ? end : NULL,
			       isnan(t->throughput_bps) ? NULL : bps,
			       vd_transfer_status_name(t->status) };
	return vd_store_add_row(st, "transfers", 7, cols, vals, err);
}

int vd_store_load_transfers(struct vd_store *st, int64_t run_id, struct vd_transfer **out,
			    size_t *n, struct vd_err *err)
{
	*out = NULL;
	*n = 0;
	sqlite3 *db = vd_store_db(st);
	sqlite3_stmt *s;
	const char *sql = run_id > 0 ? "SELECT idx, bytes, start_ns, end_ns, status FROM transfers"
				       " WHERE run_id = ? ORDER BY idx"
				     : "SELECT t.idx, t.bytes, t.start_ns, t.end_ns, t.status FROM"
				       " transfers t JOIN runs r ON r.id = t.run_id WHERE"
				       " r.complete = 1 ORDER BY t.run_id, t.idx";
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return vd_err_set(err, "cannot read transfers: %s", sqlite3_errmsg(db));
	if (run_id > 0)
		sqlite3_bind_int64(s, 1, run_id);
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct vd_transfer t = {0};
		t.idx = (uint64_t)sqlite3_column_int64(s, 0);
		t.bytes = (uint64_t)sqlite3_column_int64(s, 1);
		t.start = sqlite3_column_type(s, 2) == SQLITE_NULL ? VD_NS_NONE
								   : sqlite3_column_int64(s, 2);
		t.end = sqlite3_column_type(s, 3) == SQLITE_NULL ? VD_NS_NONE
								 : sqlite3_column_int64(s, 3);
		const char *stn = (const char *)sqlite3_column_text(s, 4);
		if (!stn || vd_transfer_status_parse(stn, &t.status))
			t.status = VD_XFER_ERROR;
		vd_transfer_finish(&t);
		if (vd_mem_reserve((void **)out, &cap, *n + 1, sizeof(**out))) {
			sqlite3_finalize(s);
			return vd_err_set(err, "out of memory reading transfers");
		}
		(*out)[(*n)++] = t;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return vd_err_set(err, "cannot read transfers: %s", sqlite3_errmsg(db));
	return 0;
}
