/* Unit tests: tping's run bookkeeping fed with messages built here — TX records matched by
 * OPT_ID key whatever their order, stacked SCHED stamps, duplicates, late and reordered
 * replies, ICMP errors from the error queue — then the per-layer statistics and a SQLite
 * round trip of the run. */
#include <errno.h>
#include <time.h>
#include <linux/errqueue.h>
#include <math.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "../../tping/tping.h"
#include "vmdelay/net/icmp_echo.h"

#define COOKIE UINT64_C(0xa5a5a5a5deadbeef)
#define T0 INT64_C(1700000000000000000)

struct fixture {
	struct tping_opts o;
	struct tping_sock s;
	struct tping_run r;
	struct tping_report rp;
	volatile sig_atomic_t stop;
};

static struct fixture *setup_run(long count, long rest)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->o.count = count;
	f->o.rest = rest;
	f->o.interval = VD_NS_PER_MS;
	f->o.size = 56;
	f->o.timeout = VD_NS_PER_SEC;
	f->o.tx_wait = 50 * VD_NS_PER_MS;
	f->o.target = "10.9.9.9";
	f->o.command_line = strdup("tping -c 4 --rest 1 10.9.9.9");
	f->s.fd = -1;
	f->s.family = AF_INET;
	f->s.raw = 0;
	f->s.id = 0x777;
	f->s.cookie = COOKIE;
	f->s.tstamp = 1;
	snprintf(f->s.dst_str, sizeof(f->s.dst_str), "10.9.9.9");
	struct vd_err err;
	assert_int_equal(tping_run_init(&f->r, &f->o, &f->s, &err), 0);
	f->rp.o = &f->o;
	f->rp.keep_recs = 1;
	f->rp.s = &f->s;
	f->r.emit = tping_report_emit;
	f->r.ctx = &f->rp;
	f->r.stop = &f->stop;
	return f;
}

static void free_run(struct fixture *f)
{
	tping_report_free(&f->rp);
	tping_run_free(&f->r);
	tping_options_free(&f->o);
	free(f);
}

static void send_at(struct fixture *f, size_t idx, vd_ns user_tx)
{
	f->r.probes[idx].user_tx = user_tx;
	tping_run_sent(&f->r, idx, vd_now(CLOCK_MONOTONIC));
}

struct ctl {
	union {
		char buf[256];
		struct cmsghdr align;
	} u;
	struct msghdr msg;
};

static void *ctl_add(struct ctl *c, int level, int type, size_t len)
{
	struct cmsghdr *h = (struct cmsghdr *)(c->u.buf + c->msg.msg_controllen);
	h->cmsg_level = level;
	h->cmsg_type = type;
	h->cmsg_len = CMSG_LEN(len);
	c->msg.msg_controllen += CMSG_SPACE(len);
	return CMSG_DATA(h);
}

static void ctl_ts(struct ctl *c, vd_ns t)
{
	struct timespec ts[3];
	memset(ts, 0, sizeof(ts));
	ts[0] = vd_ns_to_timespec(t);
	memcpy(ctl_add(c, SOL_SOCKET, SO_TIMESTAMPING, sizeof(ts)), ts, sizeof(ts));
}

static void ctl_init(struct ctl *c)
{
	memset(c, 0, sizeof(*c));
	c->msg.msg_control = c->u.buf;
}

/* A TX record as the error queue gives it with OPT_TSONLY: no data, a stamp, an ee. */
static void tx(struct fixture *f, uint32_t key, uint32_t scm_kind, vd_ns t)
{
	struct ctl c;
	ctl_init(&c);
	ctl_ts(&c, t);
	struct sock_extended_err ee = {.ee_errno = ENOMSG,
				       .ee_origin = SO_EE_ORIGIN_TIMESTAMPING,
				       .ee_info = scm_kind,
				       .ee_data = key};
	memcpy(ctl_add(&c, SOL_IP, IP_RECVERR, sizeof(ee)), &ee, sizeof(ee));
	tping_run_rx(&f->r, NULL, 0, 0, &c.msg, VD_NS_NONE, 1);
}

/* An echo reply as a datagram socket gives it: ICMP header on, RX stamp and TTL cmsgs. */
static void reply(struct fixture *f, uint16_t seq, vd_ns kernel_rx, vd_ns user_rx)
{
	uint8_t b[128];
	size_t n = vd_icmp_echo_build(b, sizeof(b), AF_INET, f->s.id, seq, f->o.size, COOKIE);
	b[0] = 0;
	struct ctl c;
	ctl_init(&c);
	ctl_ts(&c, kernel_rx);
	int ttl = 64;
	memcpy(ctl_add(&c, SOL_IP, IP_TTL, sizeof(ttl)), &ttl, sizeof(ttl));
	tping_run_rx(&f->r, b, n, 0, &c.msg, user_rx, 0);
}

static const struct vd_probe *rec(struct fixture *f, size_t i)
{
	assert_true(i < f->rp.n);
	return &f->rp.recs[i];
}

static void tx_stamps_matched_by_key_not_order(void **state)
{
	struct fixture *f = setup_run(3, 0);
	for (size_t i = 0; i < 3; i++)
		send_at(f, i, T0 + (vd_ns)i * VD_NS_PER_MS);
	/* Records of probe 3 (key 2) first, then 1, then 2; probe 1 crosses a bridge: two
	 * SCHED stamps. */
	tx(f, 2, SCM_TSTAMP_SCHED, T0 + 2 * VD_NS_PER_MS + 10000);
	tx(f, 2, SCM_TSTAMP_SND, T0 + 2 * VD_NS_PER_MS + 15000);
	tx(f, 0, SCM_TSTAMP_SCHED, T0 + 5000);
	tx(f, 0, SCM_TSTAMP_SCHED, T0 + 7000);
	tx(f, 0, SCM_TSTAMP_SND, T0 + 9000);
	tx(f, 1, SCM_TSTAMP_SCHED, T0 + VD_NS_PER_MS + 4000);
	assert_int_equal(f->rp.n, 0); /* nothing finished before its reply */
	reply(f, 1, T0 + 50000, T0 + 80000);
	reply(f, 3, T0 + 2 * VD_NS_PER_MS + 40000, T0 + 2 * VD_NS_PER_MS + 70000);
	/* Probe 2's SND comes after its reply: it waits for it. */
	reply(f, 2, T0 + VD_NS_PER_MS + 30000, T0 + VD_NS_PER_MS + 60000);
	assert_int_equal(f->rp.n, 2);
	tx(f, 1, SCM_TSTAMP_SND, T0 + VD_NS_PER_MS + 6000);
	assert_int_equal(f->rp.n, 3);
	const struct vd_probe *p = rec(f, 0);
	assert_int_equal(p->seq, 1);
	assert_int_equal(p->status, VD_PROBE_OK);
	assert_int_equal(p->sched_tx, T0 + 5000);
	assert_int_equal(p->sched_tx_last, T0 + 7000);
	assert_int_equal(p->kernel_tx, T0 + 9000);
	assert_int_equal(p->kernel_rx, T0 + 50000);
	assert_int_equal(p->user_rx, T0 + 80000);
	assert_int_equal(vd_probe_kernel_rtt(p), 41000);
	assert_int_equal(vd_probe_user_rtt(p), 80000);
	assert_int_equal(p->ttl, 64);
	assert_int_equal(p->size, 64);
	p = rec(f, 1);
	assert_int_equal(p->seq, 3);
	assert_int_equal(p->kernel_tx, T0 + 2 * VD_NS_PER_MS + 15000);
	p = rec(f, 2);
	assert_int_equal(p->seq, 2);
	assert_int_equal(p->sched_tx, T0 + VD_NS_PER_MS + 4000);
	assert_int_equal(p->kernel_tx, T0 + VD_NS_PER_MS + 6000);
	assert_int_equal(f->r.c.reordered, 1); /* seq 2 after seq 3 */
	assert_int_equal(f->r.c.received, 3);
	assert_int_equal(f->r.c.missing_snd, 0);
	/* A record for an unknown key is counted, not matched to anything. */
	tx(f, 17, SCM_TSTAMP_SND, T0);
	assert_int_equal(f->r.c.tx_unmatched, 1);
	free_run(f);
}

static void duplicates_late_lost_and_errors(void **state)
{
	struct fixture *f = setup_run(4, 1); /* 6 probes: rest-pre, 4 load, rest-post */
	assert_int_equal(f->r.total, 6);
	for (size_t i = 0; i < 6; i++) {
		send_at(f, i, T0 + (vd_ns)i * VD_NS_PER_MS);
		tx(f, (uint32_t)i, SCM_TSTAMP_SCHED, T0 + (vd_ns)i * VD_NS_PER_MS + 1000);
		if (i != 3) /* probe 4's SND never comes */
			tx(f, (uint32_t)i, SCM_TSTAMP_SND, T0 + (vd_ns)i * VD_NS_PER_MS + 2000);
	}
	reply(f, 1, T0 + 12000, T0 + 20000);
	reply(f, 1, T0 + 13000, T0 + 21000); /* duplicate */
	reply(f, 2, T0 + VD_NS_PER_MS + 12000, T0 + VD_NS_PER_MS + 20000);
	reply(f, 4, T0 + 3 * VD_NS_PER_MS + 12000, T0 + 3 * VD_NS_PER_MS + 20000);
	/* Probe 3: an ICMP error from the error queue quoting our request. */
	uint8_t q[64];
	size_t qn = vd_icmp_echo_build(q, sizeof(q), AF_INET, f->s.id, 3, 56, COOKIE);
	struct ctl c;
	ctl_init(&c);
	ctl_ts(&c, T0 + 2 * VD_NS_PER_MS + 9000);
	struct {
		struct sock_extended_err ee;
		struct sockaddr_in off;
	} e = {.ee = {.ee_errno = EHOSTUNREACH,
		      .ee_origin = SO_EE_ORIGIN_ICMP,
		      .ee_type = 3,
		      .ee_code = 1},
	       .off = {.sin_family = AF_INET, .sin_addr = {htonl(0x0a000001)}}};
	memcpy(ctl_add(&c, SOL_IP, IP_RECVERR, sizeof(e)), &e, sizeof(e));
	tping_run_rx(&f->r, q, qn, 0, &c.msg, T0 + 2 * VD_NS_PER_MS + 11000, 1);
	/* Probes 5 and 6 unanswered: the timeout declares them lost; then 5 answers late. */
	tping_run_finish_all(&f->r);
	reply(f, 5, T0 + 4 * VD_NS_PER_MS + 900000, T0 + 4 * VD_NS_PER_MS + 950000);
	assert_int_equal(f->rp.n, 8);
	int seen[VD_PROBE_STATUS__COUNT] = {0};
	for (size_t i = 0; i < f->rp.n; i++)
		seen[f->rp.recs[i].status]++;
	assert_int_equal(seen[VD_PROBE_OK], 3);
	assert_int_equal(seen[VD_PROBE_DUPLICATE], 1);
	assert_int_equal(seen[VD_PROBE_ICMP_ERROR], 1);
	assert_int_equal(seen[VD_PROBE_LOST], 2);
	assert_int_equal(seen[VD_PROBE_LATE], 1);
	assert_int_equal(f->r.c.duplicates, 1);
	assert_int_equal(f->r.c.late, 1);
	assert_int_equal(f->r.c.icmp_errors, 1);
	assert_int_equal(f->r.c.lost, 2);
	assert_int_equal(f->r.c.received, 3);
	assert_int_equal(f->r.c.missing_snd, 1); /* probe 4, finished when its wait ran out */
	for (size_t i = 0; i < f->rp.n; i++) {
		const struct vd_probe *p = &f->rp.recs[i];
		if (p->status == VD_PROBE_ICMP_ERROR) {
			assert_int_equal(p->seq, 3);
			assert_int_equal(p->icmp_type, 3);
			assert_int_equal(p->icmp_code, 1);
			assert_int_equal(p->kernel_rx, T0 + 2 * VD_NS_PER_MS + 9000);
		}
		if (p->status == VD_PROBE_DUPLICATE)
			assert_int_equal(p->kernel_rx, T0 + 13000);
		if (p->status == VD_PROBE_LATE) {
			assert_int_equal(p->seq, 5);
			assert_int_equal(p->phase, VD_PHASE_LOAD);
		}
		if (p->seq == 1)
			assert_int_equal(p->phase, VD_PHASE_REST_PRE);
		if (p->seq == 6)
			assert_int_equal(p->phase, VD_PHASE_REST_POST);
	}
	free_run(f);
}

static void foreign_replies_are_ignored(void **state)
{
	struct fixture *f = setup_run(2, 0);
	send_at(f, 0, T0);
	reply(f, 2, T0 + 1, T0 + 2); /* seq not sent yet */
	/* Wrong cookie: another pinger. */
	uint8_t b[128];
	size_t n = vd_icmp_echo_build(b, sizeof(b), AF_INET, f->s.id, 1, 56, COOKIE ^ 1);
	b[0] = 0;
	struct ctl c;
	ctl_init(&c);
	tping_run_rx(&f->r, b, n, 0, &c.msg, T0 + 3, 0);
	/* Truncated control data: the reply counts, the stamps are missing and it is counted. */
	assert_int_equal(f->rp.n, 0);
	assert_int_equal(f->r.c.foreign, 2);
	tx(f, 0, SCM_TSTAMP_SND, T0 + 10);
	n = vd_icmp_echo_build(b, sizeof(b), AF_INET, f->s.id, 1, 56, COOKIE);
	b[0] = 0;
	ctl_init(&c);
	ctl_ts(&c, T0 + 20);
	c.msg.msg_flags = MSG_CTRUNC;
	tping_run_rx(&f->r, b, n, 0, &c.msg, T0 + 30, 0);
	assert_int_equal(f->r.c.ctrunc, 1);
	assert_int_equal(f->rp.n, 1);
	assert_int_equal(rec(f, 0)->kernel_rx, VD_NS_NONE);
	free_run(f);
}

static void layer_statistics(void **state)
{
	struct fixture *f = setup_run(5, 0);
	/* Kernel RTTs 10, 20, 30, 40, 50 µs; user RTT = kernel + 5 µs; SND - SCHED = 2 µs. */
	for (size_t i = 0; i < 5; i++) {
		vd_ns t = T0 + (vd_ns)i * VD_NS_PER_MS;
		send_at(f, i, t);
		tx(f, (uint32_t)i, SCM_TSTAMP_SCHED, t + 1000);
		tx(f, (uint32_t)i, SCM_TSTAMP_SND, t + 3000);
		vd_ns krtt = (vd_ns)(i + 1) * 10000;
		reply(f, (uint16_t)(i + 1), t + 3000 + krtt, t + 3000 + krtt + 2000);
	}
	struct vd_summary s;
	assert_int_equal(
	    tping_report_layer(f->rp.recs, f->rp.n, VD_PHASE__COUNT, TPING_LAYER_KERNEL, &s), 0);
	assert_int_equal(s.n, 5);
	assert_int_equal(s.min, 10000);
	assert_int_equal(s.median, 30000);
	assert_int_equal(s.max, 50000);
	assert_int_equal(s.p99, 49600);
	assert_true(fabs(s.mean - 30000) < 1e-6);
	assert_true(fabs(s.sd - 15811.388) < 0.01);
	assert_int_equal(
	    tping_report_layer(f->rp.recs, f->rp.n, VD_PHASE__COUNT, TPING_LAYER_DUSER, &s), 0);
	assert_int_equal(s.min, 5000);
	assert_int_equal(s.max, 5000);
	assert_int_equal(
	    tping_report_layer(f->rp.recs, f->rp.n, VD_PHASE__COUNT, TPING_LAYER_DSCHED, &s), 0);
	assert_int_equal(s.median, 2000);
	assert_int_equal(
	    tping_report_layer(f->rp.recs, f->rp.n, VD_PHASE__COUNT, TPING_LAYER_HW, &s), 0);
	assert_int_equal(s.n, 0);
	/* RFC 3550: every step is 10 µs, J converges towards it: J_k = 10000 (1 - (15/16)^k). */
	double j = tping_report_jitter(f->rp.recs, f->rp.n, TPING_LAYER_KERNEL);
	assert_true(fabs(j - 10000 * (1 - pow(15.0 / 16, 4))) < 1e-6);
	free_run(f);
}

static void sqlite_round_trip(void **state)
{
	char dir[] = "/tmp/vd-tping-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof(path), "%s/run.db", dir);
	struct fixture *f = setup_run(3, 1);
	f->o.testbed = "unit";
	f->o.label = "round trip";
	for (size_t i = 0; i < 5; i++) {
		vd_ns t = T0 + (vd_ns)i * VD_NS_PER_MS;
		send_at(f, i, t);
		f->r.probes[i].cpu = (int32_t)i % 2;
		f->r.probes[i].timer_late = 100 * (vd_ns)i;
		tx(f, (uint32_t)i, SCM_TSTAMP_SCHED, t + 1000);
		tx(f, (uint32_t)i, SCM_TSTAMP_SND, t + 3000);
		if (i != 2)
			reply(f, (uint16_t)(i + 1), t + 30000, t + 40000);
	}
	reply(f, 1, T0 + 31000, T0 + 41000); /* a duplicate is stored as its own row */
	tping_run_finish_all(&f->r);
	f->r.start_real = T0;
	f->r.end_real = T0 + VD_NS_PER_SEC;
	struct tping_meta m = {0};
	tping_meta_add(&m, "clocksource", "%s", "tsc");
	tping_meta_add(&m, "tstamp_granted", "%s", "tx_sched");
	struct vd_store *st;
	struct vd_err err;
	assert_int_equal(vd_store_open(path, &st, &err), 0);
	assert_int_equal(tping_store_run(st, &f->o, &f->s, &f->r, &f->rp, &m, &err), 0);
	struct vd_probe *back;
	size_t n;
	assert_int_equal(vd_store_load_probes(st, 1, &back, &n, &err), 0);
	assert_int_equal(n, f->rp.n);
	assert_int_equal(n, 6);
	for (size_t i = 0; i < n; i++) {
		const struct vd_probe *a = &f->rp.recs[i], *b = &back[i];
		assert_int_equal(a->seq, b->seq);
		assert_int_equal(a->phase, b->phase);
		assert_int_equal(a->status, b->status);
		assert_int_equal(a->user_tx, b->user_tx);
		assert_int_equal(a->sched_tx, b->sched_tx);
		assert_int_equal(a->sched_tx_last, b->sched_tx_last);
		assert_int_equal(a->kernel_tx, b->kernel_tx);
		assert_int_equal(a->hw_tx, b->hw_tx);
		assert_int_equal(a->kernel_rx, b->kernel_rx);
		assert_int_equal(a->user_rx, b->user_rx);
		assert_int_equal(a->size, b->size);
		assert_int_equal(a->ttl, b->ttl);
		assert_int_equal(a->cpu, b->cpu);
		assert_int_equal(a->timer_late, b->timer_late);
	}
	free(back);
	sqlite3 *db = vd_store_db(st);
	sqlite3_stmt *s;
	assert_int_equal(
	    sqlite3_prepare_v2(db,
			       "SELECT r.label, t.name, r.complete, r.command_line,"
			       " (SELECT value FROM run_meta WHERE run_id = r.id AND key ="
			       " 'clocksource'),"
			       " (SELECT value FROM results WHERE run_id = r.id AND metric ="
			       " 'kernel' AND phase = '' AND stat = 'median_ns')"
			       " FROM runs r JOIN testbeds t ON t.id = r.testbed_id",
			       -1, &s, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "round trip");
	assert_string_equal((const char *)sqlite3_column_text(s, 1), "unit");
	assert_int_equal(sqlite3_column_int(s, 2), 1);
	assert_string_equal((const char *)sqlite3_column_text(s, 3),
			    "tping -c 4 --rest 1 10.9.9.9");
	assert_string_equal((const char *)sqlite3_column_text(s, 4), "tsc");
	assert_true(fabs(sqlite3_column_double(s, 5) - 27000) < 1e-6);
	sqlite3_finalize(s);
	vd_store_close(st);
	free_run(f);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(tx_stamps_matched_by_key_not_order),
	    cmocka_unit_test(duplicates_late_lost_and_errors),
	    cmocka_unit_test(foreign_replies_are_ignored),
	    cmocka_unit_test(layer_statistics),
	    cmocka_unit_test(sqlite_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
