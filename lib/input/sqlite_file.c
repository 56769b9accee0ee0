/* sqlite_file.c — read-only SQLite connections that work on read-only media too
 * (sqlite.org/uri.html: mode=ro, immutable=1). */
#include "vmdelay/input/sqlite_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *vd_sqlite_file_uri(const char *path, const char *query)
{
	size_t n = strlen(path);
	char *u = malloc(5 + 3 * n + 1 + strlen(query) + 1);
	if (!u)
		return NULL;
	char *p = u + sprintf(u, "file:");
	for (const char *c = path; *c; c++) {
		if (*c == '%' || *c == '?' || *c == '#')
			p += sprintf(p, "%%%02X", (unsigned char)*c);
		else
			*p++ = *c;
	}
	sprintf(p, "?%s", query);
	return u;
}

static int open_uri(const char *path, const char *query, sqlite3 **db)
{
	char *uri = vd_sqlite_file_uri(path, query);
	if (!uri) {
		*db = NULL;
		return SQLITE_NOMEM;
	}
	int rc = sqlite3_open_v2(uri, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
	free(uri);
	if (rc == SQLITE_OK)
		/* The schema is read lazily: read it now, so a WAL index that cannot be made fails
		 * here and not at the caller's first query. */
		rc = sqlite3_exec(*db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
	return rc;
}

int vd_sqlite_open_readonly(const char *path, sqlite3 **db)
{
	int rc = open_uri(path, "mode=ro", db);
	if ((rc & 0xff) != SQLITE_CANTOPEN && (rc & 0xff) != SQLITE_READONLY)
		return rc;
	sqlite3_close_v2(*db);
	return open_uri(path, "mode=ro&immutable=1", db);
}
