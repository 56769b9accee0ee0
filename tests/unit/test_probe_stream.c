/* Unit tests: probes matched while the vantage points are read side by side
 * (vmdelay/match/probe_stream.h) are those vd_match_pairs + vd_match_probes find after reading
 * everything, in the same order with the same counts; and what the stream holds stays bounded by
 * the window as the trace grows (the property that keeps vmdelay-analyze's memory flat). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "delay/delay_sums.h"
#include "vmdelay/match/match.h"
#include "vmdelay/match/probe_stream.h"
#include "vmdelay/match/probes.h"

#define US INT64_C(1000)
#define MS INT64_C(1000000)
#define T0 INT64_C(1700000000000000000)

struct ev {
	struct vd_echo e;
	size_t v;
};

static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static struct vd_echo echo(int kind, uint32_t host, uint16_t id, uint32_t seq, vd_ns ts)
{
	struct vd_echo e = {.ts = ts, .seq = seq & 0xffff, .id = id, .kind = (uint8_t)kind};
	e.has_id = 1;
	e.phase = -1;
	e.src.family = e.dst.family = AF_INET;
	uint8_t a[4] = {10, (uint8_t)(host >> 8), (uint8_t)host, 1}, b[4] = {10, 200, 0, 2};
	memcpy(e.src.bytes, kind == VD_ECHO_REQUEST ? a : b, 4);
	memcpy(e.dst.bytes, kind == VD_ECHO_REQUEST ? b : a, 4);
	return e;
}

static int cmp_ev(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;
	if (x->e.ts != y->e.ts)
		return x->e.ts < y->e.ts ? -1 : 1;
	if (x->v != y->v)
		return x->v < y->v ? -1 : 1;
	return x->e.index < y->e.index ? -1 : x->e.index > y->e.index;
}

/* nprobe probes of `flows` hosts round robin, `gap` apart, seen at nvp points (each one 50 ns
 * further in: its request earlier, its reply later), RTTs of 100 µs to 3 ms so that replies
 * overtake one another; some requests and replies lost at one point, some replies seen twice,
 * ids shared by several hosts. The events of all points, sorted by time. */
static vd_ns rtt_base = 100 * US, rtt_spread_us = 2900;
/* Losses (a request or a reply missed, a reply seen twice, each 1 in 1000 at every point); 0:
 * every request answered once. late_every: every late_every-th reply late_by later (0: none). */
static int lossy = 1;
static size_t late_every;
static vd_ns late_by;
/* Packet numbers index_stride apart (1: consecutive); 2^30 puts every reply more than 2^31
 * packets after its request, where a pair keeps its reply's number aside (VD_PAIR_FAR). */
static uint64_t index_stride = 1;

static struct ev *scenario(size_t nprobe, uint32_t flows, vd_ns gap, size_t nvp, size_t *n)
{
	struct ev *ev = malloc(nprobe * nvp * 3 * sizeof(*ev));
	assert_non_null(ev);
	uint32_t *seq = calloc(flows, sizeof(*seq));
	assert_non_null(seq);
	size_t k = 0;
	for (size_t p = 0; p < nprobe; p++) {
		uint32_t host = (uint32_t)(p % flows);
		uint16_t id = (uint16_t)(100 + host % 16);
		uint32_t s = seq[host]++;
		vd_ns t = T0 + (vd_ns)p * gap, rtt = rtt_base + rnd((uint32_t)rtt_spread_us) * US;
		if (late_every && p % late_every == late_every - 1)
			rtt += late_by;
		for (size_t v = 0; v < nvp; v++) {
			vd_ns in = (vd_ns)v * 50;
			uint32_t fate = lossy ? rnd(1000) : 1000;
			if (fate != 0) /* else this point missed the request */
				ev[k++] =
				    (struct ev){echo(VD_ECHO_REQUEST, host, id, s, t - in), v};
			if (fate != 1) /* else it missed the reply */
				ev[k++] =
				    (struct ev){echo(VD_ECHO_REPLY, host, id, s, t + rtt + in), v};
			if (fate == 2) /* a reply seen twice */
				ev[k++] = (struct ev){
				    echo(VD_ECHO_REPLY, host, id, s, t + rtt + in + 10 * US), v};
		}
	}
	free(seq);
	qsort(ev, k, sizeof(*ev), cmp_ev);
	uint64_t *idx = calloc(nvp, sizeof(*idx));
	assert_non_null(idx);
	for (size_t i = 0; i < k; i++)
		ev[i].e.index = ++idx[ev[i].v] * index_stride;
	free(idx);
	*n = k;
	return ev;
}

/* What the stream handed on, and the most it held at once. */
struct seen {
	size_t nvp, n, cap;
	struct vd_stream_cell *cells; /* NULL: not kept */
	int keep;
	struct vd_probe_stream *ps;
	struct vd_probe_stream_held most;
};

static int on_probe(void *ctx, const struct vd_stream_cell *cells, const int8_t *phase, size_t n)
{
	struct seen *s = ctx;
	(void)phase;
	assert_true(n >= 1 && n <= vd_probe_emit_run(s->nvp));
	for (size_t i = 0; s->keep && i < n; i++) {
		if (s->n + i == s->cap) {
			s->cap = s->cap ? 2 * s->cap : 1024;
			s->cells = realloc(s->cells, s->cap * s->nvp * sizeof(*s->cells));
			assert_non_null(s->cells);
		}
		memcpy(&s->cells[(s->n + i) * s->nvp], &cells[i * s->nvp], s->nvp * sizeof(*cells));
	}
	s->n += n;
	return 0;
}

static void note_held(struct seen *s)
{
	struct vd_probe_stream_held h;
	vd_probe_stream_held(s->ps, &h);
	if (h.probes > s->most.probes)
		s->most.probes = h.probes;
	if (h.pairs > s->most.pairs)
		s->most.pairs = h.pairs;
	if (h.requests > s->most.requests)
		s->most.requests = h.requests;
}

/* More than 1: stream hands a point's echoes in a row over in runs of up to this many; with
 * by_events, batches of up to this many echoes of any points (vd_probe_stream_add_events). */
static size_t run_max;
static int by_events;

/* Feeds ev to a stream over nvp fresh points, noting the most it held. */
static void stream(const struct ev *ev, size_t n, size_t nvp, vd_ns window, struct vd_vantage **vps,
		   struct seen *s)
{
	struct vd_err err;
	for (size_t v = 0; v < nvp; v++)
		assert_non_null(vps[v] = vd_vantage_new("p", "", "x", "test"));
	struct vd_match_opts mo = {.window = window};
	s->nvp = nvp;
	assert_int_equal(vd_probe_stream_new(vps, nvp, &mo, on_probe, s, &s->ps, &err), 0);
	/* each point's next event, found from the end */
	vd_ns *next = malloc(n * sizeof(*next)), *after = malloc(nvp * sizeof(*after));
	assert_non_null(next);
	assert_non_null(after);
	for (size_t v = 0; v < nvp; v++)
		after[v] = VD_STREAM_END;
	for (size_t i = n; i-- > 0;) {
		next[i] = after[ev[i].v];
		after[ev[i].v] = ev[i].e.ts;
	}
	for (size_t v = 0; v < nvp; v++)
		assert_int_equal(vd_probe_stream_advance(s->ps, v, after[v], &err), 0);
	for (size_t i = 0; i < n && by_events;) {
		struct vd_stream_event batch[80];
		size_t k = 0;
		for (; k < run_max && i + k < n; k++)
			batch[k] = (struct vd_stream_event){
			    .e = ev[i + k].e, .next_ts = next[i + k], .v = ev[i + k].v};
		assert_int_equal(vd_probe_stream_add_events(s->ps, batch, k, &err), 0);
		for (size_t j = i; j < i + k; j++)
			if (j % 64 == 0)
				note_held(s);
		i += k;
	}
	for (size_t i = 0; i < n && !by_events;) {
		/* in runs: a point's echoes in a row, up to run_max of them, in one call */
		size_t k = 1;
		while (run_max > 1 && k < run_max && i + k < n && ev[i + k].v == ev[i].v)
			k++;
		if (run_max > 1) {
			struct vd_echo run[80];
			for (size_t j = 0; j < k; j++)
				run[j] = ev[i + j].e;
			assert_int_equal(
			    vd_probe_stream_add_run(s->ps, ev[i].v, run, k, next[i + k - 1], &err),
			    0);
		} else {
			assert_int_equal(
			    vd_probe_stream_add(s->ps, ev[i].v, &ev[i].e, next[i], &err), 0);
		}
		for (size_t j = i; j < i + k; j++)
			if (j % 64 == 0)
				note_held(s);
		i += k;
	}
	assert_int_equal(vd_probe_stream_finish(s->ps, &err), 0);
	vd_probe_stream_free(s->ps);
	free(next);
	free(after);
}

static void same_as_reading(size_t nprobe, vd_ns gap, size_t nvp)
{
	size_t n;
	rng = 0x9e3779b97f4a7c15ull;
	struct ev *ev = scenario(nprobe, 40, gap, nvp, &n);
	struct vd_vantage *b[3], *sv[3];
	assert_true(nvp <= 3);
	struct vd_err err;
	for (size_t v = 0; v < nvp; v++)
		assert_non_null(b[v] = vd_vantage_new("p", "", "x", "test"));
	for (size_t i = 0; i < n; i++)
		assert_int_equal(vd_vantage_add(b[ev[i].v], &ev[i].e), 0);
	for (size_t v = 0; v < nvp; v++)
		assert_int_equal(vd_match_pairs(b[v], &err), 0);
	struct vd_probe_map map;
	assert_int_equal(vd_match_probes(b, nvp, NULL, &map, &err), 0);

	struct seen s = {.keep = 1};
	stream(ev, n, nvp, 0, sv, &s);
	assert_int_equal(s.n, map.n);
	for (size_t p = 0; p < map.n; p++)
		for (size_t v = 0; v < nvp; v++) {
			const struct vd_stream_cell *c = &s.cells[p * nvp + v];
			const struct vd_echo_req *q = vd_probe_req(&map, b, p, v);
			assert_int_equal(c->present, q != NULL);
			if (!q)
				continue;
			assert_int_equal(c->req_ts, q->ts);
			assert_int_equal(c->req_index, q->index);
			const struct vd_echo_pair *r = vd_probe_pair(&map, b, p, v);
			assert_int_equal(c->rep_ts, r->rep_ts);
			assert_int_equal(c->rep_index, vd_pair_rep_index(b[v], r));
		}
	for (size_t v = 0; v < nvp; v++) {
		assert_memory_equal(&sv[v]->stats, &b[v]->stats, sizeof(b[v]->stats));
		assert_true(!lossy ||
			    (b[v]->stats.duplicates > 0 && b[v]->stats.unmatched_requests > 0));
		vd_vantage_free(b[v]);
		vd_vantage_free(sv[v]);
	}
	vd_probe_map_free(&map);
	free(s.cells);
	free(ev);
}

static void same_as_after_reading(void **state)
{
	(void)state;
	same_as_reading(30000, 200 * US, 3);
}

/* One vantage point alone (its probes wait in a ring, not in the probe table), with losses,
 * duplicates and replies overtaking one another; then replies 3 s late (within the reply wait)
 * every 97 probes, with and without losses: a late reply holds the pairs after its request. */
static void one_point_same_as_after_reading(void **state)
{
	(void)state;
	same_as_reading(30000, 200 * US, 1);
	late_every = 97;
	late_by = 3000 * MS;
	same_as_reading(60000, 1000 * US, 1);
	lossy = 0;
	same_as_reading(60000, 1000 * US, 1);
	same_as_reading(60000, 1000 * US, 2);
	lossy = 1;
	late_every = 0;
}

/* Every reply far from its request in packet numbers, many of them in each batch the stream
 * takes from the matcher: each pair keeps its own reply's number. */
static void far_replies_same_as_after_reading(void **state)
{
	(void)state;
	index_stride = (uint64_t)1 << 30;
	same_as_reading(3000, 200 * US, 1);
	same_as_reading(3000, 200 * US, 2);
	index_stride = 1;
}

/* Runs of a point's echoes in one call, and batches of echoes of every point, as the streamed
 * reading hands them over, give what one echo at a time gives: the same probes and counts, in
 * the same order. */
static void runs_same_as_one_by_one(void **state)
{
	(void)state;
	static const size_t nvps[] = {1, 2, 3}, maxes[] = {2, 64, 80};
	for (size_t a = 0; a < 3; a++)
		for (size_t b = 0; b < 6; b++) {
			size_t n, nvp = nvps[a];
			rng = 0x9e3779b97f4a7c15ull;
			struct ev *ev = scenario(20000, 40, 200 * US, nvp, &n);
			struct vd_vantage *one[3], *runs[3];
			struct seen s1 = {.keep = 1}, s2 = {.keep = 1};
			run_max = 0;
			stream(ev, n, nvp, 0, one, &s1);
			run_max = maxes[b % 3];
			by_events = b >= 3;
			stream(ev, n, nvp, 0, runs, &s2);
			run_max = 0;
			by_events = 0;
			assert_true(s1.n > 0);
			assert_int_equal(s2.n, s1.n);
			for (size_t c = 0; c < s1.n * nvp; c++) {
				const struct vd_stream_cell *x = &s1.cells[c], *y = &s2.cells[c];
				assert_int_equal(y->present, x->present);
				assert_int_equal(y->req_ts, x->req_ts);
				assert_int_equal(y->rep_ts, x->rep_ts);
				assert_int_equal(y->req_index, x->req_index);
				assert_int_equal(y->rep_index, x->rep_index);
				assert_int_equal(y->seq, x->seq);
				assert_int_equal(y->flow, x->flow);
				assert_int_equal(y->phase, x->phase);
			}
			for (size_t v = 0; v < nvp; v++) {
				assert_memory_equal(&runs[v]->stats, &one[v]->stats,
						    sizeof(one[v]->stats));
				vd_vantage_free(one[v]);
				vd_vantage_free(runs[v]);
			}
			free(s1.cells);
			free(s2.cells);
			free(ev);
		}
}

/* RTTs of 1 to 2 s, a probe every 50 µs: 30000 probes held at once, more than the chains by
 * key the stream starts with (it grows them) */
static void same_with_many_held(void **state)
{
	(void)state;
	rtt_base = 1000 * MS;
	rtt_spread_us = 1000000;
	same_as_reading(60000, 50 * US, 3);
	rtt_base = 100 * US;
	rtt_spread_us = 2900;
}

/* The most the stream holds at once over a trace of nprobe probes. */
static struct vd_probe_stream_held most_held(size_t nprobe, size_t nvp)
{
	size_t n;
	rng = 0x2545f4914f6cdd1dull;
	/* 1000 probes a second: replies are waited for 10 s, about 10000 pairs a point */
	struct ev *ev = scenario(nprobe, 50, 1000 * US, nvp, &n);
	struct vd_vantage *vps[4];
	struct seen s = {.keep = 0};
	stream(ev, n, nvp, 1000 * MS, vps, &s);
	assert_true(s.n >= nprobe - nprobe / 100); /* every probe left, but those lost everywhere */
	for (size_t v = 0; v < nvp; v++)
		vd_vantage_free(vps[v]);
	free(ev);
	return s.most;
}

static void held_bounded_by_window(void **state)
{
	(void)state;
	struct vd_probe_stream_held a = most_held(25000, 4), b = most_held(100000, 4);
	/* four times the trace, not more held: a few windows' worth at most */
	print_message("held at 25k probes: %zu probes, %zu pairs, %zu requests; at 100k: %zu, "
		      "%zu, %zu\n",
		      a.probes, a.pairs, a.requests, b.probes, b.pairs, b.requests);
	assert_true(b.probes <= a.probes + a.probes / 8 + 64);
	assert_true(b.pairs <= a.pairs + a.pairs / 8 + 64);
	/* requests: those still waiting (lost replies, 1 in 1000), and the answered ones until the
	 * next compaction (every 16384 requests of a point) */
	assert_true(b.requests <= 4 * (2 * 16384 + 100000 / 500));
	assert_true(b.probes < 4 * 1000);
	assert_true(b.pairs < 4 * 11000);
}

/* One vantage point: what it holds does not grow with the trace either (its pairs are taken as
 * they come: what waits is probes). Every request answered within a few ms: only the probes of
 * those few ms and the 100 ms kept for a file's disorder wait (no reply wait behind them); with
 * requests left unanswered (1 in 1000) the probes after each wait behind it for the reply wait
 * (10 s), bounded by it. */
static void one_point_held_bounded(void **state)
{
	(void)state;
	lossy = 0;
	struct vd_probe_stream_held a = most_held(25000, 1), b = most_held(100000, 1);
	lossy = 1;
	print_message("one point, all answered: held at 25k probes: %zu probes, %zu pairs, %zu "
		      "requests; at 100k: %zu, %zu, %zu\n",
		      a.probes, a.pairs, a.requests, b.probes, b.pairs, b.requests);
	/* 1000 probes a second, RTTs under 3 ms, 100 ms kept for a file's disorder: ~100 probes */
	assert_true(b.pairs + b.probes <= a.pairs + a.probes + 64);
	assert_true(b.pairs + b.probes < 300);
	assert_true(b.requests <= 2 * 16384 + 64);
	struct vd_probe_stream_held c = most_held(25000, 1), d = most_held(100000, 1);
	print_message("one point, 1 in 1000 unanswered: at 25k: %zu probes, %zu pairs, %zu "
		      "requests; at 100k: %zu, %zu, %zu\n",
		      c.probes, c.pairs, c.requests, d.probes, d.pairs, d.requests);
	size_t most_c = c.pairs + c.probes, most_d = d.pairs + d.probes;
	assert_true(most_d <= most_c + most_c / 8 + 64 && most_d < 11000);
	assert_true(d.requests <= 2 * 16384 + 100000 / 500);
}

/* Past exact_max probes the summaries keep no probe's values (only the sketches). */
static void sums_hold_at_most_exact_max(void **state)
{
	(void)state;
	struct vd_vantage *vps[2];
	size_t clock_id[2] = {0, 0};
	int aligned[2] = {1, 1}, fit_of[2] = {-1, -1};
	struct vd_delay d = {.vps = vps,
			     .nvp = 2,
			     .clock_id = clock_id,
			     .aligned = aligned,
			     .fit_of = fit_of,
			     .exact_max = 1000};
	struct vd_delay_sums *s = vd_delay_sums_new(&d, 10);
	assert_non_null(s);
	size_t most = 0;
	for (size_t p = 0; p < 20000; p++) {
		vd_ns t = T0 + (vd_ns)p * MS;
		struct vd_delay_times tm[2] = {{t, t + 100 * US + (vd_ns)(p % 7) * US},
					       {t - 50, t + 100 * US + 50}};
		assert_int_equal(vd_delay_sums_add(s, tm, -1, NULL), 0);
		size_t h = vd_delay_sums_held(s);
		most = h > most ? h : most;
	}
	assert_true(most <= 1000 + 10);
	assert_int_equal(vd_delay_sums_finish(s, &d), 0);
	assert_int_equal(d.map.n, 20000);
	struct vd_summary sum;
	assert_int_equal(vd_delay_summary_rtt(&d, 0, VD_PHASE_ALL, &sum), 0);
	assert_int_equal(sum.n, 20000);
	assert_int_equal(sum.min, 100 * US);
	assert_int_equal(sum.max, 106 * US);
	/* --rest 10: 10 rest-pre, 10 rest-post */
	assert_int_equal(vd_delay_summary_rtt(&d, 1, VD_PHASE_REST_POST, &sum), 0);
	assert_int_equal(sum.n, 10);
	int phases[VD_PHASE__COUNT + 1];
	assert_int_equal(vd_delay_phases(&d, phases), 4); /* all, rest-pre, load, rest-post */
	free(d.sums);
	free(d.sums_have);
	vd_delay_sums_free(s);
}

/* What sums_each_in_order saw: the probes handed on, their payloads and phases. */
struct each_seen {
	size_t n, bad_order;
	uint32_t payload[4096];
	int8_t phase[4096];
};

static int each_record(void *ctx, size_t probe, const void *payload, int8_t phase)
{
	struct each_seen *e = ctx;
	if (probe != e->n)
		e->bad_order++;
	memcpy(&e->payload[e->n], payload, sizeof(uint32_t));
	e->phase[e->n++] = phase;
	return 0;
}

/* --rest 5 over 30 probes: each probe's payload comes once, in order, with its final phase
 * (the per-probe output of a streamed analysis: --csv). */
static void sums_each_in_order(void **state)
{
	(void)state;
	struct vd_vantage *vps[1];
	size_t clock_id[1] = {0};
	int aligned[1] = {1}, fit_of[1] = {-1};
	struct vd_delay d = {.vps = vps,
			     .nvp = 1,
			     .clock_id = clock_id,
			     .aligned = aligned,
			     .fit_of = fit_of,
			     .exact_max = 1000};
	struct vd_delay_sums *s = vd_delay_sums_new(&d, 5);
	assert_non_null(s);
	struct each_seen seen = {0};
	assert_int_equal(vd_delay_sums_each(s, sizeof(uint32_t), each_record, &seen), 0);
	for (uint32_t p = 0; p < 30; p++) {
		struct vd_delay_times tm = {T0 + p * MS, T0 + p * MS + 100 * US};
		uint32_t payload = 1000 + p;
		assert_int_equal(vd_delay_sums_add(s, &tm, -1, &payload), 0);
		/* the last 5 wait: their phase is known at the end */
		assert_int_equal(seen.n, p + 1 > 5 ? p + 1 - 5 : 0);
	}
	assert_int_equal(vd_delay_sums_finish(s, &d), 0);
	assert_int_equal(seen.n, 30);
	assert_int_equal(seen.bad_order, 0);
	for (uint32_t p = 0; p < 30; p++) {
		assert_int_equal(seen.payload[p], 1000 + p);
		assert_int_equal(seen.phase[p], p < 5	 ? VD_PHASE_REST_PRE
						: p < 25 ? VD_PHASE_LOAD
							 : VD_PHASE_REST_POST);
	}
	free(d.sums);
	free(d.sums_have);
	vd_delay_sums_free(s);
}

/* The summaries of probes fed n at a time (runs of 1 to 64, crossing the change to sketches
 * at exact_max, with a phase here and there) equal those of the probes fed one by one, with
 * --rest and a payload too; a run's payloads reach the per-probe output in order. */
static void sums_runs_same_as_one_by_one(void **state)
{
	(void)state;
	enum { NP = 3000, NVP = 3 };
	static struct vd_delay_times tm[NP * NVP];
	static int8_t phase[NP];
	static uint32_t payload[NP];
	rng = 0x9e3779b97f4a7c15ull;
	for (size_t p = 0; p < NP; p++) {
		vd_ns t = T0 + (vd_ns)p * MS;
		for (size_t v = 0; v < NVP; v++)
			tm[p * NVP + v] =
			    rnd(50) ? (struct vd_delay_times){t - (vd_ns)v * 50,
							      t + 100 * US + rnd(3000) * US}
				    : (struct vd_delay_times){VD_NS_NONE, VD_NS_NONE};
		phase[p] = rnd(7) == 0 ? (int8_t)rnd(VD_PHASE__COUNT) : -1;
		payload[p] = (uint32_t)p;
	}
	struct vd_vantage *vps[NVP];
	size_t clock_id[NVP] = {0, 0, 0};
	int aligned[NVP] = {1, 1, 1}, fit_of[NVP] = {-1, -1, -1};
	static const size_t exact[] = {100000, 1000}, rests[] = {0, 7};
	for (size_t e = 0; e < 2; e++)
		for (size_t r = 0; r < 2; r++)
			for (int each = 0; each < 2; each++) {
				struct vd_delay d[2];
				struct each_seen seen[2];
				for (int by_runs = 0; by_runs < 2; by_runs++) {
					d[by_runs] = (struct vd_delay){.vps = vps,
								       .nvp = NVP,
								       .clock_id = clock_id,
								       .aligned = aligned,
								       .fit_of = fit_of,
								       .exact_max = exact[e]};
					struct vd_delay_sums *s =
					    vd_delay_sums_new(&d[by_runs], rests[r]);
					assert_non_null(s);
					memset(&seen[by_runs], 0, sizeof(seen[by_runs]));
					if (each)
						assert_int_equal(
						    vd_delay_sums_each(s, sizeof(uint32_t),
								       each_record, &seen[by_runs]),
						    0);
					const void *pl = each ? payload : NULL;
					for (size_t p = 0, k; p < NP; p += k) {
						k = by_runs ? 1 + rnd(64) : 1;
						k = k < NP - p ? k : NP - p;
						assert_int_equal(vd_delay_sums_add_run(
								     s, &tm[p * NVP], &phase[p],
								     pl ? &payload[p] : NULL, k),
								 0);
					}
					assert_int_equal(vd_delay_sums_finish(s, &d[by_runs]), 0);
					vd_delay_sums_free(s);
				}
				size_t all = NVP * (1 + VD_DIR__COUNT) * VD_DELAY_SUM_SLOTS;
				assert_int_equal(d[1].map.n, NP);
				assert_memory_equal(d[1].sums_have, d[0].sums_have, all);
				assert_memory_equal(d[1].sums, d[0].sums, all * sizeof(*d[0].sums));
				assert_memory_equal(d[1].phase_seen, d[0].phase_seen,
						    sizeof(d[0].phase_seen));
				assert_int_equal(seen[1].n, each ? NP : 0);
				assert_int_equal(seen[1].n, seen[0].n);
				assert_int_equal(seen[1].bad_order, 0);
				for (size_t p = 0; p < seen[1].n; p++) {
					assert_int_equal(seen[1].payload[p], p);
					assert_int_equal(seen[1].phase[p], seen[0].phase[p]);
				}
				for (int k = 0; k < 2; k++) {
					free(d[k].sums);
					free(d[k].sums_have);
				}
			}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(same_as_after_reading),
	    cmocka_unit_test(same_with_many_held),
	    cmocka_unit_test(runs_same_as_one_by_one),
	    cmocka_unit_test(one_point_same_as_after_reading),
	    cmocka_unit_test(one_point_held_bounded),
	    cmocka_unit_test(far_replies_same_as_after_reading),
	    cmocka_unit_test(held_bounded_by_window),
	    cmocka_unit_test(sums_hold_at_most_exact_max),
	    cmocka_unit_test(sums_each_in_order),
	    cmocka_unit_test(sums_runs_same_as_one_by_one),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
