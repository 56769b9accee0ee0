/* sqlite_file.h — opening an SQLite file for reading only, wherever it lies: a store on a
 * read-only medium or in a directory the reader cannot write, in WAL mode, is still read. */
#ifndef VMDELAY_INPUT_SQLITE_FILE_H
#define VMDELAY_INPUT_SQLITE_FILE_H

#include <sqlite3.h>

/* "file:PATH?QUERY" with the characters a URI path cannot hold escaped; malloc'd, NULL when
 * out of memory. */
char *vd_sqlite_file_uri(const char *path, const char *query);

/* Opens PATH read-only (never creating or writing anything) and reads its schema once. A WAL
 * file whose shared-memory index cannot be made (read-only directory or medium) is opened again
 * as immutable. Returns an SQLite result code; *db is set (possibly to a handle that carries
 * the error message) in every case, and the caller closes it. */
int vd_sqlite_open_readonly(const char *path, sqlite3 **db);

#endif
