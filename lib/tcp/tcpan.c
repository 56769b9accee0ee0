/* tcpan.c — per-flow, per-vantage-point TCP analysis (see tcpan.h). */
#include "vmdelay/tcp/tcpan.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

struct vd_tcpan {
	struct vd_tcpan_opts o; /* o.interval > 0 */
	struct vd_ackhist_cfg ahcfg;
	struct vd_ackcomp_cfg xccfg;
	struct vd_flowtab *flows;
	struct vd_arena blocks; /* the flows' ACK analysis, gap detail and compression blocks */
	struct vd_ackhist_detail **details; /* every gap detail, to free their histograms' bins */
	size_t ndetails, cap_details;
	struct vd_tcpan_acks no_acks; /* what vd_tcpan_acks gives for a side without any */
	struct vd_linhist no_hist;    /* the bins of a stream without gap detail: none */
	struct vd_ackcomp no_xc;
	uint64_t untimed;	    /* packets without a computable time, ignored */
	uint64_t no_memory;	    /* packets whose ACK analysis found no memory for its block */
	struct vd_tcpan_flow *last; /* the flow of the last packet added, NULL if ignored */
	int last_dir;
};

/* An acknowledgment that jumps further than this is not a plausible advance (a wrapped or
 * garbage ack number): it resets the base instead of counting gigabytes. */
#define ACK_JUMP_MAX (UINT32_C(1) << 30)

struct vd_tcpan *vd_tcpan_create(const struct vd_tcpan_opts *o)
{
	struct vd_tcpan *an = calloc(1, sizeof(*an));
	if (!an)
		return NULL;
	an->o = *o;
	if (an->o.interval <= 0)
		an->o.interval = VD_NS_PER_SEC;
	an->ahcfg = (struct vd_ackhist_cfg){.bin_ns = o->bin_ns,
					    .max_bins = o->max_bins,
					    .ref_ns = o->ref_ns,
					    .min_run = o->min_run};
	an->xccfg = (struct vd_ackcomp_cfg){.factor = o->xc_factor, .min_run = o->min_run};
	vd_linhist_init(&an->no_hist, o->bin_ns, o->max_bins);
	an->flows = vd_flowtab_create(o->max_flows, sizeof(struct vd_tcpan_flow),
				      offsetof(struct vd_tcpan_flow, key));
	if (!an->flows) {
		free(an);
		return NULL;
	}
	return an;
}

void vd_tcpan_destroy(struct vd_tcpan *an)
{
	if (!an)
		return;
	for (size_t i = 0; i < an->ndetails; i++)
		vd_linhist_free(&an->details[i]->h);
	free(an->details);
	vd_arena_destroy(&an->blocks);
	vd_flowtab_destroy(an->flows);
	free(an);
}

/* A flow's series emitter: only with a series callback (else intervals go nowhere). */
struct series_ctx {
	const struct vd_tcpan *an;
	const struct vd_tcpan_flow *f;
	int which;
	struct vd_tput_emit e;
};

static void emit_series(void *ctx, vd_ns start, vd_ns len, uint64_t bytes, int partial)
{
	const struct series_ctx *sc = ctx;
	sc->an->o.series(sc->an->o.ctx, sc->f, sc->which, start, len, bytes, partial);
}

static const struct vd_tput_emit *series_emit(struct series_ctx *sc, const struct vd_tcpan *an,
					      const struct vd_tcpan_flow *f, int which)
{
	if (!an->o.series)
		return NULL;
	*sc = (struct series_ctx){.an = an, .f = f, .which = which};
	sc->e = (struct vd_tput_emit){.fn = emit_series, .ctx = sc};
	return &sc->e;
}

/* Endpoint s's ACK analysis, allocated on first need; NULL out of memory. */
static struct vd_tcpan_acks *acks_of(struct vd_tcpan *an, const struct vd_tcpan_flow *f,
				     struct vd_tcpan_dir *s)
{
	if (s->acks)
		return s->acks;
	struct vd_tcpan_acks *b = vd_arena_alloc(&an->blocks, sizeof(*b));
	if (!b) {
		an->no_memory++;
		return NULL;
	}
	/* zeroed: empty series and gaps */
	b->rtt = f->rtt;
	return s->acks = b;
}

/* The gap detail of ACK block b, allocated on first need; -1 out of memory. */
static int attach_detail(struct vd_tcpan *an, struct vd_tcpan_acks *b)
{
	if (b->ah.detail)
		return 0;
	if (an->ndetails == an->cap_details) {
		size_t cap = an->cap_details ? 2 * an->cap_details : 64;
		struct vd_ackhist_detail **w = realloc(an->details, cap * sizeof(*w));
		if (!w)
			goto no_memory;
		an->details = w;
		an->cap_details = cap;
	}
	struct vd_ackhist_detail *d = vd_arena_alloc(&an->blocks, sizeof(*d));
	if (!d)
		goto no_memory;
	vd_ackhist_detail_init(d, &an->ahcfg);
	an->details[an->ndetails++] = d;
	b->ah.detail = d;
	return 0;
no_memory:
	an->no_memory++;
	return -1;
}

static void flow_init(struct vd_tcpan *an, struct vd_tcpan_flow *f, const struct vd_decoded *d)
{
	/* the table wrote f->key and zeroed the rest */
	f->started = 1;
	f->first_was_syn = (d->tcp_flags & (VD_TCP_SYN | VD_TCP_ACK)) == VD_TCP_SYN;
	f->rtt = an->o.rtt > 0 ? an->o.rtt : VD_NS_NONE;
	f->rtt_src = an->o.rtt > 0 ? VD_RTT_FIXED : VD_RTT_NONE;
	f->syn_ts = VD_NS_NONE;
	f->first_ts = VD_NS_NONE;
}

/* The RTT timescale's series start with the first advance after the RTT is known (none is
 * added before: they are empty then). */
static void set_rtt(struct vd_tcpan_flow *f, vd_ns rtt, enum vd_tcpan_rtt_src src)
{
	if (f->rtt_src != VD_RTT_NONE || rtt <= 0)
		return;
	f->rtt = rtt;
	f->rtt_src = src;
	for (int e = 0; e < 2; e++)
		if (f->d[e].acks)
			f->d[e].acks->rtt = rtt;
}

static void on_data(const struct vd_tcpan *an, struct vd_tcpan_flow *f, int dir, vd_ns ts,
		    const struct vd_decoded *d)
{
	struct vd_tcpan_dir *s = &f->d[dir];
	uint32_t end = d->tcp_seq + d->tcp_payload_len;
	s->data_pkts++;
	s->payload_bytes += d->tcp_payload_len;
	uint32_t segs = d->gso_segs > 1 ? d->gso_segs : 1;
	s->wire_segs += segs;
	if (segs > s->max_segs)
		s->max_segs = segs;
	if (!s->have_seq) {
		s->have_seq = 1;
		s->seq_hi = end;
		s->seq_base = d->tcp_seq;
	} else if (!vd_seq_lt(s->seq_hi, end)) {
		s->retrans++;
		/* Karn: an RTT sample over a retransmitted range is ambiguous. */
		if (f->probing && f->probe_dir == dir && !vd_seq_lt(f->probe_end, end))
			f->probing = 0;
	} else {
		s->seq_hi = end;
	}
	if (f->rtt_src == VD_RTT_NONE && !f->probing && !vd_seq_lt(end, s->seq_hi)) {
		f->probing = 1;
		f->probe_dir = dir;
		f->probe_end = end;
		f->probe_ts = ts;
	}
	if (an->o.seqpoint)
		an->o.seqpoint(an->o.ctx, f, ts, 'D', d->tcp_seq - s->seq_base, d->tcp_payload_len);
}

static void on_ack(struct vd_tcpan *an, struct vd_tcpan_flow *f, int dir, vd_ns ts,
		   const struct vd_decoded *d)
{
	struct vd_tcpan_dir *s = &f->d[dir];
	const struct vd_tcpan_dir *other = &f->d[!dir];
	uint32_t ack = d->tcp_ack;
	if (f->probing && f->probe_dir != dir && !vd_seq_lt(ack, f->probe_end)) {
		f->probing = 0;
		set_rtt(f, ts - f->probe_ts, VD_RTT_SAMPLE);
	}
	if (!s->have_ack) {
		s->have_ack = 1;
		s->ack_hi = s->ack_base = ack;
		s->first_ack_ts = ts;
	} else if (vd_seq_lt(s->ack_hi, ack)) {
		uint32_t delta = ack - s->ack_hi;
		if (delta > ACK_JUMP_MAX) {
			s->ack_hi = s->ack_base = ack;
		} else {
			/* A FIN takes one sequence number but carries no byte. */
			if ((f->fins & (1u << !dir)) && vd_seq_lt(other->fin_seq, ack) &&
			    !vd_seq_lt(other->fin_seq, s->ack_hi))
				delta--;
			s->ack_hi = ack;
			s->acked_bytes += delta;
			s->last_adv_ts = ts;
			struct vd_tcpan_acks *b;
			if (delta && (b = acks_of(an, f, s))) {
				struct series_ctx sc;
				vd_tput_add(&b->tp[VD_TPUT_LONG], an->o.interval, ts, delta,
					    series_emit(&sc, an, f, VD_TPUT_LONG));
				if (f->rtt_src != VD_RTT_NONE)
					vd_tput_add(&b->tp[VD_TPUT_RTT], b->rtt, ts, delta,
						    series_emit(&sc, an, f, VD_TPUT_RTT));
			}
		}
	}
	if (an->o.seqpoint)
		an->o.seqpoint(an->o.ctx, f, ts, 'A', ack - s->ack_base, 0);
}

uint64_t vd_tcpan_prefetch(struct vd_tcpan *an, uint32_t v, const struct vd_decoded *d)
{
	return vd_flowtab_hash(an->flows, v, d);
}

/* The lines of s's ACK analysis that packet d will read: the series for any ACK (one may
 * advance), the gap statistics and the last pure ACK for a pure one. */
static void prefetch_acks(const struct vd_tcpan_dir *s, const struct vd_decoded *d, int pure)
{
	if (pure)
		__builtin_prefetch(&s->pure, 1);
	if (s->acks && (d->tcp_flags & VD_TCP_ACK)) {
		const char *b = (const char *)s->acks;
		size_t end = pure ? sizeof(*s->acks) : offsetof(struct vd_tcpan_acks, ah);
		for (size_t off = 0; off < end; off += 64)
			__builtin_prefetch(b + off, 1);
	}
}

int vd_tcpan_add(struct vd_tcpan *an, uint32_t v, vd_ns ts, const struct vd_decoded *d)
{
	return vd_tcpan_add_hashed(an, v, ts, d, vd_flowtab_hash(an->flows, v, d));
}

int vd_tcpan_add_hashed(struct vd_tcpan *an, uint32_t v, vd_ns ts, const struct vd_decoded *d,
			uint64_t hash)
{
	an->last = NULL;
	/* Every RTT, gap and interval below is a difference of two times: only computable ones. */
	if (!vd_ns_timed(ts)) {
		an->untimed++;
		return 0;
	}
	int dir;
	struct vd_tcpan_flow *f = vd_flowtab_get_hashed(an->flows, hash, v, d, &dir);
	if (!f)
		return -1;
	if (!f->started) /* new: the table zeroed it */
		flow_init(an, f, d);
	an->last = f;
	an->last_dir = dir;
	struct vd_tcpan_dir *s = &f->d[dir];
	/* With thousands of concurrent flows this state is out of the cache: the lines of the
	 * ACK analysis asked for at once, so that their misses overlap */
	int pure = vd_tcp_is_pure_ack(d);
	prefetch_acks(s, d, pure);
	s->seen = 1;
	if (!vd_ns_valid(f->first_ts) || ts < f->first_ts)
		f->first_ts = ts;
	if (ts > f->last_ts)
		f->last_ts = ts;
	uint8_t fl = d->tcp_flags;
	if (fl & VD_TCP_SYN) {
		s->syn = 1;
		s->isn = d->tcp_seq;
		if (!(fl & VD_TCP_ACK)) {
			f->syn_ts = ts;
			f->syn_dir = dir;
		} else {
			f->synack_seen = 1;
		}
	}
	if (fl & VD_TCP_FIN) {
		s->fin = 1;
		f->fins |= 1u << dir;
		s->fin_seq = d->tcp_seq + d->tcp_payload_len;
	}
	/* Handshake RTT: SYN to the ACK of the SYN-ACK spans one round trip at any vantage point.
	 */
	if (f->rtt_src == VD_RTT_NONE && vd_ns_valid(f->syn_ts) && f->synack_seen &&
	    dir == f->syn_dir && !(fl & VD_TCP_SYN) && (fl & VD_TCP_ACK) && f->d[!dir].syn &&
	    d->tcp_ack == f->d[!dir].isn + 1)
		set_rtt(f, ts - f->syn_ts, VD_RTT_HANDSHAKE);
	if (d->tcp_payload_len)
		on_data(an, f, dir, ts, d);
	if (fl & VD_TCP_ACK)
		on_ack(an, f, dir, ts, d);
	if (pure) {
		/* the gaps from the second ACK on; without memory, only this ACK's own counts */
		struct vd_tcpan_acks *b = s->pure.acks ? acks_of(an, f, s) : NULL;
		if (b && !b->ah.detail && vd_ackhist_needs_detail(&an->ahcfg, ts - s->pure.ts) &&
		    attach_detail(an, b))
			b = NULL;
		if (b || !s->pure.acks)
			vd_ackhist_add(b ? &b->ah : NULL, &an->ahcfg, &s->pure, ts, d->tcp_ack,
				       d->tcp_win);
	}
	return 0;
}

/* Each flow at another point than 0 with its reference flow: the lookups in a loop of their
 * own, where the processor can overlap their cache misses (in the report each one waited alone
 * inside a row of thousands of instructions; not timed apart from the report's other cuts). */
static void find_refs(struct vd_tcpan *an)
{
	for (size_t i = 0; i < vd_flowtab_count(an->flows); i++) {
		struct vd_tcpan_flow *f = vd_flowtab_value(an->flows, i);
		int same = 0;
		f->ref = f->key.vantage ? vd_flowtab_find(an->flows, 0, &f->key, &same) : NULL;
		f->ref_same_dir = (uint8_t)same;
	}
}

void vd_tcpan_finish(struct vd_tcpan *an)
{
	find_refs(an);
	for (size_t i = 0; i < vd_flowtab_count(an->flows); i++) {
		struct vd_tcpan_flow *f = vd_flowtab_value(an->flows, i);
		for (int e = 0; e < 2; e++) {
			struct vd_tcpan_acks *b = f->d[e].acks;
			if (!b)
				continue;
			struct series_ctx sc;
			vd_tput_finish(&b->tp[VD_TPUT_LONG], an->o.interval,
				       series_emit(&sc, an, f, VD_TPUT_LONG));
			if (f->rtt_src != VD_RTT_NONE)
				vd_tput_finish(&b->tp[VD_TPUT_RTT], f->rtt,
					       series_emit(&sc, an, f, VD_TPUT_RTT));
		}
	}
}

size_t vd_tcpan_flow_count(const struct vd_tcpan *an)
{
	return vd_flowtab_count(an->flows);
}

struct vd_tcpan_flow *vd_tcpan_flow(struct vd_tcpan *an, size_t i)
{
	return vd_flowtab_value(an->flows, i);
}

struct vd_tcpan_flow *vd_tcpan_find(struct vd_tcpan *an, uint32_t v, const struct vd_flowkey *k,
				    int *same_dir)
{
	return vd_flowtab_find(an->flows, v, k, same_dir);
}

struct vd_tcpan_flow *vd_tcpan_last(struct vd_tcpan *an, int *dir)
{
	*dir = an->last_dir;
	return an->last;
}

struct vd_tcpan_flow *vd_tcpan_lookup(struct vd_tcpan *an, uint32_t v, const struct vd_decoded *d,
				      int *dir)
{
	return vd_flowtab_peek(an->flows, v, d, dir);
}

size_t vd_tcpan_bytes(const struct vd_tcpan *an)
{
	size_t bytes = sizeof(*an) + vd_flowtab_bytes(an->flows) + vd_arena_bytes(&an->blocks) +
		       an->cap_details * sizeof(*an->details);
	for (size_t i = 0; i < an->ndetails; i++) /* the ACK histogram's count and mark arrays */
		bytes += an->details[i]->h.nbins * 2 * sizeof(uint64_t);
	return bytes;
}

size_t vd_tcpan_block_bytes(const struct vd_tcpan *an)
{
	return vd_arena_used(&an->blocks);
}

size_t vd_tcpan_longest_probe(const struct vd_tcpan *an)
{
	return vd_flowtab_longest_probe(an->flows);
}

uint64_t vd_tcpan_no_memory(const struct vd_tcpan *an)
{
	return an->no_memory + vd_flowtab_no_memory(an->flows);
}

uint64_t vd_tcpan_untimed(const struct vd_tcpan *an)
{
	return an->untimed;
}

uint64_t vd_tcpan_refused(const struct vd_tcpan *an)
{
	return vd_flowtab_refused(an->flows);
}

int vd_tcpan_data_dir(const struct vd_tcpan_flow *f)
{
	if (f->d[0].payload_bytes != f->d[1].payload_bytes)
		return f->d[0].payload_bytes > f->d[1].payload_bytes ? 0 : 1;
	/* No data either way: the endpoint whose peer sent the pure ACKs. */
	return f->d[1].pure.acks >= f->d[0].pure.acks ? 0 : 1;
}

const struct vd_tcpan_acks *vd_tcpan_acks(const struct vd_tcpan *an, const struct vd_tcpan_dir *s)
{
	return s->acks ? s->acks : &an->no_acks;
}

void vd_tcpan_ackgaps(const struct vd_tcpan *an, const struct vd_tcpan_dir *s,
		      struct vd_ackhist_stats *st)
{
	vd_ackhist_read(s->acks ? &s->acks->ah : NULL, &s->pure, &an->no_hist, st);
}

const struct vd_ackcomp *vd_tcpan_ackcomp(const struct vd_tcpan *an, const struct vd_tcpan_dir *s)
{
	return s->xc ? s->xc : &an->no_xc;
}

int vd_tcpan_ackcomp_add(struct vd_tcpan *an, struct vd_tcpan_flow *f, int dir, uint32_t upstream,
			 vd_ns t_up, vd_ns t_down)
{
	struct vd_tcpan_dir *s = &f->d[dir];
	if (!s->xc && !(s->xc = vd_arena_alloc(&an->blocks, sizeof(*s->xc)))) {
		an->no_memory++;
		return -1;
	}
	s->xc->other = upstream;
	vd_ackcomp_add(s->xc, &an->xccfg, t_up, t_down);
	return 0;
}
