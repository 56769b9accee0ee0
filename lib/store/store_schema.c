/* store_schema.c — the SQLite schema as a list of migrations (append-only: never edit one that
 * has shipped; add the next). PRAGMA user_version holds the number applied. docs/schema.md. */
#include "store_schema.h"

#include <stddef.h>

static const char *const migrations[] = {
    /* 1: testbeds, runs, run metadata, probes, vantage points, results, transfers, events. */
    "CREATE TABLE testbeds ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  created_ns INTEGER);"
    "CREATE TABLE runs ("
    "  id INTEGER PRIMARY KEY,"
    "  testbed_id INTEGER NOT NULL REFERENCES testbeds(id),"
    "  tool TEXT NOT NULL,"
    "  tool_version TEXT NOT NULL,"
    "  host TEXT,"
    "  kernel_release TEXT,"
    "  command_line TEXT,"
    "  label TEXT,"
    "  scenario TEXT,"
    "  params TEXT,"
    "  start_ns INTEGER,"
    "  end_ns INTEGER,"
    "  complete INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE run_meta ("
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  key TEXT NOT NULL,"
    "  value TEXT,"
    "  PRIMARY KEY (run_id, key));"
    "CREATE TABLE probes ("
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  idx INTEGER NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  phase TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  user_tx_ns INTEGER, sched_tx_ns INTEGER, sched_tx_last_ns INTEGER, kernel_tx_ns INTEGER,"
    "  hw_tx_ns INTEGER, kernel_rx_ns INTEGER, hw_rx_ns INTEGER, user_rx_ns INTEGER,"
    "  size INTEGER, ttl INTEGER, icmp_type INTEGER, icmp_code INTEGER, cpu INTEGER,"
    "  timer_late_ns INTEGER,"
    "  PRIMARY KEY (run_id, idx));"
    "CREATE TABLE vantage_points ("
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  clock TEXT,"
    "  path TEXT,"
    "  format TEXT,"
    "  packets INTEGER,"
    "  matched INTEGER,"
    "  unmatched INTEGER,"
    "  PRIMARY KEY (run_id, name));"
    "CREATE TABLE results ("
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  vantage TEXT NOT NULL DEFAULT '',"
    "  metric TEXT NOT NULL,"
    "  phase TEXT NOT NULL DEFAULT '',"
    "  direction TEXT NOT NULL DEFAULT '',"
    "  stat TEXT NOT NULL,"
    "  value REAL);"
    "CREATE INDEX results_by_metric ON results(metric, stat);"
    "CREATE TABLE transfers ("
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  idx INTEGER NOT NULL,"
    "  bytes INTEGER NOT NULL,"
    "  start_ns INTEGER, end_ns INTEGER,"
    "  throughput_bps REAL,"
    "  status TEXT NOT NULL,"
    "  PRIMARY KEY (run_id, idx));"
    "CREATE TABLE events ("
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  vantage TEXT NOT NULL,"
    "  idx INTEGER NOT NULL,"
    "  tsc INTEGER, real_ns INTEGER, mono_ns INTEGER, cpu INTEGER,"
    "  layer TEXT, dir TEXT, proto INTEGER, ifindex INTEGER,"
    "  src TEXT, dst TEXT, sport INTEGER, dport INTEGER,"
    "  seq INTEGER, ack INTEGER, flags INTEGER, win INTEGER, payload_len INTEGER,"
    "  icmp_type INTEGER, icmp_code INTEGER, icmp_id INTEGER, icmp_seq INTEGER,"
    "  skb_len INTEGER, gso_segs INTEGER,"
    "  PRIMARY KEY (run_id, vantage, idx));",
    /* 2: runs are written as they go: their status (docs/schema.md). Runs stored before were
     * written in one transaction, so they are complete. */
    "ALTER TABLE runs ADD COLUMN status TEXT NOT NULL DEFAULT 'running';"
    "UPDATE runs SET status = CASE WHEN complete THEN 'complete' ELSE 'failed' END;",
    /* 3: each result's index within its run (the order written), so both backends list a
     * run's results in that order; rows stored before are numbered in rowid order. */
    "ALTER TABLE results ADD COLUMN idx INTEGER NOT NULL DEFAULT 0;"
    "UPDATE results SET idx = w.n FROM (SELECT rowid AS rid, row_number() OVER"
    "  (PARTITION BY run_id ORDER BY rowid) - 1 AS n FROM results) AS w"
    "  WHERE results.rowid = w.rid;"
    "CREATE UNIQUE INDEX results_by_run ON results(run_id, idx);",
};

/* The same migrations for PostgreSQL, one for one: PostgreSQL's types (BIGSERIAL ids, BIGINT
 * times, DOUBLE PRECISION values), the same tables, columns and keys. */
static const char *const pg_migrations[] = {
    /* 1 */
    "CREATE TABLE testbeds ("
    "  id BIGSERIAL PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  created_ns BIGINT);"
    "CREATE TABLE runs ("
    "  id BIGSERIAL PRIMARY KEY,"
    "  testbed_id BIGINT NOT NULL REFERENCES testbeds(id),"
    "  tool TEXT NOT NULL,"
    "  tool_version TEXT NOT NULL,"
    "  host TEXT,"
    "  kernel_release TEXT,"
    "  command_line TEXT,"
    "  label TEXT,"
    "  scenario TEXT,"
    "  params TEXT,"
    "  start_ns BIGINT,"
    "  end_ns BIGINT,"
    "  complete INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE run_meta ("
    "  run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  key TEXT NOT NULL,"
    "  value TEXT,"
    "  PRIMARY KEY (run_id, key));"
    "CREATE TABLE probes ("
    "  run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  idx BIGINT NOT NULL,"
    "  seq BIGINT NOT NULL,"
    "  phase TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  user_tx_ns BIGINT, sched_tx_ns BIGINT, sched_tx_last_ns BIGINT, kernel_tx_ns BIGINT,"
    "  hw_tx_ns BIGINT, kernel_rx_ns BIGINT, hw_rx_ns BIGINT, user_rx_ns BIGINT,"
    "  size INTEGER, ttl INTEGER, icmp_type INTEGER, icmp_code INTEGER, cpu INTEGER,"
    "  timer_late_ns BIGINT,"
    "  PRIMARY KEY (run_id, idx));"
    "CREATE TABLE vantage_points ("
    "  run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  clock TEXT,"
    "  path TEXT,"
    "  format TEXT,"
    "  packets BIGINT,"
    "  matched BIGINT,"
    "  unmatched BIGINT,"
    "  PRIMARY KEY (run_id, name));"
    "CREATE TABLE results ("
    "  run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  vantage TEXT NOT NULL DEFAULT '',"
    "  metric TEXT NOT NULL,"
    "  phase TEXT NOT NULL DEFAULT '',"
    "  direction TEXT NOT NULL DEFAULT '',"
    "  stat TEXT NOT NULL,"
    "  value DOUBLE PRECISION);"
    "CREATE INDEX results_by_metric ON results(metric, stat);"
    "CREATE TABLE transfers ("
    "  run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  idx BIGINT NOT NULL,"
    "  bytes BIGINT NOT NULL,"
    "  start_ns BIGINT, end_ns BIGINT,"
    "  throughput_bps DOUBLE PRECISION,"
    "  status TEXT NOT NULL,"
    "  PRIMARY KEY (run_id, idx));"
    "CREATE TABLE events ("
    "  run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  vantage TEXT NOT NULL,"
    "  idx BIGINT NOT NULL,"
    "  tsc BIGINT, real_ns BIGINT, mono_ns BIGINT, cpu INTEGER,"
    "  layer TEXT, dir TEXT, proto INTEGER, ifindex INTEGER,"
    "  src TEXT, dst TEXT, sport INTEGER, dport INTEGER,"
    "  seq BIGINT, ack BIGINT, flags INTEGER, win INTEGER, payload_len INTEGER,"
    "  icmp_type INTEGER, icmp_code INTEGER, icmp_id INTEGER, icmp_seq INTEGER,"
    "  skb_len INTEGER, gso_segs INTEGER,"
    "  PRIMARY KEY (run_id, vantage, idx));",
    /* 2 */
    "ALTER TABLE runs ADD COLUMN status TEXT NOT NULL DEFAULT 'running';"
    "UPDATE runs SET status = CASE WHEN complete = 1 THEN 'complete' ELSE 'failed' END;",
    /* 3: rows stored before are numbered in ctid order, the best order they have */
    "ALTER TABLE results ADD COLUMN idx BIGINT NOT NULL DEFAULT 0;"
    "UPDATE results SET idx = w.n FROM (SELECT ctid AS c, row_number() OVER"
    "  (PARTITION BY run_id ORDER BY ctid) - 1 AS n FROM results) AS w"
    "  WHERE results.ctid = w.c;"
    "CREATE UNIQUE INDEX results_by_run ON results(run_id, idx);",
};

_Static_assert(sizeof(pg_migrations) == sizeof(migrations),
	       "every migration has its PostgreSQL form");

const char *vd_store_pg_migration(int i)
{
	return (i >= 0 && i < vd_store_migration_count()) ? pg_migrations[i] : NULL;
}

int vd_store_migration_count(void)
{
	return (int)(sizeof(migrations) / sizeof(migrations[0]));
}

const char *vd_store_migration(int i)
{
	return (i >= 0 && i < vd_store_migration_count()) ? migrations[i] : NULL;
}
