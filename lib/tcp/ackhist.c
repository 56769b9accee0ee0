/* ackhist.c — pure-ACK inter-arrival histogram, reference line and ACK-compression events
 * (Rajasekaran et al. section 4; the event definition is in docs/methodology.md). */
#include "vmdelay/tcp/ackhist.h"

#include <math.h>
#include <string.h>

void vd_ackhist_init(struct vd_ackhist *a, vd_ns bin_ns, size_t max_bins, vd_ns ref_ns,
		     unsigned min_run)
{
	memset(a, 0, sizeof(*a));
	vd_linhist_init(&a->h, bin_ns, max_bins);
	a->ref_ns = ref_ns;
	a->min_run = min_run ? min_run : 1;
}

void vd_ackhist_free(struct vd_ackhist *a)
{
	vd_linhist_free(&a->h);
}

vd_ns vd_ackhist_add(struct vd_ackhist *a, vd_ns ts, uint32_t ack, uint16_t win)
{
	vd_ns gap = VD_NS_NONE;
	a->acks++;
	int dup = a->have_last && ack == a->last_ack && win == a->last_win;
	if (dup)
		a->dups++;
	if (a->have_last) {
		gap = ts - a->last_ts;
		a->gaps++;
		vd_linhist_add(&a->h, gap, dup);
		if (gap < 0)
			a->backwards++;
		if (gap < a->ref_ns) {
			a->below_ref++;
			a->run++;
			/* The event is counted once, when its run reaches the threshold; the ACKs
			 * of the run so far join it then, later ones one by one. */
			if (a->run == a->min_run) {
				a->events++;
				a->event_acks += a->min_run + 1;
			} else if (a->run > a->min_run) {
				a->event_acks++;
			}
		} else {
			a->run = 0;
		}
	}
	a->have_last = 1;
	a->last_ts = ts;
	a->last_ack = ack;
	a->last_win = win;
	return gap;
}

double vd_ackhist_fraction_below(const struct vd_ackhist *a)
{
	return a->gaps ? (double)a->below_ref / (double)a->gaps : NAN;
}
