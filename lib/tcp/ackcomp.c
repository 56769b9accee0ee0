/* ackcomp.c — two-vantage-point ACK compression after Paxson (see ackcomp.h). */
#include "vmdelay/tcp/ackcomp.h"

#include <string.h>

void vd_ackcomp_init(struct vd_ackcomp *c, double factor, unsigned min_run)
{
	memset(c, 0, sizeof(*c));
	c->factor = factor > 1 ? factor : 2;
	c->min_run = min_run ? min_run : 1;
}

void vd_ackcomp_add(struct vd_ackcomp *c, vd_ns t_up, vd_ns t_down)
{
	if (c->have) {
		vd_ns du = t_up - c->up, dd = t_down - c->down;
		c->pairs++;
		/* du / dd > factor, without dividing (dd may be 0: a batch delivered at once) */
		if (du > 0 && (double)dd * c->factor < (double)du) {
			c->compressed++;
			if (++c->run == c->min_run)
				c->events++;
		} else {
			c->run = 0;
		}
	}
	c->have = 1;
	c->up = t_up;
	c->down = t_down;
}
