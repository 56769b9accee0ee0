/* storeutil.h — reading a store file back with the sqlite3 API alone, as a user's sqlite3
 * would, for the store's unit tests. Header only. */
#ifndef VMDELAY_TEST_STOREUTIL_H
#define VMDELAY_TEST_STOREUTIL_H

#include <sqlite3.h>
#include <stdint.h>

/* The first column of the first row of sql on a read-only connection to path. */
static int64_t storeutil_query(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

#endif
