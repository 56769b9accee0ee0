/* probe_stream_solo.c — one vantage point alone in the probe stream (probe_stream_solo.h).
 * With one point a pair joins only a probe its own point made (as a duplicate, which changes
 * nothing in the probe), so the probe table is not needed: the probes wait in a ring in the
 * order they leave, and a pair looks for one to join only when its interval may nest with one
 * of theirs; pairs whose request and reply both come after every probe's (the usual capture)
 * go straight in. The rules and the order are those of the several points' table
 * (probe_stream.c). On one point, two requests have the same probe key exactly when they have
 * the same flow (family, addresses, id) and the same low 16 bits of seq.
 * Nor do its pairs wait for their turn: a pair is taken as it is made, in the order the
 * replies came, and the decisions are those taken in request order. A pair could only join
 * a probe of its key (flow and seq), and a reply is paired with the earliest request of its
 * key still waiting (match.c): while a request waits, no later request of its key has a
 * pair, so the pairs of one key come in request order. Only the probes' order needs the
 * wait, and they leave the ring in it. */
#define _GNU_SOURCE /* mremap */
#include "probe_stream_solo.h"

#include "probe_key.h"

#include "vmdelay/core/mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Does probe x leave after a probe whose request was at t, packet number index? */
static int solo_after(const struct vd_stream_pair *x, vd_ns t, uint64_t index)
{
	return x->req.ts != t ? x->req.ts > t : x->req.index > index;
}

#define HUGE_PAGE ((size_t)2 << 20)

/* len bytes (a multiple of HUGE_PAGE) mapped on a HUGE_PAGE boundary with huge pages advised,
 * so that every 2 MiB of it is one fault. NULL when out of memory. */
static char *huge_map(size_t len)
{
	char *raw =
	    mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return NULL;
	size_t lead = (HUGE_PAGE - (uintptr_t)raw % HUGE_PAGE) % HUGE_PAGE;
	char *p = raw + lead;
	if (lead)
		(void)munmap(raw, lead);
	(void)munmap(p + len, HUGE_PAGE - lead);
#ifdef MADV_HUGEPAGE
	(void)madvise(p, len, MADV_HUGEPAGE);
#endif
	return p;
}

/* Doubles the ring (*cap, its capacity, updated; the contents kept in place). Past a huge page
 * the ring has a mapping of its own on a huge-page boundary, moved whole to a bigger one as it
 * grows: in malloc's mapping, off the boundary, the first megabytes were faulted 4 KiB at a
 * time and every move split the huge pages (a third of an ICMP analysis' faults when the ring
 * holds a million probes; 2 MiB faults instead: 3-6% less CPU, 65,535 to 50 hosts in random
 * order). Without the huge-page advice the faults doubled and it ran 5% slower. 0, or -1 out of
 * memory (the ring unchanged). */
static int ring_grow(struct vd_probe_solo *s, size_t *cap)
{
	size_t old = *cap, size = sizeof(*s->ring);
	if (!s->mapped && (old + 1) * size * 2 <= HUGE_PAGE)
		return vd_mem_reserve((void **)&s->ring, cap, old + 1, size);
	if (old > SIZE_MAX / 4 / size)
		return -1;
	size_t want = 2 * old, len = (want * size + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
	char *p = huge_map(len);
	if (!p)
		return -1;
	if (!s->mapped) {
		memcpy(p, s->ring, old * size);
		free(s->ring);
	} else if (mremap(s->ring, s->mapped, s->mapped, MREMAP_MAYMOVE | MREMAP_FIXED, p) != p) {
		(void)munmap(p, len);
		return -1;
	}
	s->ring = (struct vd_stream_pair *)(void *)p;
	s->mapped = len;
	*cap = want;
	return 0;
}

int vd_probe_solo_take_more(struct vd_probe_solo *s, const struct vd_stream_pair *sp)
{
	vd_ns t = sp->req.ts, rtt = sp->rep_ts - sp->req.ts, window = s->window;
	if (s->n && (t <= vd_probe_solo_at(s, s->n - 1)->req.ts || sp->rep_ts <= s->max_rep)) {
		size_t best = SIZE_MAX;
		vd_ns best_d = 0;
		/* newest first, as a chain by key (those after t: of other keys) */
		for (size_t i = s->n; i-- > 0;) {
			const struct vd_stream_pair *x = vd_probe_solo_at(s, i);
			if (x->req.ts > t + window)
				continue;
			if (x->req.ts < t - window)
				break;
			if (x->req.flow != sp->req.flow || ((x->req.seq ^ sp->req.seq) & 0xffff) ||
			    !nests(x->req.ts, x->rep_ts, t, t + rtt))
				continue;
			vd_ns d = absdiff(t, x->req.ts);
			if (best == SIZE_MAX || d < best_d) {
				best = i;
				best_d = d;
			}
			if (x->req.ts <= t)
				break;
		}
		if (best != SIZE_MAX && best_d <= window) {
			s->dups++;
			return 0;
		}
	}
	if (s->n == s->cap) {
		/* doubled (a power of two), in huge pages when big: behind a request waiting for
		 * its reply, the reply wait's probes; then the ring's wrapped part after the old
		 * end */
		size_t old = s->cap, cap = old;
		if (ring_grow(s, &cap) < 0)
			return -1;
		memcpy(s->ring + old, s->ring, s->head * sizeof(*s->ring));
		s->cap = cap;
	}
	/* in the order probes leave: time, then request order */
	size_t i = s->n++;
	for (; i > 0 && solo_after(vd_probe_solo_at(s, i - 1), t, sp->req.index); i--)
		*vd_probe_solo_at(s, i) = *vd_probe_solo_at(s, i - 1);
	*vd_probe_solo_at(s, i) = *sp;
	if (s->n == 1 || sp->rep_ts > s->max_rep)
		s->max_rep = sp->rep_ts;
	s->probes++;
	return 0;
}

int vd_probe_solo_take_pairs(struct vd_probe_solo *s, const struct vd_vantage *v)
{
	/* the ring's state in locals: a store into the ring could otherwise be a store into *s or
	 * *v (the same integer types), reloaded a pair */
	struct vd_stream_pair *ring = s->ring;
	size_t head = s->head, n = s->n, cap = s->cap, mask = cap - 1, unusual = 0;
	vd_ns max_rep = s->max_rep, last_req = n ? ring[(head + n - 1) & mask].req.ts : 0;
	const struct vd_echo_req *ev = v->ev;
	const struct vd_echo_pair *pairs = v->pairs;
	size_t npairs = v->npairs;
	for (size_t i = 0; i < npairs; i++) {
		const struct vd_echo_pair *pr = &pairs[i];
		const struct vd_echo_req *q = &ev[pr->req];
		/* (vd_pair_rep_index's sum inline: a call a pair) */
		uint64_t rep_index = pr->rep_after != VD_PAIR_FAR
					 ? (uint64_t)((int64_t)q->index + pr->rep_after)
					 : vd_pair_rep_index(v, pr);
		/* the usual pair, its request and its reply after every probe's held: a new probe,
		 * last to leave */
		if (n < cap && (!n || (q->ts > last_req && pr->rep_ts > max_rep))) {
			struct vd_stream_pair *x = &ring[(head + n++) & mask];
			x->req = *q;
			x->rep_ts = pr->rep_ts;
			x->rep_index = rep_index;
			last_req = q->ts;
			max_rep = pr->rep_ts;
			continue;
		}
		unusual++;
		s->n = n;
		s->max_rep = max_rep;
		const struct vd_stream_pair sp = {
		    .req = *q, .rep_ts = pr->rep_ts, .rep_index = rep_index};
		if (vd_probe_solo_take_more(s, &sp) < 0) {
			s->probes += i + 1 - unusual;
			return -1;
		}
		ring = s->ring;
		head = s->head;
		n = s->n;
		cap = s->cap;
		mask = cap - 1;
		max_rep = s->max_rep;
		last_req = ring[(head + n - 1) & mask].req.ts;
	}
	s->n = n;
	s->max_rep = max_rep;
	s->probes += npairs - unusual;
	return 0;
}

void vd_probe_solo_free(struct vd_probe_solo *s)
{
	if (s->mapped)
		munmap(s->ring, s->mapped);
	else
		free(s->ring);
	memset(s, 0, sizeof(*s));
}
