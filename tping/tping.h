/* tping.h — the whole tping run, from options to summary and database (main.c calls this). */
#ifndef TPING_TPING_H
#define TPING_TPING_H

#include "options.h"
#include "report.h"
#include "run.h"
#include "sock.h"
#include "vmdelay/store/store.h"

/* Run metadata (run_meta rows): flags asked and granted, clocksource, steal time, counters. */
#define TPING_META_MAX 64
struct tping_meta {
	size_t n;
	char key[TPING_META_MAX][32];
	char val[TPING_META_MAX][256];
};
void tping_meta_add(struct tping_meta *m, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Stores the runs row (status 'running') before the probes start; start_ns: CLOCK_REALTIME. */
int tping_store_begin(struct vd_store *st, const struct tping_opts *o, const struct tping_sock *s,
		      vd_ns start_ns, int64_t *run_id, struct vd_err *err);
/* The run's status: complete, interrupted when a signal stopped it, failed on a socket error. */
enum vd_run_status tping_run_status(const struct tping_run *r, int run_rc);
/* Stores the run's metadata, per-layer results and status. The records are stored as they are
 * emitted (tping_report). */
int tping_store_finish(struct vd_store *st, int64_t run_id, const struct tping_opts *o,
		       const struct tping_run *r, const struct tping_report *rp,
		       const struct tping_meta *m, enum vd_run_status status, struct vd_err *err);
/* The whole run at once (begin, every record in the order printed, finish): for replays. */
int tping_store_run(struct vd_store *st, const struct tping_opts *o, const struct tping_sock *s,
		    const struct tping_run *r, const struct tping_report *rp,
		    const struct tping_meta *m, struct vd_err *err);

/* Returns the exit code: 0 ok, 1 runtime error (no reply, socket, database), 2 usage. */
int tping_main(int argc, char **argv);

#endif
