/* tping_sqlite.c — tping's probes from a SQLite store, one row at a time (tping_sqlite.h). */
#include "tping_sqlite.h"
#include "vmdelay/input/sqlite_file.h"

#include <inttypes.h>
#include <sqlite3.h>
#include <stdlib.h>

struct sqlite_rows {
	struct vd_tping_rows base;
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t run;
	uint64_t rows;
};

static int sqlite_next(struct vd_tping_rows *base, struct vd_probe *p, struct vd_err *err)
{
	struct sqlite_rows *r = (struct sqlite_rows *)base;
	const char *path = base->path;
	int rc = sqlite3_step(r->st);
	if (rc == SQLITE_DONE) {
		if (!r->rows)
			return vd_err_set(err, "%s: run %" PRId64 " has no probes", path, r->run);
		return 0;
	}
	if (rc != SQLITE_ROW)
		return vd_err_set(err, "%s: %s", path, sqlite3_errmsg(r->db));
	vd_probe_init(p, 0);
	for (int c = 0; c < VD_TPING_COL__COUNT; c++) {
		const unsigned char *t = sqlite3_column_text(r->st, c);
		if (vd_tping_cell_set(p, c, (const char *)t) < 0)
			return vd_err_set(err, "%s: run %" PRId64 ": bad %s '%s'", path, r->run,
					  vd_tping_col_names[c], t ? (const char *)t : "");
	}
	r->rows++;
	return 1;
}

static void sqlite_close(struct vd_tping_rows *base)
{
	struct sqlite_rows *r = (struct sqlite_rows *)base;
	sqlite3_finalize(r->st);
	sqlite3_close(r->db);
	free(r);
}

int vd_tping_sqlite_open(const char *path, int64_t run, struct vd_tping_rows **out,
			 struct vd_err *err)
{
	struct sqlite_rows *r = calloc(1, sizeof(*r));
	if (!r)
		return vd_err_set(err, "%s: out of memory", path);
	r->base = (struct vd_tping_rows){.next = sqlite_next, .close = sqlite_close, .path = path};
	if (vd_sqlite_open_readonly(path, &r->db) != SQLITE_OK) {
		vd_err_set(err, "%s: %s", path, r->db ? sqlite3_errmsg(r->db) : "cannot open");
		goto fail;
	}
	if (run < 0) {
		if (sqlite3_prepare_v2(r->db, "SELECT max(run_id) FROM probes", -1, &r->st, NULL) !=
			SQLITE_OK ||
		    sqlite3_step(r->st) != SQLITE_ROW ||
		    sqlite3_column_type(r->st, 0) == SQLITE_NULL) {
			vd_err_set(err, "%s: no tping probes in this database (%s)", path,
				   sqlite3_errmsg(r->db));
			goto fail;
		}
		run = sqlite3_column_int64(r->st, 0);
		sqlite3_finalize(r->st);
		r->st = NULL;
	}
	r->run = run;
	/* the columns in the order of VD_TPING_COL_* */
	if (sqlite3_prepare_v2(r->db,
			       "SELECT seq, phase, status, user_tx_ns, kernel_tx_ns, hw_tx_ns,"
			       " kernel_rx_ns, hw_rx_ns, user_rx_ns FROM probes WHERE run_id = ?"
			       " ORDER BY idx",
			       -1, &r->st, NULL) != SQLITE_OK) {
		vd_err_set(err, "%s: %s", path, sqlite3_errmsg(r->db));
		goto fail;
	}
	sqlite3_bind_int64(r->st, 1, run);
	*out = &r->base;
	return 0;
fail:
	sqlite_close(&r->base);
	return -1;
}
