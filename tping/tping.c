/* tping.c — one tping run: socket, privilege drop, outputs, the prober loop, summary, run
 * metadata and the SQLite store (Whiteaker et al. section 3). */
#define _GNU_SOURCE
#include "tping.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "load.h"
#include "options.h"
#include "report.h"
#include "run.h"
#include "sock.h"
#include "vmdelay/core/hostinfo.h"
#include "vmdelay/out/afile.h"
#include "vmdelay/out/json.h"
#include "vmdelay/store/store.h"
#include "vmdelay/net/tstamp.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: poll and sleeps return EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

void tping_meta_add(struct tping_meta *m, const char *key, const char *fmt, ...)
{
	if (m->n >= TPING_META_MAX)
		return;
	snprintf(m->key[m->n], sizeof(m->key[0]), "%s", key);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m->val[m->n], sizeof(m->val[0]), fmt, ap);
	va_end(ap);
	m->n++;
}

static void collect_meta(struct tping_meta *m, const struct tping_opts *o,
			 const struct tping_sock *s, const struct tping_run *r,
			 const struct tping_report *rp, vd_ns steal0, vd_ns steal1,
			 const char *clocksource, vd_ns cpu_ns)
{
	char b[256];
	const struct tping_counts *c = &r->c;
	tping_meta_add(m, "target", "%s", o->target);
	tping_meta_add(m, "target_addr", "%s", s->dst_str);
	tping_meta_add(m, "family", "%s", s->family == AF_INET6 ? "ipv6" : "ipv4");
	tping_meta_add(m, "socket", "%s", s->raw ? "raw" : "dgram");
	tping_meta_add(m, "icmp_id", "%u", s->id);
	tping_meta_add(m, "interface", "%s", s->ifname);
	tping_meta_add(m, "tstamp_asked", "%s", vd_tstamp_flags_str(s->ts_asked, b, sizeof(b)));
	tping_meta_add(m, "tstamp_granted", "%s", vd_tstamp_flags_str(s->ts_granted, b, sizeof(b)));
	tping_meta_add(m, "tstamp_asked_hex", "0x%x", s->ts_asked);
	tping_meta_add(m, "tstamp_granted_hex", "0x%x", s->ts_granted);
	tping_meta_add(m, "if_tstamp_caps", "%s", vd_tstamp_flags_str(s->if_caps, b, sizeof(b)));
	tping_meta_add(m, "phc_index", "%d", s->phc_index);
	tping_meta_add(m, "hw_tstamp", "%s", s->hw_note);
	tping_meta_add(m, "rx_tstamp_ready", "%d", s->rx_ready);
	tping_meta_add(m, "clocksource", "%s", clocksource);
	if (vd_ns_valid(steal0) && vd_ns_valid(steal1)) {
		tping_meta_add(m, "steal_before_ns", "%" PRId64, steal0);
		tping_meta_add(m, "steal_after_ns", "%" PRId64, steal1);
		tping_meta_add(m, "steal_ns", "%" PRId64, steal1 - steal0);
	}
	tping_meta_add(m, "sent", "%" PRIu64, c->sent + c->send_errors);
	tping_meta_add(m, "received", "%" PRIu64, c->received);
	tping_meta_add(m, "lost", "%" PRIu64, c->lost);
	tping_meta_add(m, "duplicates", "%" PRIu64, c->duplicates);
	tping_meta_add(m, "reordered", "%" PRIu64, c->reordered);
	tping_meta_add(m, "late", "%" PRIu64, c->late);
	tping_meta_add(m, "icmp_errors", "%" PRIu64, c->icmp_errors);
	tping_meta_add(m, "send_errors", "%" PRIu64, c->send_errors);
	tping_meta_add(m, "missing_sched", "%" PRIu64, c->missing_sched);
	tping_meta_add(m, "missing_snd", "%" PRIu64, c->missing_snd);
	tping_meta_add(m, "missing_hw_tx", "%" PRIu64, c->missing_hw_tx);
	tping_meta_add(m, "missing_rx", "%" PRIu64, c->missing_rx);
	tping_meta_add(m, "tx_after_window", "%" PRIu64, c->tx_after_window);
	tping_meta_add(m, "tx_unmatched", "%" PRIu64, c->tx_unmatched);
	tping_meta_add(m, "ctrunc", "%" PRIu64, c->ctrunc);
	tping_meta_add(m, "interrupted", "%d", r->interrupted);
	double ju = tping_report_layer_jitter(rp, TPING_LAYER_USER);
	double jk = tping_report_layer_jitter(rp, TPING_LAYER_KERNEL);
	if (!isnan(ju))
		tping_meta_add(m, "jitter_user_ns", "%.0f", ju);
	if (!isnan(jk))
		tping_meta_add(m, "jitter_kernel_ns", "%.0f", jk);
	struct vd_summary late;
	tping_report_lateness(rp, &late);
	if (late.n) {
		tping_meta_add(m, "timer_late_median_ns", "%" PRId64, late.median);
		tping_meta_add(m, "timer_late_p99_ns", "%" PRId64, late.p99);
		tping_meta_add(m, "timer_late_max_ns", "%" PRId64, late.max);
	}
	uint64_t sent = c->sent + c->send_errors;
	if (sent)
		tping_meta_add(m, "cpu_ns_per_probe", "%.0f", (double)cpu_ns / (double)sent);
}

static vd_ns cpu_time(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return ((vd_ns)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * VD_NS_PER_SEC +
	       ((vd_ns)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

static char *params_json(const struct tping_opts *o, const struct tping_sock *s)
{
	struct vd_json_mem m;
	if (vd_json_mem_begin(&m, VD_JSON_COMPACT))
		return NULL;
	struct vd_json *j = &m.j;
	vd_json_kv_str(j, "target", o->target);
	vd_json_kv_str(j, "family", s->family == AF_INET6 ? "ipv6" : "ipv4");
	vd_json_kv_int(j, "count", o->count);
	vd_json_kv_int(j, "interval_ns", o->interval);
	vd_json_kv_uint(j, "size", o->size);
	vd_json_kv_int(j, "timeout_ns", o->timeout);
	vd_json_kv_int(j, "deadline_ns", o->deadline);
	vd_json_kv_int(j, "rest", o->rest);
	vd_json_kv_int(j, "tx_wait_ns", o->tx_wait);
	vd_json_kv_bool(j, "timestamping", !o->no_tstamp);
	vd_json_kv_str(j, "interface", o->iface); /* NULL: null */
	vd_json_kv_str(j, "load", o->load);
	return vd_json_mem_end(&m);
}

int tping_store_begin(struct vd_store *st, const struct tping_opts *o, const struct tping_sock *s,
		      vd_ns start_ns, int64_t *run_id, struct vd_err *err)
{
	char *params = params_json(o, s);
	struct vd_run_info info = {.tool = "tping",
				   .testbed = o->testbed,
				   .label = o->label,
				   .scenario = o->scenario,
				   .meta = &o->meta,
				   .command_line = o->command_line,
				   .params_json = params,
				   .start_ns = start_ns};
	int rc = vd_store_begin_run(st, &info, run_id, err);
	free(params);
	return rc;
}

enum vd_run_status tping_run_status(const struct tping_run *r, int run_rc)
{
	return run_rc ? VD_RUN_FAILED : r->interrupted ? VD_RUN_INTERRUPTED : VD_RUN_COMPLETE;
}

int tping_store_finish(struct vd_store *st, int64_t run_id, const struct tping_opts *o,
		       const struct tping_run *r, const struct tping_report *rp,
		       const struct tping_meta *m, enum vd_run_status status, struct vd_err *err)
{
	for (size_t i = 0; i < m->n; i++)
		if (vd_store_add_meta(st, run_id, m->key[i], m->val[i], err))
			return -1;
	/* Per-layer summaries as results, for cross-run comparison without re-reading probes. */
	static const struct {
		const char *name;
		size_t off;
	} stats[] = {{"min_ns", offsetof(struct vd_summary, min)},
		     {"median_ns", offsetof(struct vd_summary, median)},
		     {"p99_ns", offsetof(struct vd_summary, p99)},
		     {"max_ns", offsetof(struct vd_summary, max)}};
	for (int ph = 0; ph <= VD_PHASE__COUNT; ph++) {
		if (ph < VD_PHASE__COUNT && o->rest == 0)
			continue;
		for (int l = 0; l < TPING_LAYER__COUNT; l++) {
			struct vd_summary sm;
			tping_report_layer_summary(rp, (enum vd_phase)ph, (enum tping_layer)l, &sm);
			if (!sm.n)
				continue;
			const char *phn =
			    ph == VD_PHASE__COUNT ? "" : vd_phase_name((enum vd_phase)ph);
			const char *ln = tping_layer_name((enum tping_layer)l);
			for (size_t k = 0; k < sizeof(stats) / sizeof(stats[0]); k++) {
				vd_ns v = *(const vd_ns *)((const char *)&sm + stats[k].off);
				if (vd_store_add_result(st, run_id, "tping", ln, phn, "rtt",
							stats[k].name, (double)v, err))
					return -1;
			}
			if (vd_store_add_result(st, run_id, "tping", ln, phn, "rtt", "mean_ns",
						sm.mean, err) ||
			    vd_store_add_result(st, run_id, "tping", ln, phn, "rtt", "sd_ns", sm.sd,
						err) ||
			    vd_store_add_result(st, run_id, "tping", ln, phn, "rtt", "n",
						(double)sm.n, err))
				return -1;
		}
	}
	return vd_store_finish_run(st, run_id, r->end_real, status, err);
}

int tping_store_run(struct vd_store *st, const struct tping_opts *o, const struct tping_sock *s,
		    const struct tping_run *r, const struct tping_report *rp,
		    const struct tping_meta *m, struct vd_err *err)
{
	int64_t run_id;
	if (tping_store_begin(st, o, s, r->start_real, &run_id, err))
		return -1;
	for (size_t i = 0; i < rp->n; i++)
		if (vd_store_add_probe(st, run_id, &rp->recs[i], err))
			goto fail;
	if (tping_store_finish(st, run_id, o, r, rp, m, tping_run_status(r, 0), err))
		goto fail;
	return 0;
fail:
	vd_store_abort_run(st);
	return -1;
}

int tping_main(int argc, char **argv)
{
	struct tping_opts o;
	struct vd_err err;
	struct vd_cli cli;
	/* The real uid: a setuid-root install gives every user euid 0. */
	if (tping_options_parse(&cli, argc, argv, getuid() == 0, &o) == TPING_OPTS_EXIT) {
		tping_options_free(&o);
		return cli.status;
	}
	int exit_code = VD_EXIT_OK;
	struct tping_sock s;
	struct tping_load load = {0};
	struct tping_run r;
	struct tping_report rp = {0};
	struct vd_store *st = NULL;
	FILE *rows_f = NULL;
	struct vd_afile rows_af = {0};
	int have_run = 0;
	memset(&r, 0, sizeof(r));
	install_signals();
	if (tping_sock_open(&o, &s, &err)) {
		fprintf(stderr, "tping: %s\n", err.msg);
		tping_options_free(&o);
		return VD_EXIT_RUNTIME;
	}
	if (o.load && tping_load_prepare(o.load, &load, &err))
		goto runtime_error;
	if (tping_drop_privileges(&err))
		goto runtime_error;
	if (o.machine) {
		rows_f = stdout;
		if (o.out_path) {
			if (vd_afile_open(&rows_af, o.out_path, &err)) {
				vd_err_prefix(&err, "option '-o'");
				goto runtime_error;
			}
			rows_f = rows_af.f;
		}
		rp.rows = vd_out_create(rows_f, o.out_mode);
		if (!rp.rows) {
			vd_err_set(&err, "out of memory");
			goto runtime_error;
		}
	}
	/* An unusable database is reported now, the run still happens and is printed. */
	if (o.db && vd_store_open(o.db, &st, &err)) {
		fprintf(stderr, "tping: --db: %s (the probes are printed but not stored)\n",
			err.msg);
		exit_code = VD_EXIT_RUNTIME;
	}
	FILE *summary_f = (o.machine && !o.out_path) ? stderr : stdout;
	rp.o = &o;
	rp.s = &s;
	rp.lines = (o.quiet || (o.machine && !o.out_path)) ? NULL : stdout;
	if (tping_run_init(&r, &o, &s, &err))
		goto runtime_error;
	have_run = 1;
	r.load = o.load ? &load : NULL;
	r.emit = tping_report_emit;
	r.warn = tping_report_warn;
	r.ctx = &rp;
	r.stop = &stop_flag;
	char ts_names[256], clocksource[64];
	vd_host_clocksource(clocksource, sizeof(clocksource));
	fprintf(summary_f, "TPING %s (%s) %zu data bytes, %zu probes every %.6g s, %s socket, %s\n",
		o.target, s.dst_str, o.size, r.total, (double)o.interval / 1e9,
		s.raw ? "raw" : "datagram",
		s.tstamp ? vd_tstamp_flags_str(s.ts_granted, ts_names, sizeof(ts_names))
			 : "no timestamping");
	fflush(summary_f);
	vd_ns steal0 = vd_host_steal_ns(NULL);
	vd_ns cpu0 = cpu_time();
	if (st && tping_store_begin(st, &o, &s, vd_now(CLOCK_REALTIME), &rp.run_id, &err)) {
		fprintf(stderr, "tping: --db: %s (the probes are printed but not stored)\n",
			err.msg);
		exit_code = VD_EXIT_RUNTIME;
		vd_store_close(st);
		st = NULL;
	}
	rp.st = st;
	int run_rc = tping_run_exec(&r, &err);
	vd_ns cpu_ns = cpu_time() - cpu0;
	vd_ns steal1 = vd_host_steal_ns(NULL);
	if (run_rc) {
		fprintf(stderr, "tping: %s\n", err.msg);
		exit_code = VD_EXIT_RUNTIME;
	}
	/* A write error on stdout is reported once, by vd_cli_exit in main; -o names its file and
	 * the reason, and the file appears under its name once complete (interrupted included). */
	int rows_err = rp.rows && vd_out_destroy(rp.rows);
	if (rows_err && !ferror(rows_f))
		fprintf(stderr, "tping: out of memory: some rows were not written\n");
	if (rows_err)
		exit_code = VD_EXIT_RUNTIME;
	rp.rows = NULL;
	int rows_io_err = rows_af.f && ferror(rows_af.f);
	if (rows_af.f && vd_afile_finish(&rows_af, rows_err, &err)) {
		if (rows_io_err || !rows_err)
			fprintf(stderr, "tping: %s\n", err.msg);
		exit_code = VD_EXIT_RUNTIME;
	}
	rows_f = NULL;
	struct tping_meta *m = calloc(1, sizeof(*m));
	if (m)
		collect_meta(m, &o, &s, &r, &rp, steal0, steal1, clocksource, cpu_ns);
	char extra[1024];
	struct vd_summary late;
	tping_report_lateness(&rp, &late);
	int off = snprintf(
	    extra, sizeof(extra), "timer lateness: median %.3f ms, p99 %.3f ms, max %.3f ms\n",
	    late.n ? (double)late.median / 1e6 : 0, late.n ? (double)late.p99 / 1e6 : 0,
	    late.n ? (double)late.max / 1e6 : 0);
	if (s.tstamp)
		off += snprintf(extra + off, sizeof(extra) - (size_t)off,
				"timestamps missing: SCHED %" PRIu64 ", SND %" PRIu64
				", hw TX %" PRIu64 ", RX %" PRIu64 "; after window %" PRIu64
				", truncated control data %" PRIu64 "\n",
				r.c.missing_sched, r.c.missing_snd, r.c.missing_hw_tx,
				r.c.missing_rx, r.c.tx_after_window, r.c.ctrunc);
	if (s.tstamp && s.ts_asked != s.ts_granted) {
		char a[256], g[256];
		off += snprintf(extra + off, sizeof(extra) - (size_t)off,
				"timestamping asked %s, granted %s\n",
				vd_tstamp_flags_str(s.ts_asked, a, sizeof(a)),
				vd_tstamp_flags_str(s.ts_granted, g, sizeof(g)));
	}
	snprintf(extra + off, sizeof(extra) - (size_t)off,
		 "clocksource %s, steal %.3f ms, cpu %.1f us/probe; %s\n", clocksource,
		 vd_ns_valid(steal0) && vd_ns_valid(steal1) ? (double)(steal1 - steal0) / 1e6 : NAN,
		 (r.c.sent + r.c.send_errors)
		     ? (double)cpu_ns / 1e3 / (double)(r.c.sent + r.c.send_errors)
		     : 0.0,
		 s.hw_note);
	tping_report_summary(&rp, &r, summary_f, extra);
	if (load.status != -1 && o.load && WIFEXITED(load.status) &&
	    WEXITSTATUS(load.status) == 127)
		fprintf(stderr, "tping: --load: %s: command not found\n", o.load);
	if (st) {
		if (!m) {
			fprintf(stderr, "tping: out of memory\n");
			exit_code = VD_EXIT_RUNTIME;
		} else if (rp.store_failed) {
			exit_code = VD_EXIT_RUNTIME;
		} else if (tping_store_finish(st, rp.run_id, &o, &r, &rp, m,
					      tping_run_status(&r, run_rc), &err)) {
			fprintf(stderr, "tping: --db: %s (the run stays marked incomplete)\n",
				err.msg);
			exit_code = VD_EXIT_RUNTIME;
		}
	}
	free(m);
	if (rp.oom) {
		fprintf(stderr, "tping: out of memory: some probes were not kept\n");
		exit_code = VD_EXIT_RUNTIME;
	}
	if (r.c.received == 0 && exit_code == VD_EXIT_OK && !r.interrupted) {
		fprintf(stderr, "tping: no reply from %s\n", o.target);
		exit_code = VD_EXIT_RUNTIME;
	}
	goto out;
runtime_error:
	fprintf(stderr, "tping: %s\n", err.msg);
	exit_code = VD_EXIT_RUNTIME;
out:
	if (o.load)
		tping_load_stop(&load);
	if (rp.rows)
		vd_out_destroy(rp.rows);
	if (rows_af.f)
		vd_afile_discard(&rows_af);
	vd_store_close(st);
	tping_report_free(&rp);
	if (have_run)
		tping_run_free(&r);
	tping_sock_close(&s);
	tping_options_free(&o);
	return exit_code;
}
