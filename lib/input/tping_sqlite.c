/* tping_sqlite.c — tping's probes from a SQLite store (tping_sqlite.h). */
#include "tping_sqlite.h"

#include <inttypes.h>
#include <sqlite3.h>

int vd_tping_sqlite_read(const char *path, int64_t run, vd_tping_row_fn row, void *ctx,
			 struct vd_err *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	uint64_t rows = 0;
	int rc = -1;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		vd_err_set(err, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
		goto out;
	}
	if (run < 0) {
		if (sqlite3_prepare_v2(db, "SELECT max(run_id) FROM probes", -1, &st, NULL) !=
			SQLITE_OK ||
		    sqlite3_step(st) != SQLITE_ROW || sqlite3_column_type(st, 0) == SQLITE_NULL) {
			vd_err_set(err, "%s: no tping probes in this database (%s)", path,
				   sqlite3_errmsg(db));
			goto out;
		}
		run = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		st = NULL;
	}
	/* the columns in the order of enum VD_TPING_COL_* */
	if (sqlite3_prepare_v2(db,
			       "SELECT seq, phase, status, user_tx_ns, kernel_tx_ns, hw_tx_ns,"
			       " kernel_rx_ns, hw_rx_ns, user_rx_ns FROM probes WHERE run_id = ?"
			       " ORDER BY idx",
			       -1, &st, NULL) != SQLITE_OK) {
		vd_err_set(err, "%s: %s", path, sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_bind_int64(st, 1, run);
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct vd_probe p;
		vd_probe_init(&p, 0);
		for (int c = 0; c < VD_TPING_COL__COUNT; c++) {
			const unsigned char *t = sqlite3_column_text(st, c);
			if (vd_tping_cell_set(&p, c, (const char *)t) < 0) {
				vd_err_set(err, "%s: run %" PRId64 ": bad %s '%s'", path, run,
					   vd_tping_col_names[c], t ? (const char *)t : "");
				goto out;
			}
		}
		rows++;
		if (row(ctx, &p) < 0) {
			vd_err_set(err, "%s: out of memory", path);
			goto out;
		}
	}
	if (r != SQLITE_DONE) {
		vd_err_set(err, "%s: %s", path, sqlite3_errmsg(db));
		goto out;
	}
	if (!rows) {
		vd_err_set(err, "%s: run %" PRId64 " has no probes", path, run);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}
