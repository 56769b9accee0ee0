/* store_bench.c — the store ingest benchmark behind tests/bench/store.sh.
 *   store_bench sqlite DB N   baseline: N probe rows through one prepared INSERT in one
 *                             transaction with the sqlite3 API alone
 *   store_bench vd DB N       the same N rows through vd_store_add_probe (a run begun, rows
 *                             committed in ~1 s batches, the run finished)
 * A run prints "rows seconds rows_per_second cpu_seconds". Built by store.sh against
 * build/release/libvmdelay.a. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "vmdelay/store/store.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* User + system CPU seconds of this process: on a shared machine, what the rows cost. */
static double cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/* Probe i of a synthetic 1 ms run: every stamp present, one in 100 lost. */
static void probe(struct vd_probe *p, long i)
{
	vd_probe_init(p, (uint32_t)(i + 1));
	vd_ns t = 1700000000000000000 + (vd_ns)i * 1000000;
	p->phase = VD_PHASE_LOAD;
	p->user_tx = t;
	p->sched_tx = t + 3000;
	p->sched_tx_last = t + 4000;
	p->kernel_tx = t + 6000;
	if (i % 100 == 99) {
		p->status = VD_PROBE_LOST;
		return;
	}
	p->kernel_rx = t + 50000;
	p->user_rx = t + 62000;
	p->size = 64;
	p->ttl = 64;
	p->cpu = 1;
	p->timer_late = 2000;
}

static int bench_vd(const char *db, long n)
{
	struct vd_err err;
	struct vd_store *st;
	struct vd_run_info info = {.tool = "bench"};
	int64_t run;
	if (vd_store_open(db, &st, &err) || vd_store_begin_run(st, &info, &run, &err)) {
		fprintf(stderr, "store_bench: %s\n", err.msg);
		return 1;
	}
	for (long i = 0; i < n; i++) {
		struct vd_probe p;
		probe(&p, i);
		if (vd_store_add_probe(st, run, &p, &err)) {
			fprintf(stderr, "store_bench: %s\n", err.msg);
			return 1;
		}
	}
	if (vd_store_end_run(st, run, 1, &err)) {
		fprintf(stderr, "store_bench: %s\n", err.msg);
		return 1;
	}
	vd_store_close(st);
	return 0;
}

static void bind_ns(sqlite3_stmt *s, int i, vd_ns t)
{
	if (vd_ns_valid(t))
		sqlite3_bind_int64(s, i, t);
	else
		sqlite3_bind_null(s, i);
}

static int bench_sqlite(const char *db, long n)
{
	sqlite3 *h;
	sqlite3_stmt *s;
	if (sqlite3_open(db, &h) != SQLITE_OK ||
	    sqlite3_exec(
		h,
		"PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
		"CREATE TABLE probes (run_id INTEGER, idx INTEGER, seq INTEGER, phase TEXT,"
		" status TEXT, user_tx_ns INTEGER, sched_tx_ns INTEGER, sched_tx_last_ns"
		" INTEGER, kernel_tx_ns INTEGER, hw_tx_ns INTEGER, kernel_rx_ns INTEGER,"
		" hw_rx_ns INTEGER, user_rx_ns INTEGER, size INTEGER, ttl INTEGER,"
		" icmp_type INTEGER, icmp_code INTEGER, cpu INTEGER, timer_late_ns INTEGER,"
		" PRIMARY KEY (run_id, idx)); BEGIN",
		NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(h,
			       "INSERT INTO probes VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			       -1, &s, NULL) != SQLITE_OK) {
		fprintf(stderr, "store_bench: %s\n", sqlite3_errmsg(h));
		return 1;
	}
	for (long i = 0; i < n; i++) {
		struct vd_probe p;
		probe(&p, i);
		int k = 1;
		sqlite3_bind_int64(s, k++, 1);
		sqlite3_bind_int64(s, k++, i);
		sqlite3_bind_int64(s, k++, p.seq);
		sqlite3_bind_text(s, k++, vd_phase_name(p.phase), -1, SQLITE_STATIC);
		sqlite3_bind_text(s, k++, vd_probe_status_name(p.status), -1, SQLITE_STATIC);
		const vd_ns t[] = {p.user_tx, p.sched_tx,  p.sched_tx_last, p.kernel_tx,
				   p.hw_tx,   p.kernel_rx, p.hw_rx,	    p.user_rx};
		for (int j = 0; j < 8; j++)
			bind_ns(s, k++, t[j]);
		const int32_t v[] = {p.size, p.ttl, p.icmp_type, p.icmp_code, p.cpu};
		for (int j = 0; j < 5; j++)
			v[j] >= 0 ? sqlite3_bind_int(s, k++, v[j]) : sqlite3_bind_null(s, k++);
		bind_ns(s, k++, p.timer_late);
		if (sqlite3_step(s) != SQLITE_DONE) {
			fprintf(stderr, "store_bench: %s\n", sqlite3_errmsg(h));
			return 1;
		}
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
	if (sqlite3_exec(h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "store_bench: %s\n", sqlite3_errmsg(h));
		return 1;
	}
	sqlite3_close(h);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: store_bench sqlite|vd DB N\n");
		return 2;
	}
	long n = atol(argv[3]);
	double t0 = now(), c0 = cpu();
	int rc = strcmp(argv[1], "vd") == 0 ? bench_vd(argv[2], n) : bench_sqlite(argv[2], n);
	double dt = now() - t0, dc = cpu() - c0;
	if (rc)
		return 1;
	printf("%ld %.3f %.0f %.3f\n", n, dt, (double)n / dt, dc);
	return 0;
}
