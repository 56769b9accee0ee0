/* Unit tests: echo matching within a vantage point (loss, duplicates, retransmissions, reordering)
 * and across vantage points (loss at one point, tping rows without addresses, clock offsets). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "vmdelay/match/match.h"
#include "vmdelay/match/pairing.h"
#include "vmdelay/match/probes.h"

#define MS INT64_C(1000000)
#define US INT64_C(1000)
#define T0 INT64_C(1700000000000000000)

/* An echo between 10.0.0.c and 10.0.0.s; c == 0: a tping row (no addresses, no id). */
static void add(struct vd_vantage *v, int kind, int c, int s, uint16_t id, uint32_t seq, vd_ns ts)
{
	struct vd_echo e = {.ts = ts, .seq = seq, .id = id, .kind = (uint8_t)kind, .phase = -1};
	if (c) {
		e.has_id = 1;
		e.src.family = e.dst.family = AF_INET;
		uint8_t a[4] = {10, 0, 0, (uint8_t)c}, b[4] = {10, 0, 0, (uint8_t)s};
		memcpy(e.src.bytes, kind == VD_ECHO_REQUEST ? a : b, 4);
		memcpy(e.dst.bytes, kind == VD_ECHO_REQUEST ? b : a, 4);
	}
	e.index = v->echoes + 1;
	assert_int_equal(vd_vantage_add(v, &e), 0);
}

static vd_ns rtt_of(const struct vd_vantage *v, size_t pair)
{
	return v->pairs[pair].rep_ts - v->ev[v->pairs[pair].req].ts;
}

static void loss_and_strays(void **state)
{
	struct vd_vantage *v = vd_vantage_new("w", "", "p", "test");
	struct vd_err err;
	add(v, VD_ECHO_REQUEST, 1, 2, 9, 1, T0);
	add(v, VD_ECHO_REPLY, 1, 2, 9, 1, T0 + 2 * MS);
	add(v, VD_ECHO_REQUEST, 1, 2, 9, 2, T0 + 1000 * MS); /* lost */
	add(v, VD_ECHO_REPLY, 1, 2, 9, 7, T0 + 1100 * MS);   /* reply to nothing seen */
	add(v, VD_ECHO_REPLY, 1, 2, 8, 1, T0 + 1200 * MS);   /* other id: not probe 1's */
	add(v, VD_ECHO_REPLY, 2, 1, 9, 1, T0 + 1300 * MS);   /* addresses the other way round */
	assert_int_equal(vd_match_pairs(v, &err), 0);
	assert_int_equal(v->stats.requests, 2);
	assert_int_equal(v->stats.replies, 4);
	assert_int_equal(v->stats.pairs, 1);
	assert_int_equal(v->stats.unmatched_requests, 1);
	assert_int_equal(v->stats.unmatched_replies, 3);
	assert_int_equal(v->stats.duplicates, 0);
	assert_int_equal(rtt_of(v, 0), 2 * MS);
	vd_vantage_free(v);
}

static void duplicates_and_retransmissions(void **state)
{
	struct vd_vantage *v = vd_vantage_new("w", "", "p", "test");
	struct vd_err err;
	add(v, VD_ECHO_REQUEST, 1, 2, 9, 1, T0);
	add(v, VD_ECHO_REPLY, 1, 2, 9, 1, T0 + 2 * MS);
	add(v, VD_ECHO_REPLY, 1, 2, 9, 1, T0 + 3 * MS); /* duplicated reply */
	add(v, VD_ECHO_REQUEST, 1, 2, 9, 2, T0 + 1000 * MS);
	add(v, VD_ECHO_REQUEST, 1, 2, 9, 2, T0 + 1001 * MS); /* retransmitted request */
	add(v, VD_ECHO_REPLY, 1, 2, 9, 2, T0 + 1004 * MS);
	assert_int_equal(vd_match_pairs(v, &err), 0);
	assert_int_equal(v->stats.pairs, 2);
	assert_int_equal(v->stats.duplicates, 2);
	assert_int_equal(v->stats.unmatched_requests, 0);
	assert_int_equal(v->stats.unmatched_replies, 0);
	/* the earliest request wins (tshark's rule) */
	assert_int_equal(rtt_of(v, 0), 2 * MS);
	assert_int_equal(rtt_of(v, 1), 4 * MS);
	vd_vantage_free(v);
}

/* tping-like keys (no addresses, seqs that never wrap): up to 3000 requests wait at once and
 * their replies come back scrambled; every 11th probe is lost, every 7th reply duplicated. The
 * pending table fills up and sweeps the answered keys into the answered set several times. */
static void many_outstanding(void **state)
{
	enum { N = 300000, W = 3000 }; /* more keys than the table keeps: sweeps */
	struct vd_vantage *v = vd_vantage_new("u", "", "p", "test");
	struct vd_err err;
	static uint32_t order[W];
	uint64_t rng = 88172645463325252ull;
	size_t lost = 0, dups = 0, answered = 0;
	for (uint32_t base = 1; base <= N; base += W) {
		uint32_t m = N - base + 1 < W ? N - base + 1 : W;
		for (uint32_t i = 0; i < m; i++) {
			add(v, VD_ECHO_REQUEST, 0, 0, 0, base + i, T0 + (vd_ns)(base + i) * MS);
			order[i] = base + i;
		}
		for (uint32_t i = m - 1; i > 0; i--) {
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			uint32_t j = (uint32_t)(rng % (i + 1)), t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
		for (uint32_t i = 0; i < m; i++) {
			uint32_t seq = order[i];
			if (seq % 11 == 0) {
				lost++;
				continue;
			}
			vd_ns rep = T0 + (vd_ns)seq * MS + MS + (vd_ns)(seq % 97) * US;
			add(v, VD_ECHO_REPLY, 0, 0, 0, seq, rep);
			answered++;
			if (seq % 7 == 0) {
				add(v, VD_ECHO_REPLY, 0, 0, 0, seq, rep + US);
				dups++;
			}
		}
	}
	/* long after the sweeps: a late copy of probe 2's reply, and a reply to nothing */
	add(v, VD_ECHO_REPLY, 0, 0, 0, 2, T0 + (vd_ns)(N + 1) * MS);
	dups++;
	add(v, VD_ECHO_REPLY, 0, 0, 0, N + 5, T0 + (vd_ns)(N + 2) * MS);
	assert_int_equal(vd_match_pairs(v, &err), 0);
	assert_int_equal(v->stats.requests, N);
	assert_int_equal(v->stats.pairs, answered);
	assert_int_equal(v->stats.unmatched_requests, lost);
	assert_int_equal(v->stats.duplicates, dups);
	assert_int_equal(v->stats.unmatched_replies, 1);
	for (size_t i = 0; i < v->npairs; i++) {
		uint32_t seq = v->ev[v->pairs[i].req].seq;
		assert_int_equal(rtt_of(v, i), MS + (vd_ns)(seq % 97) * US);
		if (i)
			assert_true(v->ev[v->pairs[i - 1].req].seq < seq);
	}
	vd_vantage_free(v);
}

static void reordering(void **state)
{
	struct vd_vantage *v = vd_vantage_new("w", "", "p", "test");
	struct vd_err err;
	/* 1000 probes/s with 3 ms RTTs: replies overtake requests; probe 2's reply before 1's */
	add(v, VD_ECHO_REQUEST, 1, 2, 9, 1, T0);
	add(v, VD_ECHO_REQUEST, 1, 2, 9, 2, T0 + 1 * MS);
	add(v, VD_ECHO_REPLY, 1, 2, 9, 2, T0 + 3 * MS);
	add(v, VD_ECHO_REQUEST, 1, 2, 9, 3, T0 + 2 * MS); /* written out of time order */
	add(v, VD_ECHO_REPLY, 1, 2, 9, 1, T0 + 4 * MS);
	add(v, VD_ECHO_REPLY, 1, 2, 9, 3, T0 + 5 * MS);
	assert_int_equal(vd_match_pairs(v, &err), 0);
	assert_int_equal(v->stats.pairs, 3);
	/* pairs come sorted by request time */
	assert_int_equal(v->ev[v->pairs[0].req].seq, 1);
	assert_int_equal(rtt_of(v, 0), 4 * MS);
	assert_int_equal(v->ev[v->pairs[1].req].seq, 2);
	assert_int_equal(rtt_of(v, 1), 2 * MS);
	assert_int_equal(v->ev[v->pairs[2].req].seq, 3);
	assert_int_equal(rtt_of(v, 2), 3 * MS);
	vd_vantage_free(v);
}

/* wire (outer, with addresses) misses probe 3; the tping "user" point (inner, seq counting past
 * 65535) sees all; wire also carries someone else's pings with the same seqs 100 ms later. With
 * one clock, the nearest in time whose [request, reply] interval nests wins; with another clock
 * label 5 s ahead, the offset comes from the densest cluster of candidate differences (ours: 5
 * pairs, 1 lost; the stranger's: 6: the stranger is left out there). */
static void across(int same_clock, int stranger)
{
	struct vd_vantage *w = vd_vantage_new("wire", "peer", "w", "test");
	struct vd_vantage *u = vd_vantage_new("user", same_clock ? "peer" : "vm", "u", "test");
	vd_ns shift = same_clock ? 0 : 5000 * MS;
	struct vd_err err;
	for (uint32_t k = 0; k < 6; k++) {
		uint32_t seq = 65533 + k; /* tping's seq; the wire carries seq & 0xffff */
		vd_ns t = T0 + (vd_ns)k * 250 * MS;
		if (k != 3) {
			add(w, VD_ECHO_REQUEST, 1, 2, 77, seq & 0xffff, t + 1 * MS);
			add(w, VD_ECHO_REPLY, 1, 2, 77, seq & 0xffff, t + 2 * MS);
		}
		/* another host's ping with the same seq numbers, 100 ms later */
		if (stranger) {
			add(w, VD_ECHO_REQUEST, 5, 2, 300, seq & 0xffff, t + 100 * MS);
			add(w, VD_ECHO_REPLY, 5, 2, 300, seq & 0xffff, t + 101 * MS);
		}
		vd_ns tu = t + shift;
		add(u, VD_ECHO_REQUEST, 0, 0, 0, seq, tu);
		add(u, VD_ECHO_REPLY, 0, 0, 0, seq, tu + 3 * MS + (vd_ns)k * 1000);
	}
	/* the same pair twice at the user point: a duplicate */
	add(u, VD_ECHO_REQUEST, 0, 0, 0, 65533, T0 + shift + 10);
	add(u, VD_ECHO_REPLY, 0, 0, 0, 65533, T0 + shift + 3 * MS + 10);
	struct vd_vantage *vps[2] = {w, u};
	assert_int_equal(vd_match_pairs(w, &err), 0);
	assert_int_equal(vd_match_pairs(u, &err), 0);
	assert_int_equal(w->stats.pairs, stranger ? 11 : 5);
	assert_int_equal(u->stats.pairs, 7);
	struct vd_probe_map m;
	assert_int_equal(vd_match_probes(vps, 2, NULL, &m, &err), 0);
	/* 5 of our probes on the wire + 6 strangers' + the one only the user point saw */
	assert_int_equal(m.n, stranger ? 12 : 6);
	assert_int_equal(u->stats.duplicates, 1);
	assert_int_equal(u->stats.probes, 6);
	size_t both = 0, only_user = 0;
	for (size_t p = 0; p < m.n; p++) {
		struct vd_echo wbuf, *wq = &wbuf;
		const struct vd_echo_req *uq = vd_probe_req(&m, vps, p, 1);
		if (vd_probe_echo(&m, vps, p, 0, wq) < 0)
			wq = NULL;
		if (wq && uq) {
			both++;
			assert_int_equal(wq->id, 77); /* never the stranger's probe */
			assert_int_equal(wq->seq, uq->seq & 0xffff);
		} else if (uq) {
			only_user++;
			assert_int_equal(uq->seq, 65536); /* k == 3 */
		}
	}
	assert_int_equal(both, 5);
	assert_int_equal(only_user, 1);
	/* sorted by time */
	for (size_t p = 1; p < m.n; p++) {
		const struct vd_echo_req *a = vd_probe_req(&m, vps, p - 1, 0);
		const struct vd_echo_req *b = vd_probe_req(&m, vps, p, 0);
		if (a && b)
			assert_true(a->ts <= b->ts);
	}
	vd_probe_map_free(&m);
	vd_vantage_free(w);
	vd_vantage_free(u);
}

static void across_one_clock(void **state)
{
	across(1, 1);
}

static void across_two_clocks(void **state)
{
	across(0, 0);
}

/* An echo of host h (10.0.h>>8.h&255 -> 10.200.0.2) with ICMP id: the adversarial key sets
 * below need more hosts than add() can name. */
static void add_host(struct vd_vantage *v, int kind, uint32_t h, uint16_t id, uint32_t seq,
		     vd_ns ts)
{
	struct vd_echo e = {
	    .ts = ts, .seq = seq, .id = id, .kind = (uint8_t)kind, .phase = -1, .has_id = 1};
	e.src.family = e.dst.family = AF_INET;
	uint8_t a[4] = {10, (uint8_t)(h >> 16), (uint8_t)(h >> 8), (uint8_t)h};
	uint8_t b[4] = {10, 200, 0, 2};
	memcpy(e.src.bytes, kind == VD_ECHO_REQUEST ? a : b, 4);
	memcpy(e.dst.bytes, kind == VD_ECHO_REQUEST ? b : a, 4);
	e.index = v->echoes + 1;
	assert_int_equal(vd_vantage_add(v, &e), 0);
}

/* Longest probe sequence allowed: a table at most half full with a hash that spreads the keys
 * has probe sequences of a few slots; the old scheme (flow hash + seq, one table) reached
 * thousands on the first key set. */
#define PROBE_BOUND 32

static void check_table(struct vd_vantage *v, size_t keys)
{
	struct vd_match_table_stats st;
	vd_match_table_stats(v, &st);
	/* (every key came once: each is in its flow's table, or swept out of it as answered) */
	assert_int_equal(st.keys + st.answered, keys);
	if (st.longest_probe > PROBE_BOUND)
		fail_msg("longest probe sequence %zu over %zu keys in %zu flows", st.longest_probe,
			 st.keys, st.flows);
	struct vd_err err;
	assert_int_equal(vd_match_pairs(v, &err), 0);
	assert_int_equal(v->stats.pairs, keys);
	assert_int_equal(v->stats.unmatched_requests + v->stats.unmatched_replies, 0);
}

/* Many flows with consecutive seqs, interleaved round robin: each flow's run of seqs landed
 * next to the others' and the runs merged into long clusters. */
static void probes_short_interleaved_flows(void **state)
{
	enum { FLOWS = 4000, SEQS = 64 };
	struct vd_vantage *v = vd_vantage_new("w", "", "p", "test");
	vd_ns t = T0;
	for (uint32_t s = 0; s < SEQS; s++)
		for (uint32_t h = 0; h < FLOWS; h++) {
			add_host(v, VD_ECHO_REQUEST, h, (uint16_t)(h % 16), s, t++);
			add_host(v, VD_ECHO_REPLY, h, (uint16_t)(h % 16), s, t++);
		}
	check_table(v, (size_t)FLOWS * SEQS);
	vd_vantage_free(v);
}

/* Key i of a stride: 16-bit seqs i * stride, shifted by one each time they come round (all
 * distinct, all agreeing in their low bits); past 16 bits, tping's 32-bit seqs i * stride. */
static uint32_t stride_seq(uint32_t i, uint32_t stride)
{
	if (stride >= 65536)
		return i * stride;
	uint32_t per_round = 65536 / stride;
	return (i % per_round) * stride + i / per_round;
}

/* One flow's seqs at strides of powers of two: they agree in their low bits. */
static void probes_short_strides(void **state)
{
	static const uint32_t strides[] = {64, 1024, 4096, 65536, 1u << 20};
	for (size_t k = 0; k < sizeof(strides) / sizeof(strides[0]); k++) {
		struct vd_vantage *v = vd_vantage_new("w", "", "p", "test");
		int trace = strides[k] < 65536; /* else tping rows (no addresses, 32-bit seqs) */
		uint32_t n = trace ? 4 * 65536 / strides[k] : 2000;
		vd_ns t = T0;
		for (uint32_t i = 0; i < n; i++)
			add(v, VD_ECHO_REQUEST, trace, 2, 7, stride_seq(i, strides[k]), t++);
		for (uint32_t i = 0; i < n; i++)
			add(v, VD_ECHO_REPLY, trace, 2, 7, stride_seq(i, strides[k]), t++);
		struct vd_match_table_stats st;
		vd_match_table_stats(v, &st);
		if (st.longest_probe > PROBE_BOUND)
			fail_msg("stride %u: longest probe sequence %zu over %zu keys", strides[k],
				 st.longest_probe, st.keys);
		struct vd_err err;
		assert_int_equal(vd_match_pairs(v, &err), 0);
		assert_int_equal(v->stats.pairs, n);
		vd_vantage_free(v);
	}
}

/* Hosts that reuse one id, every host's seq wrapping past 65535 at its own point. */
static void probes_short_shared_ids_wrap(void **state)
{
	enum { HOSTS = 512, SEQS = 300 };
	struct vd_vantage *v = vd_vantage_new("w", "", "p", "test");
	vd_ns t = T0;
	for (uint32_t s = 0; s < SEQS; s++)
		for (uint32_t h = 0; h < HOSTS; h++) {
			uint32_t seq = (65536 - 150 - h + s) & 0xffff;
			add_host(v, VD_ECHO_REQUEST, h, 1, seq, t++);
			add_host(v, VD_ECHO_REPLY, h, 1, seq, t++);
		}
	check_table(v, (size_t)HOSTS * SEQS);
	vd_vantage_free(v);
}

/* As a capture from a box with 65535 pinging hosts: hosts drawn at random, ids shared by every
 * 16th host (as two Linux boxes' pings share ids), each reply 32 requests after its request. The
 * flow records (a quarter full at most) and seq tables keep short probe sequences, and every
 * request finds its reply through the lookahead that many flows turn on. */
static void probes_short_many_hosts_random(void **state)
{
	enum { HOSTS = 65535, REQUESTS = 200000, INFLIGHT = 32 };
	static uint16_t next_seq[HOSTS];
	static uint32_t ring_host[INFLIGHT];
	static uint16_t ring_seq[INFLIGHT];
	memset(next_seq, 0, sizeof(next_seq));
	struct vd_vantage *v = vd_vantage_new("w", "", "p", "test");
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	vd_ns t = T0;
	for (uint32_t k = 0; k < REQUESTS + INFLIGHT; k++) {
		uint32_t slot = k % INFLIGHT;
		if (k >= INFLIGHT)
			add_host(v, VD_ECHO_REPLY, ring_host[slot],
				 (uint16_t)(0x4000 + ring_host[slot] % 16), ring_seq[slot], t++);
		if (k >= REQUESTS)
			continue;
		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		uint32_t h = (uint32_t)(rng % HOSTS);
		ring_host[slot] = h;
		ring_seq[slot] = next_seq[h]++;
		add_host(v, VD_ECHO_REQUEST, h, (uint16_t)(0x4000 + h % 16), ring_seq[slot], t++);
	}
	check_table(v, REQUESTS);
	vd_vantage_free(v);
}

/* With many flows an echo is paired a few echoes after it came (the lookahead): vd_match_flush
 * pairs the ones still queued, so that what a reader sees after it is all that came. */
static void flush_pairs_what_came(void **state)
{
	enum { FLOWS = 3000 };
	struct vd_vantage *v = vd_vantage_new("w", "", "p", "test");
	vd_ns t = T0;
	for (uint32_t h = 0; h < FLOWS; h++) {
		add_host(v, VD_ECHO_REQUEST, h, 7, 1, t++);
		add_host(v, VD_ECHO_REPLY, h, 7, 1, t++);
		if (h % 97 == 0) {
			assert_int_equal(vd_match_flush(v), 0);
			assert_int_equal(v->npairs, h + 1);
			assert_int_equal(v->nflows, h + 1);
			assert_int_equal(v->ev[h].flow, h);
		}
	}
	assert_int_equal(vd_match_flush(v), 0);
	assert_int_equal(v->npairs, FLOWS);
	struct vd_err err;
	assert_int_equal(vd_match_pairs(v, &err), 0);
	assert_int_equal(v->stats.pairs, FLOWS);
	assert_int_equal(v->stats.unmatched_requests + v->stats.unmatched_replies, 0);
	vd_vantage_free(v);
}

/* One echo of a random stream (random_stream). */
struct stream_echo {
	uint32_t host, seq;
	uint16_t id;
	uint8_t kind;
};

static uint64_t xorshift(uint64_t *rng)
{
	*rng ^= *rng << 13, *rng ^= *rng >> 7, *rng ^= *rng << 17;
	return *rng;
}

/* n echoes of hosts drawn at random from hosts, each host's seqs starting near 65535 (so that
 * they wrap) with ids shared by every 16th host; each reply comes 1 to 64 echoes after its
 * request; some requests are lost, repeated (the same seq again) or answered twice, and some
 * replies answer nothing. */
static size_t random_stream(struct stream_echo *out, size_t n, uint32_t hosts, uint64_t seed)
{
	enum { LAG = 64 };
	struct stream_echo due[LAG];
	uint8_t pending[LAG] = {0};
	uint64_t rng = seed;
	size_t k = 0;
	for (size_t i = 0; k + 3 < n; i++) {
		size_t slot = i % LAG;
		if (pending[slot]) {
			out[k++] = due[slot];
			if (xorshift(&rng) % 200 == 0)
				out[k++] = due[slot]; /* answered twice */
			pending[slot] = 0;
		}
		uint32_t h = (uint32_t)(xorshift(&rng) % hosts);
		uint32_t seq = (uint32_t)((65536 - 40 + i / hosts + h * 7) & 0xffff);
		struct stream_echo req = {h, seq, (uint16_t)(0x4000 + h % 16), VD_ECHO_REQUEST};
		out[k++] = req;
		uint64_t r = xorshift(&rng) % 1000;
		if (r < 5)
			out[k++] = req; /* repeated */
		else if (r < 10)
			out[k++] = (struct stream_echo){h, (seq + 1000) & 0xffff, req.id,
							VD_ECHO_REPLY}; /* answers nothing */
		size_t at = (slot + 1 + xorshift(&rng) % (LAG - 1)) % LAG;
		if (r >= 20 && !pending[at]) { /* (else lost) */
			due[at] = req;
			due[at].kind = VD_ECHO_REPLY;
			pending[at] = 1;
		}
	}
	return k;
}

/* From 32 flows on an echo waits in the lookahead queue while its flow's lines are prefetched,
 * and is paired with the flow its hash found then: on random streams with repeats, losses, strays
 * and wraps, the pairs, counts and flows are those of pairing each echo as it comes (a flush after
 * every echo, so that each finds its flow anew). Few hosts with long runs (tables that sweep
 * into their own bitmap) and many with short ones (past the tables' budget: the shared swept
 * words). */
static void lookahead_pairs_as_one_by_one(void **state)
{
	static const struct {
		uint32_t hosts;
		size_t echoes;
	} runs[] = {{40, 150000}, {600, 150000}, {40000, 400000}};
	for (size_t c = 0; c < sizeof(runs) / sizeof(runs[0]); c++) {
		struct stream_echo *s = malloc(runs[c].echoes * sizeof(*s));
		assert_non_null(s);
		size_t n =
		    random_stream(s, runs[c].echoes, runs[c].hosts, 0x9e3779b97f4a7c15ull + c);
		struct vd_vantage *v[2] = {vd_vantage_new("ahead", "", "p", "test"),
					   vd_vantage_new("one", "", "p", "test")};
		for (int k = 0; k < 2; k++) {
			vd_ns t = T0;
			for (size_t i = 0; i < n; i++) {
				add_host(v[k], s[i].kind, s[i].host, s[i].id, s[i].seq, t++);
				if (k == 1)
					assert_int_equal(vd_match_flush(v[k]), 0);
			}
			struct vd_err err;
			assert_int_equal(vd_match_pairs(v[k], &err), 0);
		}
		const struct vd_vantage *a = v[0], *b = v[1];
		assert_true(a->stats.pairs > n / 3);
		assert_true(a->stats.duplicates > 0 && a->stats.unmatched_replies > 0 &&
			    a->stats.unmatched_requests > 0);
		assert_memory_equal(&a->stats, &b->stats, sizeof(a->stats));
		assert_int_equal(a->npairs, b->npairs);
		for (size_t i = 0; i < a->npairs; i++) {
			assert_int_equal(a->pairs[i].req, b->pairs[i].req);
			assert_int_equal(a->pairs[i].rep_ts, b->pairs[i].rep_ts);
			assert_int_equal(a->pairs[i].rep_after, b->pairs[i].rep_after);
		}
		assert_int_equal(a->n, b->n);
		for (size_t i = 0; i < a->n; i++)
			assert_int_equal(a->ev[i].flow, b->ev[i].flow);
		assert_int_equal(a->nflows, b->nflows);
		for (size_t i = 0; i < a->nflows; i++) { /* (field by field: not the padding) */
			const struct vd_echo_flow *x = &a->flows[i], *y = &b->flows[i];
			assert_memory_equal(&x->src, &y->src, sizeof(x->src));
			assert_memory_equal(&x->dst, &y->dst, sizeof(x->dst));
			assert_int_equal(x->id, y->id);
			assert_int_equal(x->has_id, y->has_id);
		}
		vd_vantage_free(v[0]);
		vd_vantage_free(v[1]);
		free(s);
	}
}

/* The same 2000 flows at two vantage points: every pair joins its own flow's probe, however many
 * flows share the seq. */
static void across_many_flows(void **state)
{
	enum { FLOWS = 2000, SEQS = 20 };
	struct vd_vantage *vp[2] = {vd_vantage_new("wire", "", "a", "test"),
				    vd_vantage_new("tap", "", "b", "test")};
	struct vd_err err;
	for (int k = 0; k < 2; k++) {
		vd_ns t = T0;
		for (uint32_t s = 0; s < SEQS; s++)
			for (uint32_t h = 0; h < FLOWS; h++, t += 10 * US) {
				/* the tap is inside the wire: later request, earlier reply */
				uint16_t id = (uint16_t)(h % 8);
				add_host(vp[k], VD_ECHO_REQUEST, h, id, s, t + k * US);
				add_host(vp[k], VD_ECHO_REPLY, h, id, s, t + 5 * US - k * US);
			}
		assert_int_equal(vd_match_pairs(vp[k], &err), 0);
	}
	struct vd_probe_map m;
	assert_int_equal(vd_match_probes(vp, 2, NULL, &m, &err), 0);
	assert_int_equal(m.n, (size_t)FLOWS * SEQS);
	for (size_t p = 0; p < m.n; p++) {
		struct vd_echo a, b;
		assert_int_equal(vd_probe_echo(&m, vp, p, 0, &a), 0);
		assert_int_equal(vd_probe_echo(&m, vp, p, 1, &b), 0);
		assert_memory_equal(a.src.bytes, b.src.bytes, 4);
		assert_int_equal(a.seq, b.seq);
		assert_int_equal(b.ts - a.ts, US);
	}
	vd_probe_map_free(&m);
	vd_vantage_free(vp[0]);
	vd_vantage_free(vp[1]);
}

/* Tens of thousands of hosts sending a few pings each in random order: each flow's seq table
 * stays at the smallest size that holds its seqs three quarters full (every size a table passes
 * through is memory the kernel zeroes for it), and its probe sequences stay short. */
static void many_short_flows_stay_small(void **state)
{
	enum { FLOWS = 8192, SEQS = 20 };
	static uint8_t sent[FLOWS];
	memset(sent, 0, sizeof(sent));
	struct vd_vantage *v = vd_vantage_new("w", "", "p", "test");
	vd_ns t = T0;
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	for (uint32_t k = 0; k < (uint32_t)FLOWS * SEQS; k++) {
		uint32_t h;
		do {
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			h = (uint32_t)(rng % FLOWS);
		} while (sent[h] == SEQS);
		add_host(v, VD_ECHO_REQUEST, h, (uint16_t)(h % 16), sent[h], t++);
		add_host(v, VD_ECHO_REPLY, h, (uint16_t)(h % 16), sent[h], t++);
		sent[h]++;
	}
	struct vd_match_table_stats st;
	vd_match_table_stats(v, &st);
	assert_int_equal(st.flows, FLOWS);
	/* 32 seq slots a flow (20 seqs), and at most 4 index entries a flow */
	if (st.slots > (size_t)FLOWS * 32 + 4 * FLOWS)
		fail_msg("%zu slots for %d flows of %d seqs", st.slots, FLOWS, SEQS);
	check_table(v, (size_t)FLOWS * SEQS);
	vd_vantage_free(v);
}

/* One ICMP flow through three wraps of its 16-bit seq, 8 probes in flight: the table keeps what
 * is in flight (the answered seqs are swept into the flow's bitmap), and a late copy of a reply,
 * or a request repeating an answered key, still counts as a duplicate. */
static void long_flow_stays_small(void **state)
{
	enum { N = 3 * 65536 + 100, INFLIGHT = 8 };
	struct vd_vantage *v = vd_vantage_new("w", "", "p", "test");
	vd_ns t = T0;
	for (uint32_t i = 0; i < N + INFLIGHT; i++) {
		if (i < N)
			add_host(v, VD_ECHO_REQUEST, 1, 7, i & 0xffff, t++);
		if (i >= INFLIGHT)
			add_host(v, VD_ECHO_REPLY, 1, 7, (i - INFLIGHT) & 0xffff, t++);
	}
	struct vd_match_table_stats st;
	vd_match_table_stats(v, &st);
	if (st.slots > 4096)
		fail_msg("%zu slots for %d probes in flight", st.slots, INFLIGHT);
	add_host(v, VD_ECHO_REPLY, 1, 7, 5, t++);   /* a late copy: answered long ago */
	add_host(v, VD_ECHO_REQUEST, 1, 7, 9, t++); /* a repeated request, never answered again */
	add_host(v, VD_ECHO_REPLY, 1, 8, 5, t++);   /* another id: a stray */
	struct vd_err err;
	assert_int_equal(vd_match_pairs(v, &err), 0);
	assert_int_equal(v->stats.pairs, N);
	assert_int_equal(v->stats.duplicates, 2);
	assert_int_equal(v->stats.unmatched_replies, 1);
	assert_int_equal(v->stats.unmatched_requests, 0);
	vd_vantage_free(v);
}

/* So many hosts that the seq tables reach the 4 MiB (2^18 slots) they may keep all their seqs
 * in: the flows that come later sweep their answered seqs out every few requests. A late copy
 * of a reply, and a request repeating an answered key, are duplicates however long ago their
 * seq left the table; a reply on a key no request of its flow used is a stray. */
static void swept_keys_stay_answered(void **state)
{
	enum { HOSTS = 12000, SEQS = 20, INFLIGHT = 3, BUDGET = 1 << 18 };
	struct vd_vantage *v = vd_vantage_new("w", "", "p", "test");
	vd_ns t = T0;
	for (uint32_t s = 0; s < SEQS + INFLIGHT; s++)
		for (uint32_t h = 0; h < HOSTS; h++) {
			if (s < SEQS)
				add_host(v, VD_ECHO_REQUEST, h, 7, s, t++);
			if (s >= INFLIGHT)
				add_host(v, VD_ECHO_REPLY, h, 7, s - INFLIGHT, t++);
		}
	struct vd_match_table_stats st;
	vd_match_table_stats(v, &st);
	assert_int_equal(st.keys + st.answered, (size_t)HOSTS * SEQS);
	/* the tables within the budget, the others at most a quarter full after a sweep (16 slots
	 * for 3 waiting and the new one), the index at most a quarter full */
	/* (keeping every seq would take 32 slots a flow: some flows swept) */
	assert_true(st.slots < (size_t)HOSTS * 32 && st.answered > 0);
	if (st.slots > BUDGET + (size_t)HOSTS * 16 + 4 * HOSTS)
		fail_msg("%zu slots for %d hosts with %d probes in flight", st.slots, HOSTS,
			 INFLIGHT);
	for (uint32_t h = 0; h < HOSTS; h++) {
		add_host(v, VD_ECHO_REPLY, h, 7, 2, t++);    /* a late copy */
		add_host(v, VD_ECHO_REQUEST, h, 7, 5, t++);  /* repeated, never answered again */
		add_host(v, VD_ECHO_REPLY, h, 7, 1000, t++); /* never asked for */
	}
	struct vd_err err;
	assert_int_equal(vd_match_pairs(v, &err), 0);
	assert_int_equal(v->stats.pairs, (size_t)HOSTS * SEQS);
	assert_int_equal(v->stats.duplicates, 2 * HOSTS);
	assert_int_equal(v->stats.unmatched_replies, HOSTS);
	assert_int_equal(v->stats.unmatched_requests, 0);
	vd_vantage_free(v);
}

/* Many hosts in random order, past the seq tables' budget (most flows sweep their answered seqs
 * into the shared words every few requests), every host's seq wrapping past 65535: a request on
 * a seq its flow has not used yet does not look the shared words up (a cache line each, with
 * many flows a miss), however the flows interleave; a copy of an answered request, across the
 * wrap, still does and counts as a duplicate. */
static void fresh_requests_skip_swept_words(void **state)
{
	enum { HOSTS = 20000, REQUESTS = 12 * HOSTS, INFLIGHT = 32 };
	static uint16_t first_seq[HOSTS], next_seq[HOSTS];
	uint32_t ring_host[INFLIGHT];
	uint16_t ring_seq[INFLIGHT];
	for (uint32_t h = 0; h < HOSTS; h++)
		first_seq[h] = next_seq[h] = (uint16_t)(65535 - h % 8);
	struct vd_vantage *v = vd_vantage_new("w", "", "p", "test");
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	vd_ns t = T0;
	for (uint32_t k = 0; k < REQUESTS + INFLIGHT; k++) {
		uint32_t slot = k % INFLIGHT;
		if (k >= INFLIGHT)
			add_host(v, VD_ECHO_REPLY, ring_host[slot], 7, ring_seq[slot], t++);
		if (k >= REQUESTS)
			continue;
		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		uint32_t h = (uint32_t)(rng % HOSTS);
		ring_host[slot] = h;
		ring_seq[slot] = next_seq[h]++;
		add_host(v, VD_ECHO_REQUEST, h, 7, ring_seq[slot], t++);
	}
	struct vd_match_table_stats st;
	vd_match_table_stats(v, &st);
	assert_int_equal(st.keys + st.answered, REQUESTS);
	if (st.answered < REQUESTS / 4) /* (the key set must make the flows sweep) */
		fail_msg("only %zu of %d keys swept", st.answered, REQUESTS);
	if (st.words_lookups != 0)
		fail_msg("%zu look-ups of the swept words by %d requests on fresh seqs",
			 st.words_lookups, REQUESTS);
	for (uint32_t h = 0; h < HOSTS; h++)
		add_host(v, VD_ECHO_REQUEST, h, 7, first_seq[h],
			 t++); /* a copy, seq before the wrap */
	struct vd_err err;
	assert_int_equal(vd_match_pairs(v, &err), 0);
	assert_int_equal(v->stats.pairs, REQUESTS);
	assert_int_equal(v->stats.duplicates, HOSTS);
	assert_int_equal(v->stats.unmatched_requests + v->stats.unmatched_replies, 0);
	vd_match_table_stats(v, &st);
	assert_true(st.words_lookups > 0);
	vd_vantage_free(v);
}

/* A copy of a request seen long after its key was answered (but within the wrap) is a duplicate
 * whether or not the capture goes on past half a wrap, when the key's swept bit is forgotten. */
static void late_request_copy_is_duplicate(void **state)
{
	for (int goes_on = 0; goes_on <= 1; goes_on++) {
		uint32_t n = goes_on ? 40000 : 3000;
		struct vd_vantage *v = vd_vantage_new("w", "", "p", "test");
		vd_ns t = T0;
		for (uint32_t i = 0; i < n; i++) {
			add_host(v, VD_ECHO_REQUEST, 1, 7, i, t++);
			add_host(v, VD_ECHO_REPLY, 1, 7, i, t++);
			if (i == 2010)
				add_host(v, VD_ECHO_REQUEST, 1, 7, 10, t++); /* the copy */
		}
		struct vd_err err;
		assert_int_equal(vd_match_pairs(v, &err), 0);
		assert_int_equal(v->stats.pairs, n);
		assert_int_equal(v->stats.duplicates, 1);
		assert_int_equal(v->stats.unmatched_requests, 0);
		vd_vantage_free(v);
	}
}

/* A lost reply does not poison its seq: after the seq wraps, the new request on that key gets
 * its own reply (not the one a wrap late), and the lost one counts as unmatched once. A request
 * repeated soon after (a retransmission) still waits for the reply in order. */
static void lost_reply_across_wraps(void **state)
{
	enum { N = 2 * 65536 + 50 };
	struct vd_vantage *v = vd_vantage_new("w", "", "p", "test");
	vd_ns t = T0;
	for (uint32_t i = 0; i < N; i++, t += 10 * US) {
		add_host(v, VD_ECHO_REQUEST, 1, 7, i & 0xffff, t);
		if (i == 3)
			add_host(v, VD_ECHO_REQUEST, 1, 7, i & 0xffff, t + US); /* retransmitted */
		if (i != 5) /* the reply of probe 5 is lost */
			add_host(v, VD_ECHO_REPLY, 1, 7, i & 0xffff, t + 5 * US);
	}
	struct vd_err err;
	assert_int_equal(vd_match_pairs(v, &err), 0);
	assert_int_equal(v->stats.pairs, N - 1);
	assert_int_equal(v->stats.unmatched_requests, 1);
	assert_int_equal(v->stats.duplicates, 1); /* the retransmission's copy */
	for (size_t i = 0; i < v->npairs; i++)
		assert_int_equal(rtt_of(v, i), 5 * US);
	vd_vantage_free(v);
}

/* Bytes a vantage point keeps for its completed probes: requests, pairs and flows as stored
 * (not as allocated: arrays grow by doubling). */
static size_t kept_bytes(const struct vd_vantage *v)
{
	return v->n * sizeof(*v->ev) + v->npairs * sizeof(*v->pairs) +
	       v->nflows * sizeof(*v->flows) + v->nfar * sizeof(*v->far_reps);
}

/* What an analysis keeps grows by a fixed, small amount per completed probe: a 24-byte request
 * and a 16-byte pair (the addresses and id once per flow, not per request), while the
 * pending-request tables stay the size of what is in flight however many probes completed. */
static void memory_per_probe(void **state)
{
	enum { FLOWS = 50, ROUNDS = 8000, INFLIGHT = 2 };
	assert_int_equal(sizeof(struct vd_echo_req), 24);
	assert_int_equal(sizeof(struct vd_echo_pair), 16);
	struct vd_vantage *v = vd_vantage_new("w", "", "p", "test");
	vd_ns t = T0;
	size_t slots_at_quarter = 0, bytes_at_quarter = 0;
	for (uint32_t r = 0; r < ROUNDS + INFLIGHT; r++) {
		for (uint32_t h = 0; h < FLOWS && r < ROUNDS; h++)
			add_host(v, VD_ECHO_REQUEST, h, 7, r & 0xffff, t++);
		for (uint32_t h = 0; h < FLOWS && r >= INFLIGHT; h++)
			add_host(v, VD_ECHO_REPLY, h, 7, (r - INFLIGHT) & 0xffff, t++);
		if (r == ROUNDS / 4) {
			struct vd_match_table_stats st;
			vd_match_table_stats(v, &st);
			slots_at_quarter = st.slots;
			bytes_at_quarter = kept_bytes(v);
		}
	}
	struct vd_match_table_stats st;
	vd_match_table_stats(v, &st);
	assert_int_equal(v->nflows, FLOWS);
	assert_int_equal(v->npairs, (size_t)FLOWS * ROUNDS);
	/* four times the probes: the same tables (a flow's table sweeps the answered seqs out) */
	assert_int_equal(st.slots, slots_at_quarter);
	size_t per_probe =
	    (kept_bytes(v) - bytes_at_quarter) / ((size_t)FLOWS * (ROUNDS - ROUNDS / 4));
	if (per_probe > 40)
		fail_msg("%zu bytes kept per completed probe", per_probe);
	vd_vantage_free(v);
}

/* A reply farther than 2^31 packets from its request keeps its exact packet number. */
static void far_reply_index(void **state)
{
	struct vd_vantage *v = vd_vantage_new("w", "", "p", "test");
	struct vd_echo e = {.ts = T0,
			    .seq = 1,
			    .id = 7,
			    .kind = VD_ECHO_REQUEST,
			    .phase = -1,
			    .has_id = 1,
			    .index = 3};
	e.src.family = e.dst.family = AF_INET;
	e.src.bytes[0] = 10, e.dst.bytes[0] = 11;
	assert_int_equal(vd_vantage_add(v, &e), 0);
	e.seq = 2, e.index = 4;
	assert_int_equal(vd_vantage_add(v, &e), 0);
	struct vd_echo r = e;
	r.kind = VD_ECHO_REPLY, r.src = e.dst, r.dst = e.src;
	r.seq = 2, r.index = (UINT64_C(1) << 40) + 5, r.ts = T0 + MS;
	assert_int_equal(vd_vantage_add(v, &r), 0);
	r.seq = 1, r.index = 9, r.ts = T0 + 2 * MS;
	assert_int_equal(vd_vantage_add(v, &r), 0);
	r.index = UINT64_C(1) << 56; /* beyond the packet numbers kept: refused, not cut */
	assert_int_equal(vd_vantage_add(v, &r), -1);
	struct vd_err err;
	assert_int_equal(vd_match_pairs(v, &err), 0);
	assert_int_equal(v->npairs, 2);
	assert_int_equal(v->nfar, 1);
	assert_int_equal(v->ev[v->pairs[0].req].index, 3);
	assert_int_equal(vd_pair_rep_index(v, &v->pairs[0]), 9);
	assert_int_equal(vd_pair_rep_index(v, &v->pairs[1]), (UINT64_C(1) << 40) + 5);
	vd_vantage_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(loss_and_strays),
	    cmocka_unit_test(duplicates_and_retransmissions),
	    cmocka_unit_test(reordering),
	    cmocka_unit_test(many_outstanding),
	    cmocka_unit_test(across_one_clock),
	    cmocka_unit_test(across_two_clocks),
	    cmocka_unit_test(probes_short_interleaved_flows),
	    cmocka_unit_test(probes_short_strides),
	    cmocka_unit_test(probes_short_shared_ids_wrap),
	    cmocka_unit_test(across_many_flows),
	    cmocka_unit_test(probes_short_many_hosts_random),
	    cmocka_unit_test(flush_pairs_what_came),
	    cmocka_unit_test(lookahead_pairs_as_one_by_one),
	    cmocka_unit_test(many_short_flows_stay_small),
	    cmocka_unit_test(long_flow_stays_small),
	    cmocka_unit_test(lost_reply_across_wraps),
	    cmocka_unit_test(swept_keys_stay_answered),
	    cmocka_unit_test(fresh_requests_skip_swept_words),
	    cmocka_unit_test(late_request_copy_is_duplicate),
	    cmocka_unit_test(memory_per_probe),
	    cmocka_unit_test(far_reply_index),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
