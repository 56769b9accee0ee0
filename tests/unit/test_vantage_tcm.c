/* Unit tests: tcpmon record files as vantage points (lib/input/vantage_tcm.c): one point per stack
 * level in stack order, requests and replies at the right layers with the TSC-converted times
 * (ktime real when the TSC is unstable), selectors, detection by content, damaged files. The
 * files are written by lib/tcmrec's writer (tests/golden/tcm_synth.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"
#include "../golden/tcm_synth.h"
#include "vmdelay/record.h"
#include "vmdelay/input/echo_pull.h"
#include "vmdelay/input/format.h"
#include "vmdelay/match/vantage.h"

/* The format name format.c gives path, or NULL when it cannot be read. */
static const char *detect(const char *path, struct vd_err *err)
{
	enum vd_format f;
	return vd_format_detect_file(path, &f, err) < 0 ? NULL : vd_format_name(f);
}

/* Reads "arg" into set; returns vd_vantage_read's result, err filled. */
static int read_arg(const char *arg, struct vd_vantage_set *set, struct vd_err *err)
{
	struct vd_vantage_spec spec;
	assert_int_equal(vd_vantage_spec_parse(arg, &spec, err), 0);
	int rc = vd_vantage_read(&spec, set, NULL, err);
	vd_vantage_spec_free(&spec);
	return rc;
}

static const char *const level_names[] = {"dev",   "ip-route",	 "ip-local",
					  "trans", "sock-queue", "sock-copy"};
static const unsigned level_tx[] = {TCPMON_L_DEV_TX,   TCPMON_L_IP_POST,  TCPMON_L_IP_LOCAL_OUT,
				    TCPMON_L_TRANS_TX, TCPMON_L_TRANS_TX, TCPMON_L_TRANS_TX};
static const unsigned level_rx[] = {TCPMON_L_DEV_RX,   TCPMON_L_IP_PRE,	    TCPMON_L_IP_LOCAL_IN,
				    TCPMON_L_TRANS_RX, TCPMON_L_SOCK_QUEUE, TCPMON_L_SOCK_COPY};

/* Every event of level l is probe k's request at the transmit layer and reply at the receive
 * layer (the other way round when the guest answers), at the true time, in time order. */
static void check_level(const struct tcm_synth_opts *o, const struct vd_vantage *v, int l)
{
	unsigned rq = o->responder ? level_rx[l] : level_tx[l];
	unsigned rp = o->responder ? level_tx[l] : level_rx[l];
	int ai = o->ipv6 ? 15 : 3, guest = o->responder ? 1 : 2;
	assert_string_equal(v->format, "tcpmon");
	/* Requests are kept in time order; each reply is paired as it is read
	 * (lib/match/match.c).
	 */
	assert_int_equal(v->echoes, 2 * (size_t)o->nprobes);
	assert_int_equal(v->n, (size_t)o->nprobes);
	assert_int_equal(v->npairs, (size_t)o->nprobes);
	for (size_t i = 0; i < v->n; i++) {
		struct vd_echo ebuf, *e = &ebuf;
		vd_vantage_echo(v, i, e);
		int k = (int)e->seq - 1;
		assert_true(k >= 0 && k < o->nprobes);
		assert_int_equal(e->id, TCM_SYNTH_ID);
		assert_true(e->has_id);
		assert_int_equal(e->src.family, o->ipv6 ? AF_INET6 : AF_INET);
		assert_int_equal(e->kind, VD_ECHO_REQUEST);
		if (i)
			assert_true(v->ev[i - 1].ts <= e->ts);
		assert_int_equal(e->ts, tcm_synth_time(o, k, rq));
		assert_int_equal(e->src.bytes[ai], guest);
	}
	for (size_t i = 0; i < v->npairs; i++) {
		const struct vd_echo_pair *pr = &v->pairs[i];
		assert_true(pr->req < v->n);
		int k = (int)v->ev[pr->req].seq - 1;
		assert_int_equal(pr->rep_ts, tcm_synth_time(o, k, rp));
	}
}

static void every_level(void **state)
{
	for (int variant = 0; variant < 3; variant++) {
		struct tcm_synth_opts o = {
		    .nprobes = 7, .unstable = variant == 1, .ipv6 = variant == 2};
		/* the name says CSV: the content decides */
		const char *path = testutil_tmp("guest.csv");
		assert_int_equal(tcm_synth_write(path, &o, NULL), 0);
		struct vd_err err;
		const char *fmt = detect(path, &err);
		assert_non_null(fmt);
		assert_string_equal(fmt, "tcpmon");
		char arg[300];
		snprintf(arg, sizeof(arg), "g:vm=%s#*", path);
		struct vd_vantage_set set = {0};
		assert_int_equal(read_arg(arg, &set, &err), 0);
		assert_int_equal(set.n, 6);
		for (int l = 0; l < 6; l++) {
			char name[64];
			snprintf(name, sizeof(name), "g.%s", level_names[l]);
			assert_string_equal(set.v[l]->name, name);
			assert_string_equal(set.v[l]->clock, "vm");
			assert_string_equal(set.v[l]->select, level_names[l]);
			assert_int_equal(set.v[l]->records, 10 * o.nprobes + 4);
			check_level(&o, set.v[l], l);
			if (o.unstable)
				assert_non_null(strstr(set.v[l]->notes, "unstable"));
			else
				assert_string_equal(set.v[l]->notes, "");
		}
		vd_vantage_set_free(&set);
		/* a bare path is every level too, named after the levels */
		assert_int_equal(read_arg(path, &set, &err), 0);
		assert_int_equal(set.n, 6);
		assert_string_equal(set.v[0]->name, "dev");
		assert_string_equal(set.v[5]->name, "sock-copy");
		vd_vantage_set_free(&set);
	}
}

/* A guest that answers pings: requests on receive, replies on transmit, no socket levels. */
static void responder(void **state)
{
	struct tcm_synth_opts o = {.nprobes = 5, .responder = 1};
	const char *path = testutil_tmp("resp.tcm");
	assert_int_equal(tcm_synth_write(path, &o, NULL), 0);
	struct vd_err err;
	struct vd_vantage_set set = {0};
	assert_int_equal(read_arg(path, &set, &err), 0);
	assert_int_equal(set.n, 4);
	for (int l = 0; l < 4; l++) {
		assert_string_equal(set.v[l]->name, level_names[l]);
		check_level(&o, set.v[l], l);
	}
	vd_vantage_set_free(&set);
	char arg[300];
	snprintf(arg, sizeof(arg), "%s#sock-queue", path);
	assert_int_equal(read_arg(arg, &set, &err), -1);
	assert_non_null(strstr(err.msg, "no ICMP echo records at level sock-queue"));
	vd_vantage_set_free(&set);
}

static void selectors(void **state)
{
	struct tcm_synth_opts o = {.nprobes = 3};
	const char *path = testutil_tmp("sel.tcm");
	assert_int_equal(tcm_synth_write(path, &o, NULL), 0);
	struct vd_err err;
	struct vd_vantage_set set = {0};
	char arg[300];
	/* a layer name picks its level: one point, named NAME */
	snprintf(arg, sizeof(arg), "k=%s#ip-local-out", path);
	assert_int_equal(read_arg(arg, &set, &err), 0);
	assert_int_equal(set.n, 1);
	assert_string_equal(set.v[0]->name, "k");
	assert_string_equal(set.v[0]->select, "ip-local");
	check_level(&o, set.v[0], 2);
	vd_vantage_set_free(&set);
	/* a list comes out in stack order whatever the order written */
	snprintf(arg, sizeof(arg), "k=%s#trans-rx,dev-tx", path);
	assert_int_equal(read_arg(arg, &set, &err), 0);
	assert_int_equal(set.n, 2);
	assert_string_equal(set.v[0]->name, "k.dev");
	assert_string_equal(set.v[1]->name, "k.trans");
	check_level(&o, set.v[0], 0);
	check_level(&o, set.v[1], 3);
	vd_vantage_set_free(&set);
	snprintf(arg, sizeof(arg), "%s#sock-copy", path);
	assert_int_equal(read_arg(arg, &set, &err), 0);
	assert_int_equal(set.n, 1);
	assert_string_equal(set.v[0]->name, "sock-copy");
	check_level(&o, set.v[0], 5);
	vd_vantage_set_free(&set);
	snprintf(arg, sizeof(arg), "k=%s#ip-nowhere", path);
	assert_int_equal(read_arg(arg, &set, &err), -1);
	assert_non_null(strstr(err.msg, "ip-nowhere"));
	assert_non_null(strstr(err.msg, path));
	assert_int_equal(set.n, 0);
}

static void damaged(void **state)
{
	struct tcm_synth_opts o = {.nprobes = 4};
	const char *path = testutil_tmp("cut.tcm");
	assert_int_equal(tcm_synth_write(path, &o, NULL), 0);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	unsigned char buf[4096];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_true(n > 400);
	/* cut inside the first records block (header 256 + calib block 8 + 96, then a block) */
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, 400, f), 400);
	assert_int_equal(fclose(f), 0);
	struct vd_err err;
	struct vd_vantage_set set = {0};
	assert_int_equal(read_arg(path, &set, &err), -1);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "offset 360"));
	assert_int_equal(set.n, 0);
	/* only the magic: the header is short */
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, 8, f), 8);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(read_arg(path, &set, &err), -1);
	assert_non_null(strstr(err.msg, "header"));
}

/* Records tcpmon lost are not packets the network lost: probe 3's receive-side records are
 * missing (a gap in CPU 1's seqnos, from probe 2's last record to probe 4's first). The echo
 * records inside that window (probe 3's request, probe 4's request) are left out at every level
 * instead of counting as unanswered; the other probes are untouched; the notes warn. */
static void lost_records(void **state)
{
	struct tcm_synth_opts o = {.nprobes = 6, .lose = 3};
	const char *path = testutil_tmp("lost.tcm");
	assert_int_equal(tcm_synth_write(path, &o, NULL), 0);
	struct vd_err err;
	struct vd_vantage_set set = {0};
	assert_int_equal(read_arg(path, &set, &err), 0);
	assert_int_equal(set.n, 6);
	for (size_t l = 0; l < set.n; l++) {
		const struct vd_vantage *v = set.v[l];
		assert_int_equal(v->n, 4);
		assert_int_equal(v->npairs, 4);
		for (size_t i = 0; i < v->n; i++)
			assert_true(v->ev[i].seq != 3 && v->ev[i].seq != 4);
		assert_non_null(strstr(v->notes, "warning: 6 records lost by tcpmon in 1 windows"));
	}
	vd_vantage_set_free(&set);
}

/* Pulls spec's level to the end: the events in (time, record) order; returns the pull's last
 * result (0 end, -1 gave way), the count in *n. */
static int pull_all(const struct vd_vantage_spec *spec, uint64_t *n, struct vd_err *err)
{
	struct vd_echo_pull *p;
	struct vd_echo e;
	vd_ns last = INT64_MIN;
	uint64_t last_index = 0;
	int rc;
	*n = 0;
	assert_int_equal(vd_echo_pull_open(spec, NULL, &p, err), 0);
	while ((rc = vd_echo_pull_next(p, &e, err)) > 0) {
		assert_true(e.ts > last || (e.ts == last && e.index > last_index));
		last = e.ts;
		last_index = e.index;
		(*n)++;
	}
	vd_echo_pull_close(p);
	return rc;
}

/* Streamed (vd_echo_pull_split, then each level pulled): the levels, names and echo counts of
 * reading whole, in time order, for a prober in per-CPU batches and a responder. */
static void pulled_levels(void **state)
{
	(void)state;
	const struct tcm_synth_opts opts[] = {{.nprobes = 200, .batch = 7},
					      {.nprobes = 50, .responder = 1, .ipv6 = 1}};
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		char *path = strdup(testutil_tmp("pull.tcm"));
		struct vd_vantage_set set = {0};
		struct vd_vantage_spec spec, x[VD_ECHO_PULL_SPLIT_MAX];
		struct vd_err err;
		assert_int_equal(tcm_synth_write(path, &opts[i], NULL), 0);
		char arg[300];
		snprintf(arg, sizeof(arg), "g=%s", path);
		assert_int_equal(read_arg(arg, &set, &err), 0);
		assert_int_equal(vd_vantage_spec_parse(arg, &spec, &err), 0);
		int n = vd_echo_pull_split(&spec, x, &err);
		assert_int_equal((size_t)n, set.n);
		for (int k = 0; k < n; k++) {
			uint64_t got;
			assert_string_equal(x[k].name, set.v[k]->name);
			assert_int_equal(pull_all(&x[k], &got, &err), 0);
			assert_int_equal(got, set.v[k]->echoes);
			vd_vantage_spec_free(&x[k]);
		}
		vd_vantage_spec_free(&spec);
		vd_vantage_set_free(&set);
		unlink(path);
		free(path);
	}
}

/* The levels x[0..n), opened on the shared reading of split, pulled one event each in turn
 * (in_turn) or to the end one level after another (the next level's events wait meanwhile):
 * got[k] events each, in time order; -1 at the first failure (err). The file removed (when
 * removed is its path) once level removed_after is open. */
static int pull_shared(struct vd_vantage_spec *x, size_t n, struct vd_tcm_split *split, int in_turn,
		       const char *removed, size_t removed_after, uint64_t got[],
		       struct vd_err *err)
{
	struct vd_echo_read_opts o = {.tcm_split = split};
	struct vd_echo_pull *p[VD_ECHO_PULL_SPLIT_MAX] = {0};
	vd_ns last[VD_ECHO_PULL_SPLIT_MAX];
	uint64_t last_index[VD_ECHO_PULL_SPLIT_MAX] = {0};
	int more[VD_ECHO_PULL_SPLIT_MAX], rc = 0;
	for (size_t k = 0; k < n; k++) {
		assert_int_equal(vd_echo_pull_open(&x[k], &o, &p[k], err), 0);
		if (k == removed_after && removed)
			unlink(removed);
		last[k] = INT64_MIN;
		got[k] = 0;
		more[k] = 1;
	}
	for (size_t k = 0, any = 1; any && rc == 0;) {
		struct vd_echo e;
		int r = more[k] ? vd_echo_pull_next(p[k], &e, err) : 0;
		if (r > 0) {
			assert_true(e.ts > last[k] || (e.ts == last[k] && e.index > last_index[k]));
			last[k] = e.ts;
			last_index[k] = e.index;
			got[k]++;
		}
		rc = r < 0 ? -1 : 0;
		more[k] = r > 0;
		if (in_turn || !more[k]) /* the next level */
			k = (k + 1) % n;
		any = 0;
		for (size_t j = 0; j < n; j++)
			any |= more[j];
	}
	for (size_t k = 0; k < n; k++)
		vd_echo_pull_close(p[k]);
	return rc;
}

/* spec split (vd_echo_pull_specs, its levels kept for their shared reading) into *nx levels,
 * pulled by pull_shared: its result. */
static int split_and_pull(const struct vd_vantage_spec *spec, int in_turn, const char *removed,
			  size_t removed_after, size_t *nx, uint64_t got[], struct vd_err *err)
{
	struct vd_vantage_spec *x;
	struct vd_tping_split *ts;
	struct vd_tcm_split *split;
	assert_int_equal(vd_echo_pull_specs(spec, 1, &x, nx, &ts, &split, err), 0);
	int rc = pull_shared(x, *nx, split, in_turn, removed, removed_after, got, err);
	for (size_t k = 0; k < *nx; k++)
		vd_vantage_spec_free(&x[k]);
	free(x);
	vd_echo_pull_specs_free(ts, split);
	return rc;
}

/* A tcpmon file is read once for all its levels: split (vd_echo_pull_specs keeps the levels
 * found), the first level opened, then the file removed: the other levels still open and pull
 * every echo reading whole gives them, from the first level's reading (read a level each, they
 * could not open). */
static void levels_read_once(void **state)
{
	(void)state;
	char *path = strdup(testutil_tmp("once.tcm"));
	struct tcm_synth_opts o = {.nprobes = 300, .batch = 7};
	struct vd_vantage_set set = {0};
	struct vd_vantage_spec spec = {.path = path};
	struct vd_err err;
	size_t nx;
	uint64_t got[VD_ECHO_PULL_SPLIT_MAX];
	assert_int_equal(tcm_synth_write(path, &o, NULL), 0);
	assert_int_equal(read_arg(path, &set, &err), 0);
	assert_int_equal(split_and_pull(&spec, 1, path, 0, &nx, got, &err), 0);
	assert_int_equal(nx, set.n);
	for (size_t k = 0; k < nx; k++)
		assert_int_equal(got[k], set.v[k]->echoes);
	vd_vantage_set_free(&set);
	free(path);
}

/* Memory stays bounded when one level is pulled far ahead of another on their shared reading:
 * level dev pulled to its end while level trans (opened beside it, 72,000 events) waits. Once
 * more of trans' events wait than the merge holds (65,536), dev reads the file alone: both give
 * every echo of reading whole, in time order; with the file removed after opening, dev's own
 * reading cannot open, and it says so (it would otherwise have queued all of trans' events). */
static void level_left_behind_reads_alone(void **state)
{
	(void)state;
	char *path = strdup(testutil_tmp("behind.tcm"));
	struct tcm_synth_opts o = {.nprobes = 36000, .batch = 400};
	struct vd_vantage_set set = {0};
	struct vd_vantage_spec spec = {.path = path};
	struct vd_err err;
	size_t nx;
	uint64_t got[VD_ECHO_PULL_SPLIT_MAX];
	char arg[300];
	assert_int_equal(tcm_synth_write(path, &o, NULL), 0);
	snprintf(spec.select, sizeof(spec.select), "dev,trans");
	snprintf(arg, sizeof(arg), "%s#dev,trans", path);
	assert_int_equal(read_arg(arg, &set, &err), 0);
	assert_int_equal(set.n, 2);
	assert_true(set.v[1]->echoes > 65536);
	for (int removed = 0; removed < 2; removed++) {
		int rc = split_and_pull(&spec, 0, removed ? path : NULL, 1, &nx, got, &err);
		assert_int_equal(nx, 2);
		if (!removed) {
			assert_int_equal(rc, 0);
			assert_int_equal(got[0], set.v[0]->echoes);
			assert_int_equal(got[1], set.v[1]->echoes);
		} else {
			assert_int_equal(rc, -1);
			assert_non_null(strstr(err.msg, path));
			assert_true(got[0] < set.v[0]->echoes);
		}
	}
	vd_vantage_set_free(&set);
	free(path);
}

/* Each CPU's records in one block: 70,000 transmit events of level dev before its first
 * receive event, more than the merge holds (vd_tcm_pull_hold(2) = 65,536): the pull gives way,
 * naming the file and saying it is read whole; a file that lost records is not split. */
static void gives_way(void **state)
{
	(void)state;
	char *path = strdup(testutil_tmp("far.tcm"));
	struct tcm_synth_opts o = {.nprobes = 70000};
	struct vd_vantage_spec spec = {.name = "g"}, x[VD_ECHO_PULL_SPLIT_MAX];
	struct vd_err err;
	uint64_t n;
	assert_int_equal(tcm_synth_write(path, &o, NULL), 0);
	spec.path = path;
	snprintf(spec.select, sizeof(spec.select), "dev");
	assert_int_equal(pull_all(&spec, &n, &err), -1);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "read whole"));
	o = (struct tcm_synth_opts){.nprobes = 20, .lose = 5};
	assert_int_equal(tcm_synth_write(path, &o, NULL), 0);
	spec.select[0] = '\0';
	assert_int_equal(vd_echo_pull_split(&spec, x, &err), 0);
	unlink(path);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_level),
	    cmocka_unit_test(responder),
	    cmocka_unit_test(selectors),
	    cmocka_unit_test(damaged),
	    cmocka_unit_test(lost_records),
	    cmocka_unit_test(pulled_levels),
	    cmocka_unit_test(gives_way),
	    cmocka_unit_test(levels_read_once),
	    cmocka_unit_test(level_left_behind_reads_alone),
	};
	return cmocka_run_group_tests(tests, testutil_setup, testutil_teardown);
}
