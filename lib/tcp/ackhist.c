/* ackhist.c — pure-ACK inter-arrival histogram, reference line and ACK-compression events
 * (Rajasekaran et al. section 4; the event definition is in docs/methodology.md). */
#include "vmdelay/tcp/ackhist.h"

#include <math.h>
#include <string.h>

void vd_ackhist_init(struct vd_ackhist *a)
{
	memset(a, 0, sizeof(*a));
}

void vd_ackhist_free(struct vd_ackhist *a)
{
	if (a->detail)
		vd_linhist_free(&a->detail->h);
}

void vd_ackhist_detail_init(struct vd_ackhist_detail *d, const struct vd_ackhist_cfg *c)
{
	memset(d, 0, sizeof(*d));
	vd_linhist_init(&d->h, c->bin_ns, c->max_bins);
}

int vd_ackhist_needs_detail(const struct vd_ackhist_cfg *c, vd_ns gap)
{
	if (gap < 0 || gap < c->ref_ns)
		return 1;
	/* the bin vd_linhist_add would find, with its defaults for unset settings */
	vd_ns bin_ns = c->bin_ns > 0 ? c->bin_ns : 1;
	size_t max_bins = c->max_bins ? c->max_bins : 1;
	return (uint64_t)(gap / bin_ns) < max_bins;
}

vd_ns vd_ackhist_add(struct vd_ackhist *a, const struct vd_ackhist_cfg *c, struct vd_acklast *last,
		     vd_ns ts, uint32_t ack, uint16_t win)
{
	vd_ns gap = VD_NS_NONE;
	if (last->acks) {
		int dup = ack == last->ack && win == last->win;
		if (dup)
			a->dups++;
		gap = ts - last->ts;
		struct vd_ackhist_detail *d = a->detail;
		if (!vd_ackhist_needs_detail(c, gap)) {
			a->beyond++;
			if (d)
				d->run = 0;
		} else {
			unsigned min_run = c->min_run ? c->min_run : 1;
			vd_linhist_add(&d->h, gap, dup);
			if (gap < c->ref_ns) {
				d->below_ref++;
				d->run++;
				/* The event is counted once, when its run reaches the threshold;
				 * the ACKs of the run so far join it then, later ones one by one.
				 */
				if (d->run == min_run) {
					d->events++;
					d->event_acks += min_run + 1;
				} else if (d->run > min_run) {
					d->event_acks++;
				}
			} else {
				d->run = 0;
			}
		}
	}
	last->acks++;
	last->ts = ts;
	last->ack = ack;
	last->win = win;
	return gap;
}

void vd_ackhist_read(const struct vd_ackhist *a, const struct vd_acklast *last,
		     const struct vd_linhist *empty, struct vd_ackhist_stats *st)
{
	const struct vd_ackhist_detail *d = a ? a->detail : NULL;
	memset(st, 0, sizeof(*st));
	st->gaps = last->acks ? last->acks - 1 : 0;
	st->h = d ? &d->h : empty;
	st->overflow = st->h->overflow;
	st->negative = st->h->underflow;
	if (a) {
		st->dups = a->dups;
		st->overflow += a->beyond;
	}
	if (d) {
		st->below_ref = d->below_ref;
		st->events = d->events;
		st->event_acks = d->event_acks;
	}
}

double vd_ackhist_fraction_below(const struct vd_ackhist_stats *st)
{
	return st->gaps ? (double)st->below_ref / (double)st->gaps : NAN;
}
