/* ackhist.c — pure-ACK inter-arrival histogram, reference line and ACK-compression events
 * (Rajasekaran et al. section 4; the event definition is in docs/methodology.md). */
#include "vmdelay/tcp/ackhist.h"

#include <math.h>
#include <string.h>

void vd_ackhist_init(struct vd_ackhist *a, const struct vd_ackhist_cfg *c)
{
	memset(a, 0, sizeof(*a));
	vd_linhist_init(&a->h, c->bin_ns, c->max_bins);
}

void vd_ackhist_free(struct vd_ackhist *a)
{
	vd_linhist_free(&a->h);
}

vd_ns vd_ackhist_add(struct vd_ackhist *a, const struct vd_ackhist_cfg *c, struct vd_acklast *last,
		     vd_ns ts, uint32_t ack, uint16_t win)
{
	vd_ns gap = VD_NS_NONE;
	if (last->acks) {
		unsigned min_run = c->min_run ? c->min_run : 1;
		int dup = ack == last->ack && win == last->win;
		if (dup)
			a->dups++;
		gap = ts - last->ts;
		a->gaps++;
		vd_linhist_add(&a->h, gap, dup);
		if (gap < c->ref_ns) {
			a->below_ref++;
			a->run++;
			/* The event is counted once, when its run reaches the threshold; the ACKs
			 * of the run so far join it then, later ones one by one. */
			if (a->run == min_run) {
				a->events++;
				a->event_acks += min_run + 1;
			} else if (a->run > min_run) {
				a->event_acks++;
			}
		} else {
			a->run = 0;
		}
	}
	last->acks++;
	last->ts = ts;
	last->ack = ack;
	last->win = win;
	return gap;
}

double vd_ackhist_fraction_below(const struct vd_ackhist *a)
{
	return a->gaps ? (double)a->below_ref / (double)a->gaps : NAN;
}
