/* store_open.c — opening the store: a file is inspected before anything is written to it (a
 * refused file stays byte-identical), writers migrate inside one write transaction that
 * re-reads the version (so concurrent first openers agree), readers open read-only and never
 * migrate, and every lock is waited for with backoff up to a generous limit. */
#include "vmdelay/store/store.h"
#include "vmdelay/input/sqlite_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_impl.h"
#include "store_schema.h"

/* PRAGMA application_id of every store this build creates ("vmDL"). */
#define VD_STORE_APPLICATION_ID 0x766d444c
/* How long a writer waits for another's lock before giving up (VMDELAY_STORE_WAIT_S). */
#define VD_STORE_WAIT_DEFAULT_S 600

int vd_store_schema_version(void)
{
	return vd_store_migration_count();
}

int vd_store_fail(struct vd_store *st, struct vd_err *err, const char *what)
{
	if (st->busy_gave_up) {
		st->busy_gave_up = 0;
		return vd_err_set(err,
				  "%s: %s: still locked by another writer after %lld s of waiting"
				  " (VMDELAY_STORE_WAIT_S sets the limit)",
				  st->path, what, (long long)(st->busy_limit / VD_NS_PER_SEC));
	}
	return vd_err_set(err, "%s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
}

int vd_store_exec(struct vd_store *st, const char *sql, struct vd_err *err, const char *what)
{
	char *msg = NULL;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		if (st->busy_gave_up)
			vd_store_fail(st, err, what);
		else
			vd_err_set(err, "%s: %s: %s", st->path, what,
				   msg ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* Waits with exponential backoff (1 ms doubling to 100 ms, with jitter so that many waiting
 * writers do not retry in step) until the lock comes or busy_limit has passed. */
static int on_busy(void *arg, int count)
{
	struct vd_store *st = arg;
	vd_ns now = vd_now(CLOCK_MONOTONIC);
	if (count == 0)
		st->busy_since = now;
	if (now - st->busy_since >= st->busy_limit) {
		st->busy_gave_up = 1;
		return 0;
	}
	long us = 1000L << (count < 7 ? count : 7);
	if (us > 100000)
		us = 100000;
	/* xorshift, seeded per process: writers forked from one parent do not share a sequence */
	if (!st->jitter)
		st->jitter = (uint32_t)getpid() * 2654435761u | 1;
	st->jitter ^= st->jitter << 13;
	st->jitter ^= st->jitter >> 17;
	st->jitter ^= st->jitter << 5;
	usleep((useconds_t)(us / 2 + (long)(st->jitter % (uint32_t)(us / 2 + 1))));
	return 1;
}

static vd_ns wait_limit(void)
{
	const char *e = getenv("VMDELAY_STORE_WAIT_S");
	char *end;
	long s = e ? strtol(e, &end, 10) : 0;
	if (!e || *end || s <= 0 || s > 86400)
		s = VD_STORE_WAIT_DEFAULT_S;
	return (vd_ns)s * VD_NS_PER_SEC;
}

/* What a file holds, read with SQL on an open connection (in or out of a transaction). */
struct store_kind {
	int version; /* 0: empty database, ready for migration 1 */
	int needs_app_id;
};

static int inspect(struct vd_store *st, struct store_kind *k, struct vd_err *err)
{
	sqlite3_stmt *s;
	const char *sql = "SELECT (SELECT application_id FROM pragma_application_id),"
			  " (SELECT user_version FROM pragma_user_version),"
			  " (SELECT count(*) FROM sqlite_master),"
			  " (SELECT count(*) FROM sqlite_master WHERE type = 'table'"
			  "  AND name = 'runs')";
	int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			sqlite3_finalize(s);
	}
	if (rc != SQLITE_ROW) {
		if (sqlite3_errcode(st->db) == SQLITE_NOTADB)
			return vd_err_set(
			    err,
			    "%s: not a vmdelay store: not an SQLite database"
			    " (no 'SQLite format 3' header); the file is left as it is",
			    st->path);
		return vd_store_fail(st, err, "cannot read the database");
	}
	uint32_t app = (uint32_t)sqlite3_column_int64(s, 0);
	int version = sqlite3_column_int(s, 1);
	int objects = sqlite3_column_int(s, 2);
	int has_runs = sqlite3_column_int(s, 3);
	sqlite3_finalize(s);
	int ours = vd_store_migration_count();
	if (app != VD_STORE_APPLICATION_ID && app != 0)
		return vd_err_set(err,
				  "%s: not a vmdelay store: it is another program's SQLite file"
				  " (application_id 0x%08x, vmdelay's is 0x%08x); the file is left"
				  " as it is",
				  st->path, app, VD_STORE_APPLICATION_ID);
	/* application_id 0: a new file, or a store made before vmdelay set one. */
	if (app == 0 && !(version == 0 && objects == 0) && !(version > 0 && has_runs))
		return vd_err_set(
		    err,
		    "%s: not a vmdelay store: an SQLite database with %d schema objects"
		    " and no vmdelay 'runs' table (application_id 0, user_version %d);"
		    " the file is left as it is",
		    st->path, objects, version);
	if (version > ours)
		return vd_err_set(
		    err,
		    "%s: schema version %d is newer than this build's %d (vmdelay %s):"
		    " use a newer vmdelay; the file is left as it is",
		    st->path, version, ours, VMDELAY_VERSION);
	k->version = version;
	k->needs_app_id = app == 0;
	return 0;
}

int vd_store_is_pg(const char *path)
{
	return strncmp(path, "postgresql://", 13) == 0 || strncmp(path, "postgres://", 11) == 0;
}

struct vd_store *vd_store_new(const char *path, struct vd_err *err)
{
	struct vd_store *st = calloc(1, sizeof(*st));
	if (!st || !(st->path = strdup(path))) {
		free(st);
		vd_err_set(err, "%s: out of memory", path);
		return NULL;
	}
	st->ops = &vd_store_sqlite_ops;
	st->busy_limit = wait_limit();
	st->batch_ns = VD_NS_PER_SEC;
	return st;
}

/* A read-only connection (no file is created or written). immutable: for a WAL store on a
 * read-only medium, where the shared-memory index cannot be made. */
static int open_ro(struct vd_store *st, int immutable, struct vd_err *err)
{
	char *uri = vd_sqlite_file_uri(st->path, immutable ? "mode=ro&immutable=1" : "mode=ro");
	if (!uri)
		return vd_err_set(err, "%s: out of memory", st->path);
	int rc = sqlite3_open_v2(uri, &st->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
	free(uri);
	if (rc != SQLITE_OK)
		return vd_store_fail(st, err, "cannot open database");
	sqlite3_busy_handler(st->db, on_busy, st);
	return 0;
}

static void close_db(struct vd_store *st)
{
	sqlite3_close_v2(st->db);
	st->db = NULL;
}

int vd_store_open_readonly(const char *path, struct vd_store **out, struct vd_err *err)
{
	*out = NULL;
	struct vd_store *st = vd_store_new(path, err);
	if (!st)
		return -1;
	st->readonly = 1;
	if (vd_store_is_pg(path)) {
		if (vd_store_pg_open_readonly(st, err))
			goto fail;
		*out = st;
		return 0;
	}
	if (access(path, R_OK)) {
		vd_err_set(err, "%s: %s", path, strerror(errno));
		goto fail;
	}
	struct store_kind k;
	if (open_ro(st, 0, err) == 0 && inspect(st, &k, err) == 0) {
		st->version = k.version;
		*out = st;
		return 0;
	}
	int code = st->db ? sqlite3_errcode(st->db) : SQLITE_CANTOPEN;
	close_db(st);
	/* Only a store that could not be opened as it is is retried as immutable: a refusal or a
	 * file that is not SQLite stays refused. */
	if ((code & 0xff) != SQLITE_CANTOPEN && (code & 0xff) != SQLITE_READONLY)
		goto fail;
	if (open_ro(st, 1, err) || inspect(st, &k, err))
		goto fail;
	st->version = k.version;
	*out = st;
	return 0;
fail:
	vd_store_close(st);
	return -1;
}

/* Sets WAL mode, waiting (as the busy handler would) while another connection holds the
 * database: the switch needs it alone. */
static int set_wal(struct vd_store *st, struct vd_err *err)
{
	vd_ns until = vd_now(CLOCK_MONOTONIC) + st->busy_limit;
	for (int tries = 0;; tries++) {
		sqlite3_stmt *s;
		int rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &s, NULL);
		if (rc == SQLITE_OK) {
			rc = sqlite3_step(s);
			int wal = rc == SQLITE_ROW &&
				  strcmp((const char *)sqlite3_column_text(s, 0), "wal") == 0;
			sqlite3_finalize(s);
			if (wal)
				return 0;
		}
		if ((sqlite3_errcode(st->db) & 0xff) != SQLITE_BUSY &&
		    (sqlite3_errcode(st->db) & 0xff) != SQLITE_LOCKED && rc != SQLITE_ROW)
			return vd_store_fail(st, err, "cannot use WAL mode");
		if (vd_now(CLOCK_MONOTONIC) > until) {
			st->busy_gave_up = 1;
			return vd_store_fail(st, err, "cannot use WAL mode");
		}
		on_busy(st, tries);
	}
}

/* Applies the missing migrations in one write transaction. The version is read again inside
 * it: another process may have migrated (or created) the file since we looked. */
static int migrate(struct vd_store *st, struct vd_err *err)
{
	if (vd_store_exec(st, "BEGIN IMMEDIATE", err, "cannot start the migration"))
		return -1;
	struct store_kind k;
	if (inspect(st, &k, err))
		goto fail;
	int target = vd_store_migration_count();
	if (k.version == target) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return 0;
	}
	char sql[96];
	for (int v = k.version; v < target; v++)
		if (vd_store_exec(st, vd_store_migration(v), err, "migration"))
			goto fail;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d; PRAGMA application_id = %d;", target,
		 VD_STORE_APPLICATION_ID);
	if (vd_store_exec(st, sql, err, "migration") ||
	    vd_store_exec(st, "COMMIT", err, "cannot commit the migration"))
		goto fail;
	return 0;
fail:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int vd_store_open(const char *path, struct vd_store **out, struct vd_err *err)
{
	*out = NULL;
	struct vd_store *st = vd_store_new(path, err);
	if (!st)
		return -1;
	if (vd_store_is_pg(path)) {
		if (vd_store_pg_open(st, err))
			goto fail;
		*out = st;
		return 0;
	}
	struct stat sb;
	struct store_kind k;
	/* An existing file is looked at through a read-only connection first: nothing (WAL mode
	 * included) is written to a file that is then refused. */
	if (stat(path, &sb) == 0 && sb.st_size > 0) {
		if (open_ro(st, 0, err) || inspect(st, &k, err))
			goto fail;
		close_db(st);
	}
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		vd_store_fail(st, err, "cannot open database for writing");
		goto fail;
	}
	sqlite3_busy_handler(st->db, on_busy, st);
	if (vd_store_exec(st, "PRAGMA foreign_keys=ON", err, "cannot use database") ||
	    set_wal(st, err) ||
	    /* WAL + NORMAL: a commit survives the process being killed, without an fsync each. */
	    vd_store_exec(st, "PRAGMA synchronous=NORMAL", err, "cannot use database") ||
	    migrate(st, err))
		goto fail;
	st->version = vd_store_migration_count();
	*out = st;
	return 0;
fail:
	vd_store_close(st);
	return -1;
}

void vd_store_close(struct vd_store *st)
{
	if (!st)
		return;
	if (st->in_run) {
		/* Closed without finishing (an error on the writer's side): what was written is
		 * kept, the run marked failed. */
		struct vd_err ignored;
		vd_store_finish_run(st, st->run_id, VD_NS_NONE, VD_RUN_FAILED, &ignored);
	}
	st->ops->close(st);
	free(st->path);
	free(st);
}

int vd_store_path_is_pg(const char *path)
{
	return vd_store_is_pg(path);
}

struct sqlite3 *vd_store_db(struct vd_store *st)
{
	return st->db;
}
