/* store_schema.h — internal to store.c: the migration list. */
#ifndef VMDELAY_STORE_SCHEMA_H
#define VMDELAY_STORE_SCHEMA_H

int vd_store_migration_count(void);
/* The migration that numbered results within their run (results.idx): stores before it are
 * read in the order rows were stored (store_impl.h, insert_order). */
#define VD_STORE_RESULTS_IDX 3
/* SQL that takes user_version from i to i + 1, or NULL. */
const char *vd_store_migration(int i);
/* The same migration for PostgreSQL. */
const char *vd_store_pg_migration(int i);

#endif
