/* clock_map.c — the matching timeline (clock_map.h). */
#include "vmdelay/delay/clock_map.h"

#include "ns_round.h"

static vd_ns map_shift(const struct vd_clock_map *m, vd_ns t)
{
	return vd_ns_floor(m->a * (double)(t - m->b) + m->d);
}

vd_ns vd_clock_map_to(const struct vd_clock_map *m, vd_ns t)
{
	if (!vd_ns_valid(t) || (m->a == 0 && m->d == 0))
		return t;
	return t + map_shift(m, t);
}

vd_ns vd_clock_map_from(const struct vd_clock_map *m, vd_ns c)
{
	if (!vd_ns_valid(c) || (m->a == 0 && m->d == 0))
		return c;
	/* t = c - shift(t): the shift barely moves with t (a is a few ppm), a few rounds settle
	 * it, then the map being strictly increasing leaves one t for c */
	vd_ns t = c - map_shift(m, c);
	for (int i = 0; i < 4; i++) {
		vd_ns u = c - map_shift(m, t);
		if (u == t)
			return t; /* to(t) == t + shift(t) == c */
		t = u;
	}
	for (int i = 0; i < 8 && vd_clock_map_to(m, t) < c; i++)
		t++;
	for (int i = 0; i < 8 && vd_clock_map_to(m, t) > c; i++)
		t--;
	return t;
}
