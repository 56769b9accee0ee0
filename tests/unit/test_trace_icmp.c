/* Unit tests: for every capture that expected/ lists (tshark's answers), the ICMP / ICMPv6 echo
 * pairs our readers and decoder find — id, seq, frame numbers, request and reply times in ns,
 * RTT, addresses, unanswered requests and unmatched replies — equal tshark's. The pairing rule is
 * the one the expected files state: a reply goes to the earliest still-unmatched earlier request
 * with the same family, id and seq and swapped addresses. */
#include <arpa/inet.h>
#include <dirent.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "realdata.h"
#include "vmdelay/input/decode.h"
#include "vmdelay/input/trace.h"

#define MAXP 64

struct pair {
	char family[8];
	unsigned id, seq;
	uint64_t req_frame, rep_frame;
	vd_ns req, rep, rtt;
	char src[64], dst[64];
};

struct echo {
	int v6, request, used;
	unsigned id, seq;
	uint64_t frame;
	vd_ns ts;
	struct vd_addr src, dst;
};

/* "1263340801.194180787" or "33509.731" (a count of µs) to an integer scaled by 10^digits. */
static vd_ns parse_fixed(const char *s, int digits)
{
	char *end;
	vd_ns whole = strtoll(s, &end, 10), frac = 0;
	int n = 0;
	if (*end == '.')
		for (end++; *end >= '0' && *end <= '9'; end++, n++)
			if (n < digits)
				frac = frac * 10 + (*end - '0');
	for (; n < digits; n++)
		frac *= 10;
	vd_ns scale = 1;
	for (int i = 0; i < digits; i++)
		scale *= 10;
	return whole * scale + frac;
}

static int read_expected(const char *path, struct pair *p, int *np, int counts[5])
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[1024];
	*np = 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "# counts:", 9) == 0) {
			sscanf(line,
			       "# counts: requests=%d replies=%d pairs=%d unanswered_requests=%d "
			       "unmatched_replies=%d",
			       &counts[0], &counts[1], &counts[2], &counts[3], &counts[4]);
			continue;
		}
		if (line[0] == '#' || strncmp(line, "family", 6) == 0 || *np == MAXP)
			continue;
		struct pair *q = &p[*np];
		char req[32], rep[32], rtt[32];
		unsigned long long rf, pf;
		if (sscanf(line, "%7s %u %u %llu %31s %llu %31s %31s %*s %*s %63s %63s", q->family,
			   &q->id, &q->seq, &rf, req, &pf, rep, rtt, q->src, q->dst) != 10)
			continue;
		q->req_frame = rf;
		q->rep_frame = pf;
		q->req = parse_fixed(req, 9);
		q->rep = parse_fixed(rep, 9);
		q->rtt = parse_fixed(rtt, 3); /* µs with 3 decimals = ns */
		(*np)++;
	}
	fclose(f);
	return 0;
}

static int addr_eq(const struct vd_addr *a, const struct vd_addr *b)
{
	size_t n = a->family == AF_INET ? 4 : 16;
	return a->family == b->family && memcmp(a->bytes, b->bytes, n) == 0;
}

static void check_file(const char *name)
{
	char path[1200], exp_path[1300];
	realdata_path(path, sizeof(path), name);
	snprintf(exp_path, sizeof(exp_path), "%s/expected/%s.txt", realdata_dir(), name);
	struct pair want[MAXP];
	int nwant, counts[5] = {-1, -1, -1, -1, -1};
	assert_int_equal(read_expected(exp_path, want, &nwant, counts), 0);

	struct vd_trace *tr;
	struct vd_err err = {0};
	if (vd_trace_open(path, &tr, &err) < 0)
		fail_msg("%s: %s", name, err.msg);
	static struct echo e[4096];
	int ne = 0, rc;
	struct vd_pkt pkt;
	while ((rc = vd_trace_next(tr, &pkt, &err)) == 1) {
		struct vd_decoded d;
		struct vd_err derr;
		if (vd_decode(&pkt, &d, &derr) < 0 || d.l4 != VD_L4_ICMP)
			continue;
		if (!d.icmp_is_echo_request && !d.icmp_is_echo_reply)
			continue;
		assert_true(ne < 4096);
		e[ne++] = (struct echo){.v6 = d.src.family == AF_INET6,
					.request = d.icmp_is_echo_request,
					.id = d.icmp_id,
					.seq = d.icmp_seq,
					.frame = pkt.index,
					.ts = pkt.ts,
					.src = d.src,
					.dst = d.dst};
	}
	if (rc < 0)
		fail_msg("%s: %s", name, err.msg);
	vd_trace_close(tr);

	int requests = 0, replies = 0, got = 0, unmatched = 0;
	for (int i = 0; i < ne; i++) {
		if (e[i].request) {
			requests++;
			continue;
		}
		replies++;
		int j;
		for (j = 0; j < i; j++)
			if (e[j].request && !e[j].used && e[j].v6 == e[i].v6 &&
			    e[j].id == e[i].id && e[j].seq == e[i].seq &&
			    addr_eq(&e[j].src, &e[i].dst) && addr_eq(&e[j].dst, &e[i].src))
				break;
		if (j == i) {
			unmatched++;
			continue;
		}
		e[j].used = 1;
		/* Pairs come out in reply order; expected/ lists them in the same order. */
		assert_true(got < nwant);
		const struct pair *w = &want[got++];
		char src[64], dst[64];
		inet_ntop(e[j].v6 ? AF_INET6 : AF_INET, e[j].src.bytes, src, sizeof(src));
		inet_ntop(e[j].v6 ? AF_INET6 : AF_INET, e[j].dst.bytes, dst, sizeof(dst));
		assert_string_equal(e[j].v6 ? "icmpv6" : "icmpv4", w->family);
		assert_int_equal(e[j].id, w->id);
		assert_int_equal(e[j].seq, w->seq);
		assert_int_equal(e[j].frame, w->req_frame);
		assert_int_equal(e[i].frame, w->rep_frame);
		assert_int_equal(e[j].ts, w->req);
		assert_int_equal(e[i].ts, w->rep);
		assert_int_equal(e[i].ts - e[j].ts, w->rtt);
		assert_string_equal(src, w->src);
		assert_string_equal(dst, w->dst);
	}
	assert_int_equal(got, nwant);
	assert_int_equal(requests, counts[0]);
	assert_int_equal(replies, counts[1]);
	assert_int_equal(got, counts[2]);
	assert_int_equal(requests - got, counts[3]);
	assert_int_equal(unmatched, counts[4]);
}

static void echo_pairs_equal_tshark(void **state)
{
	const char *dir = realdata_dir();
	if (!dir)
		skip();
	char exp_dir[1100];
	snprintf(exp_dir, sizeof(exp_dir), "%s/expected", dir);
	DIR *d = opendir(exp_dir);
	assert_non_null(d);
	struct dirent *de;
	int files = 0;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n < 5 || strcmp(de->d_name + n - 4, ".txt") != 0)
			continue;
		char name[256];
		snprintf(name, sizeof(name), "%.*s", (int)(n - 4), de->d_name);
		print_message("checking %s\n", name);
		check_file(name);
		files++;
	}
	closedir(d);
	assert_true(files >= 17);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(echo_pairs_equal_tshark),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
