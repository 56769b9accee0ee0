/* Unit tests: ACK inter-arrival histogram, reference line, ACK-compression events and the
 * throughput series, on synthetic ACK streams whose spacing the test sets. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "vmdelay/tcp/ackcomp.h"
#include "vmdelay/tcp/ackhist.h"
#include "vmdelay/core/linhist.h"
#include "vmdelay/match/pktmatch.h"
#include "vmdelay/tcp/tcpan.h"
#include "vmdelay/tcp/tput.h"

#define US VD_NS_PER_US

/* Generator: `plain` ACKs spaced `gap` apart, then `batches` batches of `per_batch` ACKs spaced
 * `inner` apart, the batches `outer` apart. Every ACK advances by one segment. */
struct gen {
	vd_ns t;
	uint32_t ack;
	struct vd_ackhist_cfg cfg;
	struct vd_acklast last;
};

static void feed(struct vd_ackhist *a, struct gen *g, vd_ns gap, int dup)
{
	g->t += gap;
	if (!dup)
		g->ack += 1448;
	vd_ackhist_add(a, &g->cfg, &g->last, g->t, g->ack, 512);
}

static void uncompressed_then_compressed(void **state)
{
	struct vd_ackhist ah;
	struct vd_ackhist_detail a;
	struct gen g = {.t = 1000 * VD_NS_PER_SEC, .ack = 1, .cfg = {10 * US, 10000, 120 * US, 2}};
	vd_ackhist_init(&ah);
	vd_ackhist_detail_init(&a, &g.cfg);
	ah.detail = &a;
	feed(&ah, &g, 0, 0);
	/* 100 gaps of 240 µs (delayed ACKs at 100 Mbit/s): nothing below 120 µs. */
	for (int i = 0; i < 100; i++)
		feed(&ah, &g, 240 * US, 0);
	assert_int_equal(a.h.total, 100);
	assert_int_equal(a.below_ref, 0);
	assert_int_equal(a.events, 0);
	assert_int_equal(vd_linhist_bin(&a.h, 24), 100);
	/* 20 batches of 5 ACKs 5 µs apart (4 compressed gaps each), batches 1000 µs apart. */
	for (int b = 0; b < 20; b++) {
		feed(&ah, &g, 1000 * US, 0);
		for (int i = 0; i < 4; i++)
			feed(&ah, &g, 5 * US, 0);
	}
	assert_int_equal(g.last.acks, 201);
	struct vd_ackhist_stats st;
	vd_ackhist_read(&ah, &g.last, NULL, &st);
	assert_int_equal(st.gaps, 200);
	assert_int_equal(a.below_ref, 80);
	assert_int_equal(st.below_ref, 80);
	assert_true(fabs(vd_ackhist_fraction_below(&st) - 0.4) < 1e-12);
	assert_int_equal(a.events, 20);
	assert_int_equal(a.event_acks, 100);
	assert_int_equal(vd_linhist_bin(&a.h, 0), 80);
	assert_int_equal(vd_linhist_bin(&a.h, 24), 100);
	assert_int_equal(vd_linhist_bin(&a.h, 100), 20);
	uint64_t sum = 0;
	for (size_t i = vd_linhist_first(&a.h); i < vd_linhist_end(&a.h); i++)
		sum += vd_linhist_bin(&a.h, i);
	assert_int_equal(sum, 200);
	assert_int_equal(vd_linhist_count_below(&a.h, 120 * US), 80);
	/* The modes: 240 µs (100) first, then 0 µs (80), then 1000 µs (20). */
	size_t m[4];
	assert_int_equal(vd_linhist_modes(&a.h, 0.01, m, 4), 3);
	assert_int_equal(m[0], 24);
	assert_int_equal(m[1], 0);
	assert_int_equal(m[2], 100);
	vd_ackhist_free(&ah);
}

static void runs_shorter_than_an_event_and_duplicates(void **state)
{
	struct vd_ackhist ah;
	struct vd_ackhist_detail a;
	struct gen g = {.t = 0, .ack = 1, .cfg = {10 * US, 100, 120 * US, 2}};
	vd_ackhist_init(&ah);
	vd_ackhist_detail_init(&a, &g.cfg);
	ah.detail = &a;
	feed(&ah, &g, 0, 0);
	/* pairs: one compressed gap then a normal one -> below_ref counts, no event */
	for (int i = 0; i < 10; i++) {
		feed(&ah, &g, 50 * US, 0);
		feed(&ah, &g, 300 * US, 0);
	}
	assert_int_equal(a.below_ref, 10);
	assert_int_equal(a.events, 0);
	/* three duplicates 20 µs apart: one event, marked as duplicates in bin 2 */
	for (int i = 0; i < 3; i++)
		feed(&ah, &g, 20 * US, 1);
	assert_int_equal(ah.dups, 3);
	assert_int_equal(a.events, 1);
	assert_int_equal(vd_linhist_bin_marked(&a.h, 2), 3);
	assert_int_equal(vd_linhist_bin(&a.h, 2), 3);
	/* a gap past the last bin (100 bins of 10 µs = 1 ms) goes to overflow, counted with the
	 * gaps but not in the bins */
	feed(&ah, &g, 5 * VD_NS_PER_MS, 0);
	struct vd_ackhist_stats st;
	vd_ackhist_read(&ah, &g.last, NULL, &st);
	assert_int_equal(st.overflow, 1);
	assert_int_equal(st.gaps, 24);
	assert_int_equal(a.h.total, 23);
	vd_ackhist_free(&ah);
}

struct series_sum {
	uint64_t bytes[2];
	int rows[2], partial[2];
};

static void on_series(void *ctx, const struct vd_tcpan_flow *f, int which, vd_ns start, vd_ns len,
		      uint64_t bytes, int partial)
{
	struct series_sum *s = ctx;
	s->bytes[which] += bytes;
	s->rows[which]++;
	s->partial[which] += partial;
}

static struct vd_decoded seg(int from_client, uint32_t seq, uint32_t ack, uint8_t flags,
			     uint32_t len)
{
	struct vd_decoded d;
	memset(&d, 0, sizeof(d));
	d.l4 = VD_L4_TCP;
	d.ip_proto = 6;
	struct vd_addr c = {.family = AF_INET, .bytes = {10, 0, 0, 1}};
	struct vd_addr s = {.family = AF_INET, .bytes = {10, 0, 0, 2}};
	d.src = from_client ? c : s;
	d.dst = from_client ? s : c;
	d.sport = from_client ? 40000 : 5001;
	d.dport = from_client ? 5001 : 40000;
	d.tcp_seq = seq;
	d.tcp_ack = ack;
	d.tcp_flags = flags;
	d.tcp_win = 1000;
	d.tcp_payload_len = len;
	return d;
}

/* A whole connection through tcpan: handshake RTT, every ACK advance in the series, FIN not
 * counted as a byte, ACK histogram on the receiver's pure ACKs. */
static void connection_through_tcpan(void **state)
{
	struct series_sum sum = {0};
	struct vd_tcpan_opts o = {.bin_ns = 10 * US,
				  .max_bins = 10000,
				  .ref_ns = 120 * US,
				  .min_run = 2,
				  .interval = VD_NS_PER_SEC,
				  .max_flows = 4,
				  .series = on_series,
				  .ctx = &sum};
	struct vd_tcpan *an = vd_tcpan_create(&o);
	assert_non_null(an);
	vd_ns t = 5 * VD_NS_PER_SEC;
	uint32_t cisn = 1000, sisn = 90000;
	struct vd_decoded d = seg(1, cisn, 0, VD_TCP_SYN, 0);
	assert_int_equal(vd_tcpan_add(an, 0, t, &d), 0);
	d = seg(0, sisn, cisn + 1, VD_TCP_SYN | VD_TCP_ACK, 0);
	assert_int_equal(vd_tcpan_add(an, 0, t + 100 * US, &d), 0);
	d = seg(1, cisn + 1, sisn + 1, VD_TCP_ACK, 0);
	assert_int_equal(vd_tcpan_add(an, 0, t + 200 * US, &d), 0);
	/* 1000 segments of 1000 bytes, each ACKed 100 µs later; 2 segments per ms. */
	uint32_t seq = cisn + 1;
	vd_ns ts = t + VD_NS_PER_MS;
	for (int i = 0; i < 1000; i++) {
		d = seg(1, seq, sisn + 1, VD_TCP_ACK, 1000);
		assert_int_equal(vd_tcpan_add(an, 0, ts, &d), 0);
		seq += 1000;
		d = seg(0, sisn + 1, seq, VD_TCP_ACK, 0);
		assert_int_equal(vd_tcpan_add(an, 0, ts + 100 * US, &d), 0);
		ts += 500 * US;
	}
	d = seg(1, seq, sisn + 1, VD_TCP_ACK | VD_TCP_FIN, 0);
	assert_int_equal(vd_tcpan_add(an, 0, ts, &d), 0);
	d = seg(0, sisn + 1, seq + 1, VD_TCP_ACK | VD_TCP_FIN, 0);
	assert_int_equal(vd_tcpan_add(an, 0, ts + 100 * US, &d), 0);
	vd_tcpan_finish(an);
	assert_int_equal(vd_tcpan_flow_count(an), 1);
	struct vd_tcpan_flow *f = vd_tcpan_flow(an, 0);
	assert_int_equal(vd_tcpan_data_dir(f), 0);
	assert_int_equal(f->rtt_src, VD_RTT_HANDSHAKE);
	assert_int_equal(f->rtt, 200 * US);
	const struct vd_tcpan_dir *r = &f->d[1];
	assert_int_equal(r->acked_bytes, 1000000);
	assert_int_equal(sum.bytes[VD_TPUT_LONG], 1000000);
	assert_int_equal(sum.bytes[VD_TPUT_RTT], 1000000);
	assert_int_equal(sum.partial[VD_TPUT_LONG], 1);
	/* 1000 pure ACKs (the FIN is not one), 999 gaps of 500 µs */
	assert_int_equal(r->pure.acks, 1000);
	struct vd_ackhist_stats st;
	vd_tcpan_ackgaps(an, r, &st);
	assert_int_equal(vd_linhist_bin(st.h, 50), 999);
	assert_int_equal(st.below_ref, 0);
	assert_int_equal(f->d[0].data_pkts, 1000);
	vd_tcpan_destroy(an);
}

/* The gap counts a stream keeps without its detail, and the detail allocated at its first gap
 * in range, below the reference or negative, give what one histogram over every gap gives (the
 * layout before the split; the reference below is that algorithm): random gaps short, in the
 * bins, past them and negative, duplicates among them, with the reference line inside the
 * bins' range and past it. */
static void gap_counts_equal_one_histogram_of_every_gap(void **state)
{
	(void)state;
	const vd_ns refs[] = {120 * US, 3 * VD_NS_PER_MS};
	for (size_t k = 0; k < sizeof(refs) / sizeof(refs[0]); k++) {
		/* 100 bins of 10 µs: gaps from 1 ms on are overflow */
		struct vd_tcpan_opts o = {.bin_ns = 10 * US,
					  .max_bins = 100,
					  .ref_ns = refs[k],
					  .min_run = 2,
					  .interval = VD_NS_PER_SEC,
					  .max_flows = 4};
		struct vd_tcpan *an = vd_tcpan_create(&o);
		assert_non_null(an);
		struct vd_linhist ref;
		vd_linhist_init(&ref, o.bin_ns, o.max_bins);
		uint64_t below = 0, events = 0, event_acks = 0, dups = 0;
		unsigned run = 0;
		srand(7 + (unsigned)k);
		vd_ns t = 10 * VD_NS_PER_SEC;
		uint32_t ack = 1;
		uint16_t win = 1000;
		/* long gaps only at first: the detail comes later, with the first short one */
		for (int i = 0; i < 20000; i++) {
			int r = rand() % 100;
			vd_ns gap = i < 50 || r < 40 ? VD_NS_PER_MS + rand() % (50 * VD_NS_PER_MS)
				    : r < 70	     ? rand() % (120 * US)
				    : r < 97	     ? rand() % VD_NS_PER_MS
						     : -(vd_ns)(rand() % (5 * US)) - 1;
			int dup = i && rand() % 10 == 0;
			if (!dup)
				ack += 1448;
			t += gap;
			struct vd_decoded d = seg(0, 5001, ack, VD_TCP_ACK, 0);
			d.tcp_win = win;
			assert_int_equal(vd_tcpan_add(an, 0, t, &d), 0);
			if (!i)
				continue;
			dups += dup;
			vd_linhist_add(&ref, gap, dup);
			if (gap < o.ref_ns) {
				below++;
				if (++run == o.min_run) {
					events++;
					event_acks += o.min_run + 1;
				} else if (run > o.min_run) {
					event_acks++;
				}
			} else {
				run = 0;
			}
		}
		struct vd_tcpan_flow *f = vd_tcpan_flow(an, 0);
		struct vd_ackhist_stats st;
		vd_tcpan_ackgaps(an, &f->d[0], &st);
		assert_int_equal(st.gaps, ref.total);
		assert_int_equal(st.dups, dups);
		assert_int_equal(st.below_ref, below);
		assert_int_equal(st.events, events);
		assert_int_equal(st.event_acks, event_acks);
		assert_int_equal(st.overflow, ref.overflow);
		assert_int_equal(st.negative, ref.underflow);
		assert_true(events > 0 && ref.overflow > 0 && ref.underflow > 0);
		for (size_t i = 0; i < o.max_bins; i++) {
			assert_int_equal(vd_linhist_bin(st.h, i), vd_linhist_bin(&ref, i));
			assert_int_equal(vd_linhist_bin_marked(st.h, i),
					 vd_linhist_bin_marked(&ref, i));
		}
		vd_linhist_free(&ref);
		vd_tcpan_destroy(an);
	}
}

/* The flow of the packet just added (what the two-point matching updates) is the one a lookup
 * finds, in either direction and at either vantage point; none for a packet the analysis
 * ignored (no time) or refused (table full). */
static void last_flow_is_the_lookups(void **state)
{
	struct vd_tcpan_opts o = {.bin_ns = 10 * US,
				  .max_bins = 100,
				  .ref_ns = 120 * US,
				  .min_run = 2,
				  .interval = VD_NS_PER_SEC,
				  .max_flows = 2};
	struct vd_tcpan *an = vd_tcpan_create(&o);
	assert_non_null(an);
	for (int i = 0; i < 40; i++) {
		uint32_t v = (uint32_t)(i % 2);
		struct vd_decoded d =
		    seg(i % 3 != 0, 1000 + (uint32_t)i, 5000, VD_TCP_ACK, i % 3 ? 100 : 0);
		assert_int_equal(vd_tcpan_add(an, v, VD_NS_PER_SEC + i * US, &d), 0);
		int dir_last = -1, dir_lookup = -2;
		struct vd_tcpan_flow *f = vd_tcpan_last(an, &dir_last);
		assert_non_null(f);
		assert_ptr_equal(f, vd_tcpan_lookup(an, v, &d, &dir_lookup));
		assert_int_equal(dir_last, dir_lookup);
	}
	int dir;
	struct vd_decoded d = seg(1, 1, 1, VD_TCP_ACK, 0);
	vd_tcpan_add(an, 0, VD_NS_NONE, &d);
	assert_null(vd_tcpan_last(an, &dir));
	d.sport = 1; /* a third flow: the table holds two */
	assert_int_equal(vd_tcpan_add(an, 0, VD_NS_PER_SEC, &d), -1);
	assert_null(vd_tcpan_last(an, &dir));
	vd_tcpan_destroy(an);
}

/* Endpoints are written as inet_ntop and "%s:%u" write them (IPv6 in brackets): every byte,
 * and ports on both sides of each change in their number of digits. */
static void endpoints_as_inet_ntop(void **state)
{
	static const uint16_t digits_edge[] = {0, 9, 10, 99, 100, 999, 1000, 9999, 10000, 65535};
	size_t nedge = sizeof(digits_edge) / sizeof(digits_edge[0]);
	struct vd_flowkey k;
	memset(&k, 0, sizeof(k));
	srand(11);
	for (int i = 0; i < 3000; i++) {
		k.addr[0].family = AF_INET;
		k.addr[1].family = i % 10 ? AF_INET : AF_INET6;
		for (int b = 0; b < 16; b++)
			k.addr[0].bytes[b] = k.addr[1].bytes[b] =
			    (uint8_t)(i < 256 ? (b < 4 ? i : 0) : rand());
		k.port[0] = (uint16_t)(i < 256 ? i * 257 : rand());
		k.port[1] = (uint16_t)(i % 7 ? rand() : 65535);
		if ((size_t)i < nedge) /* (the first one's address is IPv6) */
			k.port[1] = digits_edge[i];
		for (int e = 0; e < 2; e++) {
			char got[80], addr[64], want[80];
			vd_flowkey_endpoint(&k, e, got, sizeof(got));
			int v6 = k.addr[e].family == AF_INET6;
			inet_ntop(v6 ? AF_INET6 : AF_INET, k.addr[e].bytes, addr, sizeof(addr));
			snprintf(want, sizeof(want), v6 ? "[%s]:%u" : "%s:%u", addr, k.port[e]);
			assert_string_equal(got, want);
		}
	}
}

static void mid_stream_flow_samples_rtt(void **state)
{
	struct vd_tcpan_opts o = {.bin_ns = 10 * US,
				  .max_bins = 100,
				  .ref_ns = 120 * US,
				  .min_run = 2,
				  .interval = VD_NS_PER_SEC,
				  .max_flows = 1};
	struct vd_tcpan *an = vd_tcpan_create(&o);
	struct vd_decoded d = seg(1, 5000, 7, VD_TCP_ACK, 100);
	assert_int_equal(vd_tcpan_add(an, 0, 1000, &d), 0);
	d = seg(0, 7, 5100, VD_TCP_ACK, 0);
	assert_int_equal(vd_tcpan_add(an, 0, 1000 + 3 * VD_NS_PER_MS, &d), 0);
	struct vd_tcpan_flow *f = vd_tcpan_flow(an, 0);
	assert_false(f->first_was_syn);
	assert_int_equal(f->rtt_src, VD_RTT_SAMPLE);
	assert_int_equal(f->rtt, 3 * VD_NS_PER_MS);
	/* a second flow does not fit: refused, counted */
	d = seg(1, 1, 1, VD_TCP_ACK, 0);
	d.sport = 1;
	assert_int_equal(vd_tcpan_add(an, 0, 2000, &d), -1);
	assert_int_equal(vd_tcpan_refused(an), 1);
	vd_tcpan_destroy(an);
}

static void tput_intervals(void **state)
{
	struct vd_tput t;
	vd_tput_init(&t);
	vd_tput_add(&t, 100, 1000, 10, NULL);
	vd_tput_add(&t, 100, 1050, 10, NULL);
	vd_tput_add(&t, 100, 1350, 30,
		    NULL); /* closes [1000,1100) 20 B, [1100,1200) 0, [1200,1300) 0 */
	assert_int_equal(t.intervals, 3);
	assert_int_equal(t.total, 50);
	/* 20 bytes in 100 ns = 1.6e9 bit/s; mean over three intervals */
	assert_true(fabs(vd_tput_mean_bps(&t) - 1.6e9 / 3) < 1);
	assert_true(t.max_bps == 1.6e9 && t.min_bps == 0);
}

struct rows {
	int n;
	uint64_t bytes;
	vd_ns len;
};

static void count_rows(void *ctx, vd_ns start, vd_ns len, uint64_t bytes, int partial)
{
	struct rows *r = ctx;
	r->n++;
	r->bytes += bytes;
	r->len += len;
}

/* An idle hour at a 50 µs timescale: one row for the empty stretch, statistics still per
 * interval, and the series still integrates to the bytes. */
static void tput_idle_stretch(void **state)
{
	struct rows r = {0};
	struct vd_tput t;
	struct vd_tput_emit e = {count_rows, &r};
	vd_tput_init(&t);
	vd_tput_add(&t, 50 * US, 0, 100, &e);
	vd_tput_add(&t, 50 * US, 3600 * VD_NS_PER_SEC + 10 * US, 200, &e);
	vd_tput_finish(&t, 50 * US, &e);
	assert_int_equal(r.n, 3); /* the first interval, the idle stretch, the last (partial) */
	assert_int_equal(r.bytes, 300);
	assert_int_equal(t.intervals, 3600 * 20000);
	assert_true(t.min_bps == 0);
	assert_true(t.max_bps == 100 * 8e9 / (50 * US));
}

struct tiles {
	vd_ns next; /* where the next row must start */
	uint64_t bytes;
	int rows, bad;
};

static void check_tile(void *ctx, vd_ns start, vd_ns len, uint64_t bytes, int partial)
{
	struct tiles *t = ctx;
	if (t->rows++ && start != t->next)
		t->bad++;
	t->next = start + len;
	t->bytes += bytes;
}

/* Whatever the sample times (in the open interval, far past it, before the start, or so large
 * that the open interval's end is beyond the time range), the rows follow one another without
 * gap or overlap and hold every byte added; the statistics count every closed interval. */
static void tput_rows_tile_the_series(void **state)
{
	static const vd_ns intervals[] = {1000, 50 * US, VD_NS_PER_SEC, INT64_MAX / 4};
	srand(5);
	for (size_t k = 0; k < sizeof(intervals) / sizeof(intervals[0]); k++) {
		struct tiles tl = {0};
		struct vd_tput t;
		struct vd_tput_emit e = {check_tile, &tl};
		vd_tput_init(&t);
		vd_ns ts = 1000;
		uint64_t added = 0;
		for (int i = 0; i < 20000; i++) {
			int r = rand() % 100;
			if (r < 80)
				ts += rand() % 300; /* mostly within an interval */
			else if (r < 95)
				ts += (vd_ns)(rand() % 1000) * 1000;
			else if (r < 97)
				ts -= 500; /* a little back in time */
			else if (ts < INT64_MAX / 2)
				ts += INT64_MAX / 8; /* near the end of the time range */
			uint64_t b = (uint64_t)(rand() % 1500);
			vd_tput_add(&t, intervals[k], ts, b, &e);
			added += b;
		}
		uint64_t closed = t.intervals;
		vd_tput_finish(&t, intervals[k], &e);
		assert_int_equal(tl.bad, 0);
		assert_int_equal(tl.bytes, added);
		assert_int_equal(t.total, added);
		assert_true(closed >= (uint64_t)tl.rows - 1);
	}
	/* a sample on the open interval's end belongs to the next one */
	struct vd_tput t;
	vd_tput_init(&t);
	vd_tput_add(&t, 100, 1000, 1, NULL);
	vd_tput_add(&t, 100, 1099, 1, NULL);
	assert_int_equal(t.intervals, 0);
	vd_tput_add(&t, 100, 1100, 1, NULL);
	assert_int_equal(t.intervals, 1);
	assert_int_equal(t.cur_bytes, 1);
}

/* Paxson's two-point definition: ACKs leave the host NIC 240 µs apart and reach the guest in
 * batches of 5 (5 µs apart) released every 1200 µs: 4 compressed pairs per batch. */
static void two_point_batches(void **state)
{
	const struct vd_ackcomp_cfg cfg = {.factor = 2.0, .min_run = 2};
	struct vd_ackcomp c = {0};
	for (int i = 0; i < 50; i++) {
		vd_ns up = 1000000 + i * 240 * US;
		vd_ns down = 5000000 + (i / 5) * 1200 * US + (i % 5) * 5 * US;
		vd_ackcomp_add(&c, &cfg, up, down);
	}
	assert_int_equal(c.pairs, 49);
	assert_int_equal(c.compressed, 40);
	assert_int_equal(c.events, 10);
	/* the same stream delivered untouched: nothing compressed */
	c = (struct vd_ackcomp){0};
	for (int i = 0; i < 50; i++)
		vd_ackcomp_add(&c, &cfg, i * 240 * US, 30 * US + i * 240 * US);
	assert_int_equal(c.compressed, 0);
	assert_int_equal(c.events, 0);
}

struct matches {
	int n;
	vd_ns delay_sum;
	uint32_t last_first;
};

static void on_match(void *ctx, uint32_t first, vd_ns t_first, uint32_t second, vd_ns t_second,
		     const struct vd_decoded *d)
{
	struct matches *m = ctx;
	m->n++;
	m->delay_sum += t_second - t_first;
	m->last_first = first;
}

static void packets_match_across_vantage_points(void **state)
{
	struct matches m = {0};
	struct vd_pktmatch *pm = vd_pktmatch_create(64, VD_NS_PER_SEC, on_match, &m);
	assert_non_null(pm);
	/* 100 data segments: at the bridge (0) then 30 µs later in the guest (1) */
	for (uint32_t i = 0; i < 100; i++) {
		struct vd_decoded d = seg(1, 1 + i * 1000, 1, VD_TCP_ACK, 1000);
		vd_pktmatch_add(pm, 0, i * 100 * US, &d);
		vd_pktmatch_add(pm, 1, i * 100 * US + 30 * US, &d);
	}
	assert_int_equal(m.n, 100);
	assert_int_equal(m.delay_sum, 100 * 30 * US);
	/* an ACK from the guest is seen there first, then at the bridge */
	struct vd_decoded a = seg(0, 1, 5000, VD_TCP_ACK, 0);
	vd_pktmatch_add(pm, 1, 20 * VD_NS_PER_MS, &a);
	vd_pktmatch_add(pm, 0, 20 * VD_NS_PER_MS + 7 * US, &a);
	assert_int_equal(m.n, 101);
	assert_int_equal(m.last_first, 1);
	/* older than the horizon: no match */
	struct vd_decoded late = seg(1, 777, 1, VD_TCP_ACK, 10);
	vd_pktmatch_add(pm, 0, 30 * VD_NS_PER_MS, &late);
	vd_pktmatch_add(pm, 1, 30 * VD_NS_PER_MS + 2 * VD_NS_PER_SEC, &late);
	assert_int_equal(m.n, 101);
	/* cap: 64 pending packets; the 65th pushes the oldest out */
	for (uint32_t i = 0; i < 65; i++) {
		struct vd_decoded d = seg(1, 900000 + i, 1, VD_TCP_ACK, 1);
		vd_pktmatch_add(pm, 0, 3 * VD_NS_PER_SEC, &d);
	}
	assert_true(vd_pktmatch_evicted(pm) >= 1);
	vd_pktmatch_destroy(pm);
}

static void histogram_quantiles(void **state)
{
	struct vd_linhist h;
	vd_linhist_init(&h, 1000, 1000);
	for (int i = 1; i <= 100; i++)
		vd_linhist_add(&h, i * 1000 + 500, 0); /* 1.5 µs .. 100.5 µs */
	assert_int_equal(vd_linhist_quantile(&h, 0.5), 51000);
	assert_int_equal(vd_linhist_quantile(&h, 1.0), 100500); /* never past the maximum */
	vd_linhist_add(&h, -5, 0);
	vd_linhist_add(&h, 5 * VD_NS_PER_SEC, 0);
	assert_int_equal(h.underflow, 1);
	assert_int_equal(h.overflow, 1);
	assert_int_equal(vd_linhist_count_below(&h, 11000), 1 + 10);
	vd_linhist_free(&h);
}

/* The histogram holds the range of bins its samples reached, not every bin from 0: thousands of
 * flows whose gaps all sit near one value hold a few bins each. Whatever the order the samples
 * come in (the range growing down, up, to the last bin), every bin reads what a plain array of
 * all the bins would hold, and so do the counts below a limit, the quantiles and the modes. */
static void histogram_holds_the_bins_reached(void **state)
{
	enum { BINS = 10000 };
	struct vd_linhist h;
	vd_linhist_init(&h, 10, BINS);
	for (int i = 0; i < 1000; i++)
		vd_linhist_add(&h, 50000 + i % 30, i % 7 == 0); /* bins 5000..5002 */
	assert_true(h.nbins <= 64);
	assert_true(vd_linhist_first(&h) <= 5000 && vd_linhist_end(&h) > 5002);
	assert_int_equal(vd_linhist_bin(&h, 4999) + vd_linhist_bin(&h, 5003), 0);
	vd_linhist_free(&h);

	static uint64_t want[BINS], want_marked[BINS];
	memset(want, 0, sizeof(want));
	memset(want_marked, 0, sizeof(want_marked));
	vd_linhist_init(&h, 10, BINS);
	srand(3);
	uint64_t total = 0;
	for (int round = 0; round < 4; round++) {
		/* around a centre that moves down, then up, then to both ends */
		static const int centre[] = {7000, 2000, 9990, 0};
		for (int i = 0; i < 5000; i++) {
			int b = centre[round] + rand() % 200 - 100;
			if (b < 0 || b >= BINS)
				continue;
			vd_ns v = (vd_ns)b * 10 + rand() % 10;
			int marked = rand() % 5 == 0;
			vd_linhist_add(&h, v, marked);
			want[b]++;
			want_marked[b] += (uint64_t)marked;
			total++;
		}
		assert_int_equal(h.oom, 0);
		uint64_t below = 0;
		for (size_t b = 0; b < BINS; b++) {
			assert_int_equal(vd_linhist_bin(&h, b), want[b]);
			assert_int_equal(vd_linhist_bin_marked(&h, b), want_marked[b]);
			if (b % 500 == 0)
				assert_int_equal(vd_linhist_count_below(&h, (vd_ns)b * 10), below);
			below += want[b];
		}
		/* the median: the upper edge of the bin where the counts reach half */
		uint64_t cum = 0;
		size_t mb = 0;
		while ((double)(cum += want[mb]) < 0.5 * (double)total)
			mb++;
		vd_ns q = vd_linhist_quantile(&h, 0.5);
		assert_true(q == (vd_ns)(mb + 1) * 10 || q == h.max);
	}
	size_t modes[3];
	size_t nm = vd_linhist_modes(&h, 0.0001, modes, 3);
	for (size_t k = 0; k < nm; k++) {
		size_t b = modes[k];
		assert_true(want[b] > 0 && (b == 0 || want[b - 1] < want[b]));
	}
	assert_true(h.nbins <= BINS);
	vd_linhist_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(uncompressed_then_compressed),
	    cmocka_unit_test(runs_shorter_than_an_event_and_duplicates),
	    cmocka_unit_test(connection_through_tcpan),
	    cmocka_unit_test(gap_counts_equal_one_histogram_of_every_gap),
	    cmocka_unit_test(mid_stream_flow_samples_rtt),
	    cmocka_unit_test(last_flow_is_the_lookups),
	    cmocka_unit_test(endpoints_as_inet_ntop),
	    cmocka_unit_test(tput_intervals),
	    cmocka_unit_test(tput_idle_stretch),
	    cmocka_unit_test(tput_rows_tile_the_series),
	    cmocka_unit_test(two_point_batches),
	    cmocka_unit_test(packets_match_across_vantage_points),
	    cmocka_unit_test(histogram_quantiles),
	    cmocka_unit_test(histogram_holds_the_bins_reached),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
