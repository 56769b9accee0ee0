/* tcpan.c — per-flow, per-vantage-point TCP analysis (see tcpan.h). */
#include "vmdelay/tcp/tcpan.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct vd_tcpan {
	struct vd_tcpan_opts o;
	struct vd_flowtab *flows;
	uint64_t untimed;	    /* packets without a computable time, ignored */
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
	for (size_t i = 0; i < vd_flowtab_count(an->flows); i++) {
		struct vd_tcpan_flow *f = vd_flowtab_value(an->flows, i);
		vd_ackhist_free(&f->d[0].ah);
		vd_ackhist_free(&f->d[1].ah);
	}
	vd_flowtab_destroy(an->flows);
	free(an);
}

static void emit_rtt(void *ctx, vd_ns start, vd_ns len, uint64_t bytes, int partial)
{
	struct vd_tcpan_flow *f = ctx;
	if (f->an->o.series)
		f->an->o.series(f->an->o.ctx, f, VD_TPUT_RTT, start, len, bytes, partial);
}

static void emit_long(void *ctx, vd_ns start, vd_ns len, uint64_t bytes, int partial)
{
	struct vd_tcpan_flow *f = ctx;
	if (f->an->o.series)
		f->an->o.series(f->an->o.ctx, f, VD_TPUT_LONG, start, len, bytes, partial);
}

static void flow_init(struct vd_tcpan *an, struct vd_tcpan_flow *f, uint32_t v,
		      const struct vd_decoded *d)
{
	f->an = an;
	f->idx = vd_flowtab_count(an->flows) - 1; /* the table wrote f->key */
	for (int e = 0; e < 2; e++) {
		vd_ackhist_init(&f->d[e].ah, an->o.bin_ns, an->o.max_bins, an->o.ref_ns,
				an->o.min_run);
		vd_ackcomp_init(&f->d[e].xc, an->o.xc_factor, an->o.min_run);
		/* without a series callback, none per interval (it would read the flow's far end)
		 */
		vd_tput_init(&f->d[e].tp[VD_TPUT_RTT], an->o.rtt, an->o.series ? emit_rtt : NULL,
			     f);
		vd_tput_init(&f->d[e].tp[VD_TPUT_LONG], an->o.interval,
			     an->o.series ? emit_long : NULL, f);
		f->d[e].tp_rtt_on = an->o.rtt > 0;
	}
	f->first_was_syn = (d->tcp_flags & (VD_TCP_SYN | VD_TCP_ACK)) == VD_TCP_SYN;
	f->rtt = an->o.rtt > 0 ? an->o.rtt : VD_NS_NONE;
	f->rtt_src = an->o.rtt > 0 ? VD_RTT_FIXED : VD_RTT_NONE;
	f->syn_ts = VD_NS_NONE;
	f->first_ts = VD_NS_NONE;
}

static void set_rtt(struct vd_tcpan_flow *f, vd_ns rtt, enum vd_tcpan_rtt_src src)
{
	if (f->rtt_src != VD_RTT_NONE || rtt <= 0)
		return;
	f->rtt = rtt;
	f->rtt_src = src;
	for (int e = 0; e < 2; e++) {
		vd_tput_init(&f->d[e].tp[VD_TPUT_RTT], rtt, f->an->o.series ? emit_rtt : NULL, f);
		f->d[e].tp_rtt_on = 1;
	}
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

static void on_ack(const struct vd_tcpan *an, struct vd_tcpan_flow *f, int dir, vd_ns ts,
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
			if (delta) {
				vd_tput_add(&s->tp[VD_TPUT_LONG], ts, delta);
				if (s->tp_rtt_on)
					vd_tput_add(&s->tp[VD_TPUT_RTT], ts, delta);
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
	size_t before = vd_flowtab_count(an->flows);
	struct vd_tcpan_flow *f = vd_flowtab_get_hashed(an->flows, hash, v, d, &dir);
	if (!f)
		return -1;
	if (vd_flowtab_count(an->flows) != before)
		flow_init(an, f, v, d);
	an->last = f;
	an->last_dir = dir;
	struct vd_tcpan_dir *s = &f->d[dir];
	/* With thousands of concurrent flows this state is out of the cache: a pure ACK's lines
	 * asked for at once, so that their misses overlap (only these four: more, and the
	 * processor drops software prefetches it cannot track; measured) */
	if (vd_tcp_is_pure_ack(d)) {
		__builtin_prefetch(&s->tp[0], 1);
		__builtin_prefetch(&s->tp[1], 1);
		__builtin_prefetch(&s->ah, 1);
		__builtin_prefetch(&s->ah.h, 1);
	}
	s->pkts++;
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
	if (vd_tcp_is_pure_ack(d))
		vd_ackhist_add(&s->ah, ts, d->tcp_ack, d->tcp_win);
	return 0;
}

void vd_tcpan_finish(struct vd_tcpan *an)
{
	for (size_t i = 0; i < vd_flowtab_count(an->flows); i++) {
		struct vd_tcpan_flow *f = vd_flowtab_value(an->flows, i);
		for (int e = 0; e < 2; e++) {
			vd_tput_finish(&f->d[e].tp[VD_TPUT_LONG]);
			if (f->d[e].tp_rtt_on)
				vd_tput_finish(&f->d[e].tp[VD_TPUT_RTT]);
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
	size_t bytes = sizeof(*an) + vd_flowtab_bytes(an->flows);
	for (size_t i = 0; i < vd_flowtab_count(an->flows); i++) {
		const struct vd_tcpan_flow *f = vd_flowtab_value(an->flows, i);
		for (int e = 0; e < 2; e++) /* the ACK histogram's count and mark arrays */
			bytes += f->d[e].ah.h.nbins * 2 * sizeof(uint64_t);
	}
	return bytes;
}

size_t vd_tcpan_longest_probe(const struct vd_tcpan *an)
{
	return vd_flowtab_longest_probe(an->flows);
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
	return f->d[1].ah.acks >= f->d[0].ah.acks ? 0 : 1;
}
