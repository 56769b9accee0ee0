/* ackcomp.c — two-vantage-point ACK compression after Paxson (see ackcomp.h). */
#include "vmdelay/tcp/ackcomp.h"

void vd_ackcomp_add(struct vd_ackcomp *x, const struct vd_ackcomp_cfg *c, vd_ns t_up, vd_ns t_down)
{
	if (x->have) {
		double factor = c->factor > 1 ? c->factor : 2;
		unsigned min_run = c->min_run ? c->min_run : 1;
		vd_ns du = t_up - x->up, dd = t_down - x->down;
		x->pairs++;
		/* du / dd > factor, without dividing (dd may be 0: a batch delivered at once) */
		if (du > 0 && (double)dd * factor < (double)du) {
			x->compressed++;
			if (++x->run == min_run)
				x->events++;
		} else {
			x->run = 0;
		}
	}
	x->have = 1;
	x->up = t_up;
	x->down = t_down;
}
