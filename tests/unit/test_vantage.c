/* Unit tests: vantage point specs (NAME[:CLOCK]=PATH[#SELECT]) and the tping readers (CSV, JSON
 * lines, SQLite through the real store), format detection by content. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"
#include "vmdelay/match/match.h"
#include "vmdelay/match/probes.h"
#include "vmdelay/store/store.h"
#include "vmdelay/input/format.h"
#include "vmdelay/match/vantage.h"

/* The format name format.c gives path, or NULL when it cannot be read. */
static const char *detect(const char *path, struct vd_err *err)
{
	enum vd_format f;
	return vd_format_detect_file(path, &f, err) < 0 ? NULL : vd_format_name(f);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void spec_forms(void **state)
{
	struct vd_vantage_spec s;
	struct vd_err err;
	assert_int_equal(vd_vantage_spec_parse("wire:peer=/x/peer.pcap", &s, &err), 0);
	assert_string_equal(s.name, "wire");
	assert_string_equal(s.clock, "peer");
	assert_string_equal(s.path, "/x/peer.pcap");
	assert_string_equal(s.select, "");
	vd_vantage_spec_free(&s);

	assert_int_equal(vd_vantage_spec_parse("guest=g.pcapng#eth0", &s, &err), 0);
	assert_string_equal(s.name, "guest");
	assert_string_equal(s.clock, "");
	assert_string_equal(s.path, "g.pcapng");
	assert_string_equal(s.select, "eth0");
	vd_vantage_spec_free(&s);

	assert_int_equal(vd_vantage_spec_parse("traces/br0.pcap#*", &s, &err), 0);
	assert_string_equal(s.name, ""); /* bare path: named after the file when read */
	assert_string_equal(s.path, "traces/br0.pcap");
	assert_string_equal(s.select, "*");
	vd_vantage_spec_free(&s);

	/* an existing file whose name holds '=' and '#' is a bare path */
	write_file(testutil_tmp("a=b#c"), "x");
	assert_int_equal(vd_vantage_spec_parse(testutil_tmp("a=b#c"), &s, &err), 0);
	assert_string_equal(s.name, "");
	assert_string_equal(s.path, testutil_tmp("a=b#c"));
	assert_string_equal(s.select, "");
	vd_vantage_spec_free(&s);
}

/* A bare path's name (the TCP analysis names its traces the same way). */
static void name_from_path(void **state)
{
	char n[16];
	vd_vantage_name_from_path("/x/y/guest.pcapng", n, sizeof(n));
	assert_string_equal(n, "guest");
	vd_vantage_name_from_path("a.b.erf", n, sizeof(n));
	assert_string_equal(n, "a.b");
	vd_vantage_name_from_path(".hidden", n, sizeof(n));
	assert_string_equal(n, ".hidden");
}

static void spec_errors(void **state)
{
	struct vd_vantage_spec s;
	struct vd_err err;
	const char *bad[] = {
	    "",	     "=x.pcap",	     "wi re=x.pcap", "wire:=x.pcap", "wire:a b=x.pcap",
	    "wire=", "wire=x.pcap#", "w=#eth0"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(vd_vantage_spec_parse(bad[i], &s, &err), -1);
		assert_non_null(strstr(err.msg, bad[i])); /* the message quotes the argument */
	}
}

static const char csv[] =
    "seq,phase,status,user_tx_ns,sched_tx_ns,kernel_tx_ns,hw_tx_ns,kernel_rx_ns,hw_rx_ns,"
    "user_rx_ns,user_rtt_ns,kernel_rtt_ns,hw_rtt_ns,size,ttl\n"
    "1,rest-pre,ok,1000,1005,1010,,1900,,2000,1000,890,,64,64\n"
    "2,load,lost,3000,3005,3010,,,,,,,,-1,-1\n"
    "3,rest-post,ok,5000,5005,5010,,5900,,6000,1000,890,,64,64\n"
    "3,rest-post,duplicate,,,,,,,6500,,,,64,64\n";

static void check_tping(struct vd_vantage_set *set, const char *fmt)
{
	assert_int_equal(set->n, 2);
	struct vd_vantage *k = set->v[0], *u = set->v[1];
	assert_string_equal(k->name, "kernel");
	assert_string_equal(u->name, "user");
	assert_string_equal(u->format, fmt);
	assert_int_equal(u->records, 4);
	assert_int_equal(u->echoes, 6); /* 3 requests, 3 replies (one a duplicate) */
	assert_int_equal(k->echoes, 5);
	assert_int_equal(u->n, 3); /* the requests are kept, the replies paired as read */
	assert_int_equal(u->ev[0].ts, 1000);
	assert_int_equal(u->ev[0].phase, 0);
	assert_int_equal(u->npairs, 2);
	assert_int_equal(u->ev[u->pairs[0].req].seq, 1);
	assert_int_equal(u->pairs[0].rep_ts, 2000);
	assert_int_equal(k->ev[0].ts, 1010);
	assert_int_equal(k->pairs[0].rep_ts, 1900);
	assert_int_equal(u->ev[u->pairs[1].req].seq, 3);
	assert_int_equal(u->pairs[1].rep_ts, 6000);
	struct vd_err err;
	assert_int_equal(vd_match_pairs(u, &err), 0);
	assert_int_equal(u->stats.duplicates, 1);	  /* the 6500 reply */
	assert_int_equal(u->stats.unmatched_requests, 1); /* seq 2, lost */
	struct vd_echo e;
	vd_vantage_echo(u, 0, &e);
	assert_int_equal(e.kind, VD_ECHO_REQUEST);
	assert_int_equal(e.has_id, 0);
	assert_int_equal(e.src.family, 0);
}

static void tping_csv(void **state)
{
	write_file(testutil_tmp("run.csv"), csv);
	struct vd_err err;
	struct vd_vantage_spec s;
	assert_string_equal(detect(testutil_tmp("run.csv"), &err), "tping-csv");
	assert_int_equal(vd_vantage_spec_parse(testutil_tmp("run.csv"), &s, &err), 0);
	struct vd_vantage_set set = {0};
	assert_int_equal(vd_vantage_read(&s, &set, NULL, &err), 0);
	check_tping(&set, "tping-csv");
	vd_vantage_set_free(&set);
	vd_vantage_spec_free(&s);

	/* NAME with one selected point names it; with several, NAME.point */
	char arg[300];
	snprintf(arg, sizeof(arg), "guest:vm=%s#user", testutil_tmp("run.csv"));
	assert_int_equal(vd_vantage_spec_parse(arg, &s, &err), 0);
	assert_int_equal(vd_vantage_read(&s, &set, NULL, &err), 0);
	assert_int_equal(set.n, 1);
	assert_string_equal(set.v[0]->name, "guest");
	assert_string_equal(set.v[0]->clock, "vm");
	vd_vantage_set_free(&set);
	vd_vantage_spec_free(&s);

	snprintf(arg, sizeof(arg), "g=%s", testutil_tmp("run.csv"));
	assert_int_equal(vd_vantage_spec_parse(arg, &s, &err), 0);
	assert_int_equal(vd_vantage_read(&s, &set, NULL, &err), 0);
	assert_int_equal(set.n, 2);
	assert_string_equal(set.v[0]->name, "g.kernel");
	assert_string_equal(set.v[1]->name, "g.user");
	vd_vantage_set_free(&set);
	vd_vantage_spec_free(&s);

	/* hw asked for but absent; an unknown selector */
	snprintf(arg, sizeof(arg), "%s#hw", testutil_tmp("run.csv"));
	assert_int_equal(vd_vantage_spec_parse(arg, &s, &err), 0);
	assert_int_equal(vd_vantage_read(&s, &set, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "no hw timestamps"));
	vd_vantage_set_free(&set);
	vd_vantage_spec_free(&s);
	snprintf(arg, sizeof(arg), "%s#eth0", testutil_tmp("run.csv"));
	assert_int_equal(vd_vantage_spec_parse(arg, &s, &err), 0);
	assert_int_equal(vd_vantage_read(&s, &set, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "bad selector"));
	vd_vantage_set_free(&set);
	vd_vantage_spec_free(&s);
}

static void tping_csv_errors(void **state)
{
	write_file(testutil_tmp("bad.csv"),
		   "seq,phase,status,user_tx_ns,user_rx_ns\n1,load,ok,12x,40\n");
	struct vd_err err;
	struct vd_vantage_spec s;
	struct vd_vantage_set set = {0};
	assert_int_equal(vd_vantage_spec_parse(testutil_tmp("bad.csv"), &s, &err), 0);
	assert_int_equal(vd_vantage_read(&s, &set, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "line 2"));
	assert_non_null(strstr(err.msg, "user_tx_ns"));
	vd_vantage_set_free(&set);
	vd_vantage_spec_free(&s);
}

static void tping_json(void **state)
{
	write_file(
	    testutil_tmp("run.json"),
	    "{\"seq\": 1, \"phase\": \"rest-pre\", \"status\": \"ok\", \"user_tx_ns\": 1000,"
	    " \"sched_tx_ns\": 1005, \"kernel_tx_ns\": 1010, \"hw_tx_ns\": null,"
	    " \"kernel_rx_ns\": 1900, \"hw_rx_ns\": null, \"user_rx_ns\": 2000, \"size\": 64}\n"
	    "{\"seq\":2,\"phase\":\"load\",\"status\":\"lost\",\"user_tx_ns\":3000,"
	    "\"kernel_tx_ns\":3010}\n"
	    "\n"
	    "{\"seq\":3,\"phase\":\"rest-post\",\"status\":\"ok\",\"user_tx_ns\":5000,"
	    "\"kernel_tx_ns\":5010,\"kernel_rx_ns\":5900,\"user_rx_ns\":6000}\n"
	    "{\"seq\":3,\"phase\":\"rest-post\",\"status\":\"duplicate\",\"user_rx_ns\":6500}\n");
	struct vd_err err;
	struct vd_vantage_spec s;
	assert_string_equal(detect(testutil_tmp("run.json"), &err), "tping-json");
	assert_int_equal(vd_vantage_spec_parse(testutil_tmp("run.json"), &s, &err), 0);
	struct vd_vantage_set set = {0};
	assert_int_equal(vd_vantage_read(&s, &set, NULL, &err), 0);
	check_tping(&set, "tping-json");
	vd_vantage_set_free(&set);
	vd_vantage_spec_free(&s);
}

static void tping_sqlite(void **state)
{
	struct vd_err err;
	struct vd_store *st;
	assert_int_equal(vd_store_open(testutil_tmp("runs.db"), &st, &err), 0);
	struct vd_run_info info = {.tool = "tping", .command_line = "tping x"};
	int64_t run;
	assert_int_equal(vd_store_begin_run(st, &info, &run, &err), 0);
	static const struct {
		uint32_t seq;
		enum vd_phase ph;
		enum vd_probe_status stt;
		vd_ns utx, ktx, krx, urx;
	} rows[] = {
	    {1, VD_PHASE_REST_PRE, VD_PROBE_OK, 1000, 1010, 1900, 2000},
	    {2, VD_PHASE_LOAD, VD_PROBE_LOST, 3000, 3010, VD_NS_NONE, VD_NS_NONE},
	    {3, VD_PHASE_REST_POST, VD_PROBE_OK, 5000, 5010, 5900, 6000},
	    {3, VD_PHASE_REST_POST, VD_PROBE_DUPLICATE, VD_NS_NONE, VD_NS_NONE, VD_NS_NONE, 6500},
	};
	for (size_t i = 0; i < 4; i++) {
		struct vd_probe p;
		vd_probe_init(&p, rows[i].seq);
		p.phase = rows[i].ph;
		p.status = rows[i].stt;
		p.user_tx = rows[i].utx;
		p.kernel_tx = rows[i].ktx;
		p.kernel_rx = rows[i].krx;
		p.user_rx = rows[i].urx;
		assert_int_equal(vd_store_add_probe(st, run, &p, &err), 0);
	}
	assert_int_equal(vd_store_end_run(st, run, 10, &err), 0);
	vd_store_close(st);
	assert_string_equal(detect(testutil_tmp("runs.db"), &err), "tping-sqlite");
	struct vd_vantage_spec s;
	assert_int_equal(vd_vantage_spec_parse(testutil_tmp("runs.db"), &s, &err), 0);
	struct vd_vantage_set set = {0};
	if (vd_vantage_read(&s, &set, NULL, &err) < 0)
		fail_msg("%s", err.msg);
	check_tping(&set, "tping-sqlite");
	vd_vantage_set_free(&set);
	vd_vantage_spec_free(&s);
	/* a run that does not exist */
	char arg[300];
	snprintf(arg, sizeof(arg), "%s#run=99", testutil_tmp("runs.db"));
	assert_int_equal(vd_vantage_spec_parse(arg, &s, &err), 0);
	assert_int_equal(vd_vantage_read(&s, &set, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "run 99 has no probes"));
	vd_vantage_set_free(&set);
	vd_vantage_spec_free(&s);
}

static void detection_by_content(void **state)
{
	struct vd_err err;
	/* a pcap magic in a file called .csv is a pcap */
	FILE *f = fopen(testutil_tmp("trace.csv"), "wb");
	assert_non_null(f);
	const unsigned char magic[4] = {0xd4, 0xc3, 0xb2, 0xa1};
	fwrite(magic, 1, 4, f);
	fclose(f);
	assert_string_equal(detect(testutil_tmp("trace.csv"), &err), "pcap");
	write_file(testutil_tmp("notes.pcap"), "hello\n");
	assert_string_equal(detect(testutil_tmp("notes.pcap"), &err), "unknown");
	assert_null(detect(testutil_tmp("missing"), &err));
	assert_non_null(strstr(err.msg, "missing"));
}

static void unique_names(void **state)
{
	struct vd_vantage_set set = {0};
	const char *names[] = {"a", "a", "b", "a"};
	for (int i = 0; i < 4; i++)
		assert_int_equal(vd_vantage_set_append(&set, vd_vantage_new(names[i], "", "", "")),
				 0);
	vd_vantage_set_unique_names(&set);
	assert_string_equal(set.v[0]->name, "a");
	assert_string_equal(set.v[1]->name, "a-2");
	assert_string_equal(set.v[2]->name, "b");
	assert_string_equal(set.v[3]->name, "a-3");
	vd_vantage_set_free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(spec_forms),	cmocka_unit_test(name_from_path),
	    cmocka_unit_test(spec_errors),	cmocka_unit_test(tping_csv),
	    cmocka_unit_test(tping_csv_errors), cmocka_unit_test(tping_json),
	    cmocka_unit_test(tping_sqlite),	cmocka_unit_test(detection_by_content),
	    cmocka_unit_test(unique_names),
	};
	return cmocka_run_group_tests(tests, testutil_setup, testutil_teardown);
}
