/* tput.c — bytes-acknowledged-per-interval series (Rajasekaran et al., Figure 2). */
#include "vmdelay/tcp/tput.h"

#include <math.h>
#include <string.h>

void vd_tput_init(struct vd_tput *t)
{
	memset(t, 0, sizeof(*t));
}

static void emit(const struct vd_tput_emit *e, vd_ns start, vd_ns len, uint64_t bytes, int partial)
{
	if (e && e->fn)
		e->fn(e->ctx, start, len, bytes, partial);
}

/* The index of the open interval: every interval before it is closed (and full). */
static int64_t cur(const struct vd_tput *t)
{
	return (int64_t)t->intervals;
}

/* Not started: zeroed, or finished (see open_end in tput.h). */
static int started(const struct vd_tput *t)
{
	return t->open_end != t->t0;
}

static void close_interval(struct vd_tput *t, vd_ns interval, const struct vd_tput_emit *e)
{
	double bps = (double)t->cur_bytes * 8.0 * 1e9 / (double)interval;
	if (!t->intervals || bps < t->min_bps)
		t->min_bps = bps;
	if (!t->intervals || bps > t->max_bps)
		t->max_bps = bps;
	t->sum_bps += bps;
	t->sum_bps2 += bps * bps;
	emit(e, t->t0 + cur(t) * interval, interval, t->cur_bytes, 0);
	t->intervals++;
	t->cur_bytes = 0;
}

/* A stretch of n > 1 empty intervals: counted one by one in the statistics but handed to the
 * callback as one row, so an idle hour at a 50 µs timescale is not 72 million calls. */
static void skip_idle(struct vd_tput *t, vd_ns interval, const struct vd_tput_emit *e, int64_t n)
{
	if (!t->intervals)
		t->max_bps = 0;
	t->min_bps = 0;
	emit(e, t->t0 + cur(t) * interval, n * interval, 0, 0);
	t->intervals += (uint64_t)n;
}

/* The end of the open interval, computed with overflow checks since timestamps may be extreme
 * (VD_NS_NONE, below every time, when it overflows). */
static vd_ns open_end(const struct vd_tput *t, vd_ns interval)
{
	vd_ns end;
	if (__builtin_mul_overflow(cur(t) + 1, interval, &end) ||
	    __builtin_add_overflow(end, t->t0, &end))
		return VD_NS_NONE;
	return end;
}

/* The interval TS falls in (after the open one: the caller tried that first). */
static int64_t interval_index(const struct vd_tput *t, vd_ns interval, vd_ns ts)
{
	return ts > t->t0 ? vd_ns_sub_sat(ts, t->t0) / interval : 0;
}

void vd_tput_add(struct vd_tput *t, vd_ns interval, vd_ns ts, uint64_t bytes,
		 const struct vd_tput_emit *e)
{
	/* Most samples fall in the open interval: no division, nothing else read for them. */
	if (ts < t->open_end && started(t)) {
		t->cur_bytes += bytes;
		t->total += bytes;
		if (ts > t->last_ts)
			t->last_ts = ts;
		return;
	}
	if (!started(t)) {
		t->t0 = ts;
		t->open_end = open_end(t, interval);
	}
	int64_t idx = ts < t->open_end ? cur(t) : interval_index(t, interval, ts);
	while (cur(t) < idx) {
		if (!t->cur_bytes && idx - cur(t) > 1) {
			skip_idle(t, interval, e, idx - cur(t));
			break;
		}
		close_interval(t, interval, e);
	}
	t->open_end = open_end(t, interval);
	t->cur_bytes += bytes;
	t->total += bytes;
	if (ts > t->last_ts)
		t->last_ts = ts;
}

void vd_tput_finish(struct vd_tput *t, vd_ns interval, const struct vd_tput_emit *e)
{
	if (!started(t))
		return;
	vd_ns start = t->t0 + cur(t) * interval;
	vd_ns len = t->last_ts - start;
	if (len <= 0)
		len = 1; /* the last sample opened the interval: count it over one ns of coverage */
	emit(e, start, len, t->cur_bytes, 1);
	t->cur_bytes = 0;
	t->open_end = t->t0; /* ended */
}

double vd_tput_mean_bps(const struct vd_tput *t)
{
	return t->intervals ? t->sum_bps / (double)t->intervals : NAN;
}

double vd_tput_sd_bps(const struct vd_tput *t)
{
	if (t->intervals < 2)
		return NAN;
	double n = (double)t->intervals;
	double var = (t->sum_bps2 - t->sum_bps * t->sum_bps / n) / (n - 1);
	return var > 0 ? sqrt(var) : 0;
}
