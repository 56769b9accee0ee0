/* Unit tests: what keeps `vmdelay-analyze tcp` bounded at capture scale. Its memory is per
 * connection, never per packet (ten times the packets, the same bytes); its flow table's probe
 * sequences stay short on the keys real captures hold (consecutive addresses and ports); the
 * packets waiting for their copy at another vantage point are at most a horizon's worth, and
 * finding one reads a short chain even when every segment is of one connection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "vmdelay/match/pktmatch.h"
#include "vmdelay/tcp/tcpan.h"

#include "tcpsegs.h"

#define US VD_NS_PER_US

static struct vd_decoded seg(unsigned conn, int from_client, uint32_t seq, uint32_t ack,
			     uint8_t flags, uint32_t len)
{
	return tcp_segment(conn, from_client, seq, ack, flags, len);
}

/* Bulk transfers, interleaved: a handshake each, then rounds of two data segments and one ACK
 * per connection, packets 10 µs apart. */
struct bulk {
	unsigned conns;
	vd_ns t;
	uint32_t cseq, sseq;
};

static void bulk_handshakes(struct vd_tcpan *an, struct bulk *b)
{
	b->cseq = 1001;
	b->sseq = 5001;
	for (unsigned c = 0; c < b->conns; c++) {
		struct vd_decoded d = seg(c, 1, 1000, 0, VD_TCP_SYN, 0);
		assert_int_equal(vd_tcpan_add(an, 0, b->t += 10 * US, &d), 0);
	}
	for (unsigned c = 0; c < b->conns; c++) {
		struct vd_decoded d = seg(c, 0, 5000, 1001, VD_TCP_SYN | VD_TCP_ACK, 0);
		assert_int_equal(vd_tcpan_add(an, 0, b->t += 10 * US, &d), 0);
	}
}

static void bulk_rounds(struct vd_tcpan *an, struct bulk *b, unsigned rounds)
{
	for (unsigned r = 0; r < rounds; r++) {
		for (int k = 0; k < 2; k++) {
			for (unsigned c = 0; c < b->conns; c++) {
				struct vd_decoded d = seg(c, 1, b->cseq, b->sseq, VD_TCP_ACK, 1448);
				assert_int_equal(vd_tcpan_add(an, 0, b->t += 10 * US, &d), 0);
			}
			b->cseq += 1448;
		}
		for (unsigned c = 0; c < b->conns; c++) {
			struct vd_decoded d = seg(c, 0, b->sseq, b->cseq, VD_TCP_ACK, 0);
			assert_int_equal(vd_tcpan_add(an, 0, b->t += 10 * US, &d), 0);
		}
	}
}

static struct vd_tcpan *analysis_bins(size_t max_bins)
{
	struct vd_tcpan_opts o = {.bin_ns = 10 * US,
				  .max_bins = max_bins,
				  .ref_ns = 120 * US,
				  .min_run = 2,
				  .xc_factor = 2,
				  .interval = VD_NS_PER_SEC,
				  .max_flows = 200000};
	struct vd_tcpan *an = vd_tcpan_create(&o);
	assert_non_null(an);
	return an;
}

/* 10 µs bins up to 100 ms */
static struct vd_tcpan *analysis(void)
{
	return analysis_bins(10000);
}

static void memory_per_connection_not_per_packet(void **state)
{
	(void)state;
	struct vd_tcpan *an = analysis();
	/* 200 connections: each one's ACKs 6 ms apart, in the histogram's bins */
	struct bulk b = {.conns = 200, .t = VD_NS_PER_SEC};
	bulk_handshakes(an, &b);
	bulk_rounds(an, &b, 10);
	size_t bytes = vd_tcpan_bytes(an);
	assert_int_equal(vd_tcpan_flow_count(an), 200);
	/* a state and the histogram bins up to the gaps seen: tens of kB per connection */
	print_message("%zu bytes per connection\n", bytes / 200);
	assert_true(bytes / 200 < 64 * 1024);
	/* ten times the packets (6000 -> 60000 data segments and ACKs): not one byte more */
	bulk_rounds(an, &b, 100);
	assert_int_equal(vd_tcpan_bytes(an), bytes);
	assert_int_equal(vd_tcpan_flow_count(an), 200);
	vd_tcpan_destroy(an);
}

/* The handshakes' last ACK of every connection of b. */
static void bulk_handshake_acks(struct vd_tcpan *an, struct bulk *b)
{
	for (unsigned c = 0; c < b->conns; c++) {
		struct vd_decoded d = seg(c, 1, 1001, 5001, VD_TCP_ACK, 0);
		assert_int_equal(vd_tcpan_add(an, 0, b->t += 10 * US, &d), 0);
	}
}

/* A flow is six cache lines, whatever the run's settings, and an ACK-analysis block three (one
 * per flow of a bulk transfer: each line is a ninth of what such a flow holds, and the kernel
 * zeroes every page of them at first touch); a side gets one only when its ACKs advance or it
 * sends a second pure ACK (a bulk transfer's data sender has none), the gaps' histogram and
 * compression counts only when a gap lands in the histogram's range or below the reference,
 * and a two-point compression block only when one of its ACKs is matched upstream. */
static void small_flows_blocks_only_where_needed(void **state)
{
	(void)state;
	assert_true(sizeof(struct vd_tcpan_flow) <= 6 * 64);
	assert_true(sizeof(struct vd_tcpan_dir) <= 2 * 64);
	assert_true(sizeof(struct vd_tcpan_acks) <= 3 * 64);
	struct vd_tcpan *an = analysis();
	struct bulk b = {.conns = 200, .t = VD_NS_PER_SEC};
	bulk_handshakes(an, &b);
	bulk_handshake_acks(an, &b);
	bulk_rounds(an, &b, 10);
	for (unsigned c = 0; c < b.conns; c++) {
		struct vd_tcpan_flow *f = vd_tcpan_flow(an, c);
		assert_int_equal(vd_tcpan_data_dir(f), 0);
		/* the client: data, one pure ACK (the handshake's), an ack that never advances */
		assert_int_equal(f->d[0].pure.acks, 1);
		assert_null(f->d[0].acks);
		/* read as an empty analysis with the run's settings */
		const struct vd_tcpan_acks *none = vd_tcpan_acks(an, &f->d[0]);
		struct vd_ackhist_stats st;
		vd_tcpan_ackgaps(an, &f->d[0], &st);
		assert_int_equal(st.gaps, 0);
		assert_int_equal(st.h->bin_ns, 10 * US);
		assert_int_equal(st.h->max_bins, 10000);
		assert_int_equal(none->tp[VD_TPUT_LONG].intervals, 0);
		/* the server: ten ACKs, each acknowledging two segments, 6 ms apart: in the
		 * histogram's range, so with its bins */
		assert_non_null(f->d[1].acks);
		assert_non_null(f->d[1].acks->ah.detail);
		assert_int_equal(f->d[1].pure.acks, 10);
		vd_tcpan_ackgaps(an, &f->d[1], &st);
		assert_int_equal(st.gaps, 9);
		assert_int_equal(vd_linhist_bin(st.h, 600), 9);
		assert_int_equal(f->d[1].acked_bytes, 10 * 2 * 1448);
		assert_int_equal(f->rtt_src, VD_RTT_HANDSHAKE);
		assert_null(f->d[0].xc);
		assert_null(f->d[1].xc);
		assert_int_equal(vd_tcpan_ackcomp(an, &f->d[1])->pairs, 0);
	}
	struct vd_tcpan_flow *f = vd_tcpan_flow(an, 0);
	assert_int_equal(vd_tcpan_ackcomp_add(an, f, 1, 2, 100, 200), 0);
	assert_int_equal(vd_tcpan_ackcomp_add(an, f, 1, 2, 300, 210), 0);
	assert_non_null(f->d[1].xc);
	assert_null(f->d[0].xc);
	assert_int_equal(vd_tcpan_ackcomp(an, &f->d[1])->pairs, 1);
	assert_int_equal(vd_tcpan_ackcomp(an, &f->d[1])->compressed, 1);
	assert_int_equal(vd_tcpan_ackcomp(an, &f->d[1])->other, 2);
	vd_tcpan_destroy(an);
}

/* ACKs further apart than the histogram's range (here 1 ms) keep counts only: a connection is
 * its state and a three-line ACK block, and the gap detail comes with the first gap that needs
 * it (the block was five lines, the histogram's fields in it whatever the gaps). */
static void gaps_past_the_bins_keep_counts_only(void **state)
{
	(void)state;
	struct vd_tcpan *an = analysis_bins(100);
	struct bulk b = {.conns = 2000, .t = VD_NS_PER_SEC};
	bulk_handshakes(an, &b);
	bulk_handshake_acks(an, &b);
	bulk_rounds(an, &b, 10); /* ACKs 60 ms apart */
	/* one three-line block a connection, nothing else */
	assert_int_equal(vd_tcpan_block_bytes(an), b.conns * 3 * 64);
	struct vd_ackhist_stats st;
	for (unsigned c = 0; c < b.conns; c++) {
		struct vd_tcpan_flow *f = vd_tcpan_flow(an, c);
		assert_non_null(f->d[1].acks);
		assert_null(f->d[1].acks->ah.detail);
		vd_tcpan_ackgaps(an, &f->d[1], &st);
		assert_int_equal(st.gaps, 9);
		assert_int_equal(st.overflow, 9);
		assert_int_equal(st.h->total, 0);
	}
	/* a duplicate of connection 0's last ACK 50 µs later: below the reference, in the bins */
	struct vd_decoded d = seg(0, 0, b.sseq, b.cseq, VD_TCP_ACK, 0);
	assert_int_equal(vd_tcpan_add(an, 0, b.t - (b.conns - 1) * 10 * US + 50 * US, &d), 0);
	struct vd_tcpan_flow *f = vd_tcpan_flow(an, 0);
	assert_non_null(f->d[1].acks->ah.detail);
	vd_tcpan_ackgaps(an, &f->d[1], &st);
	assert_int_equal(st.gaps, 10);
	assert_int_equal(st.overflow, 9);
	assert_int_equal(st.below_ref, 1);
	assert_int_equal(st.dups, 1);
	assert_int_equal(vd_linhist_bin(st.h, 5), 1);
	assert_int_equal(vd_linhist_bin_marked(st.h, 5), 1);
	assert_null(vd_tcpan_flow(an, 1)->d[1].acks->ah.detail);
	/* the detail: two lines (and its bins, from the heap) */
	assert_int_equal(vd_tcpan_block_bytes(an), b.conns * 3 * 64 + 2 * 64);
	vd_tcpan_destroy(an);
}

static void flow_table_probes_stay_short(void **state)
{
	(void)state;
	struct vd_tcpan *an = analysis();
	/* 65535 connections whose keys differ in consecutive address bytes and ports only, seen
	 * from both sides, and at a second vantage point */
	for (unsigned c = 0; c < 65535; c++) {
		struct vd_decoded d = seg(c, 1, 1000, 0, VD_TCP_SYN, 0);
		assert_int_equal(vd_tcpan_add(an, 0, VD_NS_PER_SEC + c, &d), 0);
		assert_int_equal(vd_tcpan_add(an, 1, VD_NS_PER_SEC + c, &d), 0);
		d = seg(c, 0, 5000, 1001, VD_TCP_SYN | VD_TCP_ACK, 0);
		assert_int_equal(vd_tcpan_add(an, 0, VD_NS_PER_SEC + c, &d), 0);
	}
	assert_int_equal(vd_tcpan_flow_count(an), 2 * 65535);
	/* a random hash at load <= 1/2 gives a longest probe of a few dozen at this size; a hash
	 * that clusters such keys gives thousands */
	size_t longest = vd_tcpan_longest_probe(an);
	print_message("longest probe over %u flows: %zu\n", 2 * 65535, longest);
	assert_true(longest <= 64);
	vd_tcpan_destroy(an);
}

/* A packet between the same two hosts (IPv4, or IPv6 when v6) from client port cport to
 * server port 443, or back. */
static struct vd_decoded port_seg(uint16_t cport, int v6, int from_client)
{
	struct vd_decoded d = seg(0, from_client, 1000, 0, VD_TCP_SYN, 0);
	if (v6) {
		d.src.family = d.dst.family = AF_INET6;
		struct vd_addr client = {.family = AF_INET6,
					 .bytes = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}};
		struct vd_addr server = {.family = AF_INET6,
					 .bytes = {0x20, 0x01, 0x0d, 0xb8, [15] = 2}};
		d.src = from_client ? client : server;
		d.dst = from_client ? server : client;
	}
	d.sport = from_client ? cport : 443;
	d.dport = from_client ? 443 : cport;
	return d;
}

static void flow_table_probes_short_on_consecutive_ports(void **state)
{
	(void)state;
	struct vd_tcpan *an = analysis();
	/* one pair of hosts (IPv4 and IPv6) and every client port, the server's answer too (the
	 * same flow), at two vantage points: the keys differ in one 16-bit field only */
	for (unsigned p = 1; p <= 49000; p++)
		for (int v6 = 0; v6 < 2; v6++) {
			struct vd_decoded d = port_seg((uint16_t)p, v6, 1);
			assert_int_equal(vd_tcpan_add(an, 0, VD_NS_PER_SEC + p, &d), 0);
			assert_int_equal(vd_tcpan_add(an, 1, VD_NS_PER_SEC + p, &d), 0);
			d = port_seg((uint16_t)p, v6, 0);
			assert_int_equal(vd_tcpan_add(an, 0, VD_NS_PER_SEC + p, &d), 0);
		}
	assert_int_equal(vd_tcpan_flow_count(an), 4 * 49000);
	size_t longest = vd_tcpan_longest_probe(an);
	print_message("longest probe over %u flows: %zu\n", 4 * 49000, longest);
	assert_true(longest <= 64);
	vd_tcpan_destroy(an);
}

/* Flow states are carved from chunks: a state never moves once created (callers keep
 * pointers to it), and the chunks hold at most about twice the states in use. */
static void flow_states_stay_put_chunks_bounded(void **state)
{
	(void)state;
	struct vd_tcpan *an = analysis();
	enum { FLOWS = 100000, KEPT = 1000 };
	static struct vd_tcpan_flow *first[KEPT];
	for (unsigned c = 0; c < FLOWS; c++) {
		struct vd_decoded d = seg(c, 1, 1000, 0, VD_TCP_SYN, 0);
		assert_int_equal(vd_tcpan_add(an, 0, VD_NS_PER_SEC + c, &d), 0);
		if (c < KEPT)
			first[c] = vd_tcpan_flow(an, c);
	}
	for (unsigned c = 0; c < KEPT; c++) {
		int dir;
		struct vd_decoded d = seg(c, 0, 5000, 1001, VD_TCP_SYN | VD_TCP_ACK, 0);
		assert_ptr_equal(vd_tcpan_lookup(an, 0, &d, &dir), first[c]);
		assert_ptr_equal(vd_tcpan_flow(an, c), first[c]);
		assert_int_equal(dir, 1);
	}
	size_t per_flow = vd_tcpan_bytes(an) / FLOWS;
	print_message("%zu bytes per flow (state %zu)\n", per_flow, sizeof(struct vd_tcpan_flow));
	/* twice the state, the table's slots and order on top */
	assert_true(per_flow <= 2 * sizeof(struct vd_tcpan_flow) + 64);
	vd_tcpan_destroy(an);
}

struct counted {
	uint64_t matches;
	size_t most_pending;
	struct vd_pktmatch *m;
};

static void count_match(void *ctx, uint32_t first, vd_ns t_first, uint32_t second, vd_ns t_second,
			const struct vd_decoded *d)
{
	(void)first, (void)t_first, (void)second, (void)t_second, (void)d;
	struct counted *c = ctx;
	c->matches++;
}

static void one_connection_pending_bounded_chains_short(void **state)
{
	(void)state;
	struct counted c = {0};
	/* 10 ms horizon, packets 10 µs apart at each point: about 1000 wait at any time */
	c.m = vd_pktmatch_create(1 << 16, 10 * VD_NS_PER_MS, count_match, &c);
	assert_non_null(c.m);
	vd_ns t = VD_NS_PER_SEC;
	const unsigned n = 200000;
	/* one connection's data: only the seq differs from one segment to the next; the copies
	 * at the second point come 3 ms later (300 segments behind) */
	for (unsigned i = 0; i < n + 300; i++, t += 10 * US) {
		if (i < n) {
			struct vd_decoded d = seg(0, 1, 1001 + i * 1448, 5001, VD_TCP_ACK, 1448);
			vd_pktmatch_add(c.m, 0, t, &d);
		}
		if (i >= 300) {
			struct vd_decoded d =
			    seg(0, 1, 1001 + (i - 300) * 1448, 5001, VD_TCP_ACK, 1448);
			vd_pktmatch_add(c.m, 1, t, &d);
		}
		size_t p = vd_pktmatch_pending(c.m);
		if (p > c.most_pending)
			c.most_pending = p;
	}
	assert_int_equal(c.matches, n);
	assert_int_equal(vd_pktmatch_evicted(c.m), 0);
	/* a horizon's worth (10 ms / 10 µs), whatever the trace length */
	assert_true(c.most_pending <= 1002);
	/* before the key hash was finalized, every segment of a connection shared a bucket: each
	 * lookup read every pending segment (~1000) */
	print_message("longest chain walk: %zu\n", vd_pktmatch_longest_walk(c.m));
	assert_true(vd_pktmatch_longest_walk(c.m) <= 8);
	vd_pktmatch_destroy(c.m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(memory_per_connection_not_per_packet),
	    cmocka_unit_test(small_flows_blocks_only_where_needed),
	    cmocka_unit_test(gaps_past_the_bins_keep_counts_only),
	    cmocka_unit_test(flow_table_probes_stay_short),
	    cmocka_unit_test(flow_table_probes_short_on_consecutive_ports),
	    cmocka_unit_test(flow_states_stay_put_chunks_bounded),
	    cmocka_unit_test(one_connection_pending_bounded_chains_short),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
