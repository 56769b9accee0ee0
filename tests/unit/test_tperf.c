/* Unit tests: tperf's sender and sink over real loopback sockets (a sink thread), transfer
 * records through CSV and a real SQLite file, and the errors a user sees (refused, timeout). */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../tperf/tperf.h"
#include "vmdelay/out/output.h"
#include "vmdelay/store/store.h"
#include "vmdelay/store/store_transfer.h"

static char port[16];

struct sink_run {
	uint64_t conns, bytes[8];
	int rc;
	struct vd_err err;
};

static void on_conn(void *ctx, const struct vd_transfer *t, const char *peer)
{
	struct sink_run *s = ctx;
	if (s->conns < 8)
		s->bytes[s->conns] = t->bytes;
	s->conns++;
}

static struct tperf_sink_opts sink_opts;

static void *sink_thread(void *arg)
{
	struct sink_run *s = arg;
	s->rc = tperf_sink_run(&sink_opts, on_conn, s, &s->err);
	return NULL;
}

/* A port nobody uses: bind to 0 and read it back would race; pick one from the PID. */
static void pick_port(int off)
{
	snprintf(port, sizeof(port), "%d", 20000 + (getpid() * 7 + off) % 30000);
}

static void send_repeated_to_sink(void **state)
{
	pick_port(0);
	sink_opts =
	    (struct tperf_sink_opts){.bind_addr = "127.0.0.1",
				     .port = port,
				     .max_conns = 3,
				     .buf_size = 4096,
				     .deadline = vd_now(CLOCK_MONOTONIC) + 20 * VD_NS_PER_SEC};
	struct sink_run s = {0};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, sink_thread, &s), 0);
	usleep(200000);
	struct tperf_send_opts o = {.host = "127.0.0.1",
				    .port = port,
				    .bytes = 100 * 1024,
				    .count = 3,
				    .msg_size = 1000,
				    .deadline = vd_now(CLOCK_MONOTONIC) + 20 * VD_NS_PER_SEC};
	struct vd_err err;
	assert_int_equal(tperf_resolve(&o, &err), 0);
	uint8_t *buf = calloc(1, o.msg_size);
	for (uint64_t i = 0; i < 3; i++) {
		struct vd_transfer t;
		int rc = tperf_send_one(&o, buf, i, &t, &err);
		if (rc)
			fail_msg("%s", err.msg);
		assert_int_equal(t.status, VD_XFER_OK);
		assert_int_equal(t.bytes, 102400);
		assert_int_equal(t.idx, i);
		assert_true(t.end > t.start);
		assert_true(fabs(t.throughput_bps - 102400 * 8e9 / (double)(t.end - t.start)) < 1);
	}
	pthread_join(th, NULL);
	tperf_send_cleanup();
	free(buf);
	assert_int_equal(s.rc, 0);
	assert_int_equal(s.conns, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(s.bytes[i], 102400);
}

static void refused_is_reported(void **state)
{
	pick_port(1); /* nothing listens there */
	struct tperf_send_opts o = {.host = "127.0.0.1",
				    .port = port,
				    .bytes = 10,
				    .count = 1,
				    .msg_size = 10,
				    .deadline = vd_now(CLOCK_MONOTONIC) + 5 * VD_NS_PER_SEC};
	struct vd_err err;
	assert_int_equal(tperf_resolve(&o, &err), 0);
	uint8_t buf[10] = {0};
	struct vd_transfer t;
	assert_int_equal(tperf_send_one(&o, buf, 0, &t, &err), -1);
	tperf_send_cleanup();
	assert_int_equal(t.status, VD_XFER_REFUSED);
	assert_true(isnan(t.throughput_bps));
	assert_non_null(strstr(err.msg, "connection refused"));
	assert_non_null(strstr(err.msg, port));
}

static void sink_stops_at_deadline(void **state)
{
	pick_port(2);
	struct tperf_sink_opts so = {.bind_addr = "::1",
				     .port = port,
				     .buf_size = 1024,
				     .deadline = vd_now(CLOCK_MONOTONIC) + 200 * VD_NS_PER_MS};
	struct sink_run s = {0};
	vd_ns t0 = vd_now(CLOCK_MONOTONIC);
	int rc = tperf_sink_run(&so, on_conn, &s, &s.err);
	if (rc && strstr(s.err.msg, "::1"))
		skip(); /* no IPv6 loopback here */
	assert_int_equal(rc, 0);
	assert_int_equal(s.conns, 0);
	assert_true(vd_now(CLOCK_MONOTONIC) - t0 < 5 * VD_NS_PER_SEC);
}

static void records_through_csv_and_sqlite(void **state)
{
	char dir[] = "/tmp/vd-tperf-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char csv[128], db[128], cmd[160];
	snprintf(csv, sizeof(csv), "%s/t.csv", dir);
	snprintf(db, sizeof(db), "%s/t.db", dir);
	struct vd_transfer in[3] = {
	    {.idx = 0,
	     .bytes = 102400,
	     .start = 1000000000,
	     .end = 1001000000,
	     .status = VD_XFER_OK},
	    {.idx = 1,
	     .bytes = 102400,
	     .start = 2000000000,
	     .end = 2000500000,
	     .status = VD_XFER_OK},
	    {.idx = 2, .bytes = 5, .start = 3000000000, .end = VD_NS_NONE, .status = VD_XFER_RESET},
	};
	for (int i = 0; i < 3; i++)
		vd_transfer_finish(&in[i]);
	assert_true(in[0].throughput_bps == 819200000.0);
	assert_true(in[1].throughput_bps == 1638400000.0);
	assert_true(isnan(in[2].throughput_bps));
	FILE *f = fopen(csv, "w");
	struct vd_out *o = vd_out_create(f, VD_OUT_CSV);
	for (int i = 0; i < 3; i++)
		vd_transfer_out_row(o, &in[i]);
	assert_int_equal(vd_out_destroy(o), 0);
	fclose(f);
	struct vd_transfer *back;
	size_t n;
	struct vd_err err;
	assert_int_equal(vd_transfer_load_csv(csv, &back, &n, &err), 0);
	assert_int_equal(n, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(back[i].bytes, in[i].bytes);
		assert_int_equal(back[i].start, in[i].start);
		assert_int_equal(back[i].end, in[i].end);
		assert_int_equal(back[i].status, in[i].status);
	}
	free(back);

	struct vd_store *st;
	assert_int_equal(vd_store_open(db, &st, &err), 0);
	struct vd_run_info info = {.tool = "tperf", .testbed = "unit", .start_ns = 1};
	int64_t run;
	assert_int_equal(vd_store_begin_run(st, &info, &run, &err), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(vd_store_add_transfer(st, run, &in[i], &err), 0);
	assert_int_equal(vd_store_end_run(st, run, 2, &err), 0);
	assert_int_equal(vd_store_load_transfers(st, run, &back, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_true(back[1].throughput_bps == 1638400000.0);
	assert_int_equal(back[2].status, VD_XFER_RESET);
	assert_int_equal(back[2].end, VD_NS_NONE);
	free(back);
	vd_store_close(st);

	/* a file that is not tperf's CSV names the problem */
	f = fopen(csv, "w");
	fputs("a,b\n1,2\n", f);
	fclose(f);
	assert_int_equal(vd_transfer_load_csv(csv, &back, &n, &err), -1);
	assert_non_null(strstr(err.msg, "no column 'idx'"));
	f = fopen(csv, "w");
	fputs("idx,bytes,start_ns,end_ns,status\n0,zz,1,2,ok\n", f);
	fclose(f);
	assert_int_equal(vd_transfer_load_csv(csv, &back, &n, &err), -1);
	assert_non_null(strstr(err.msg, "line 2"));
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(send_repeated_to_sink),
	    cmocka_unit_test(refused_is_reported),
	    cmocka_unit_test(sink_stops_at_deadline),
	    cmocka_unit_test(records_through_csv_and_sqlite),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
