/* report.c — tping's per-probe lines, CSV / JSON rows and closing summary. */
#include "report.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vmdelay/net/icmp_echo.h"

const char *tping_layer_name(enum tping_layer l)
{
	static const char *const names[TPING_LAYER__COUNT] = {"user", "kernel", "hardware", "dUser",
							      "dSched"};
	return (unsigned)l < TPING_LAYER__COUNT ? names[l] : "?";
}

vd_ns tping_layer_value(const struct vd_probe *p, enum tping_layer l)
{
	switch (l) {
	case TPING_LAYER_USER:
		return vd_probe_user_rtt(p);
	case TPING_LAYER_KERNEL:
		return vd_probe_kernel_rtt(p);
	case TPING_LAYER_HW:
		return vd_probe_hw_rtt(p);
	case TPING_LAYER_DUSER:
		return vd_ns_diff(vd_probe_user_rtt(p), vd_probe_kernel_rtt(p));
	case TPING_LAYER_DSCHED:
		return vd_ns_diff(p->kernel_tx, p->sched_tx);
	default:
		return VD_NS_NONE;
	}
}

void tping_report_row(struct vd_out *o, const struct vd_probe *p)
{
	vd_out_row_begin(o);
	vd_out_int(o, "seq", p->seq);
	vd_out_str(o, "phase", vd_phase_name(p->phase));
	vd_out_str(o, "status", vd_probe_status_name(p->status));
	vd_out_ns(o, "user_tx_ns", p->user_tx);
	vd_out_ns(o, "sched_tx_ns", p->sched_tx);
	vd_out_ns(o, "kernel_tx_ns", p->kernel_tx);
	vd_out_ns(o, "hw_tx_ns", p->hw_tx);
	vd_out_ns(o, "kernel_rx_ns", p->kernel_rx);
	vd_out_ns(o, "hw_rx_ns", p->hw_rx);
	vd_out_ns(o, "user_rx_ns", p->user_rx);
	vd_out_ns(o, "user_rtt_ns", vd_probe_user_rtt(p));
	vd_out_ns(o, "kernel_rtt_ns", vd_probe_kernel_rtt(p));
	vd_out_ns(o, "hw_rtt_ns", vd_probe_hw_rtt(p));
	vd_out_int_opt(o, "size", p->size >= 0, p->size);
	vd_out_int_opt(o, "ttl", p->ttl >= 0, p->ttl);
	vd_out_ns(o, "sched_tx_last_ns", p->sched_tx_last);
	vd_out_int_opt(o, "icmp_type", p->icmp_type >= 0, p->icmp_type);
	vd_out_int_opt(o, "icmp_code", p->icmp_code >= 0, p->icmp_code);
	vd_out_int_opt(o, "cpu", p->cpu >= 0, p->cpu);
	vd_out_ns(o, "timer_late_ns", p->timer_late);
	vd_out_row_end(o);
}

static void print_ms(FILE *f, const char *label, vd_ns v)
{
	if (vd_ns_valid(v))
		fprintf(f, " %s=%.3f ms", label, (double)v / 1e6);
}

static void print_line(struct tping_report *rp, const struct vd_probe *p, const char *from)
{
	FILE *f = rp->lines;
	if (rp->o->print_time) {
		vd_ns t = vd_ns_valid(p->user_rx) ? p->user_rx : p->user_tx;
		if (vd_ns_valid(t))
			fprintf(f, "[%" PRId64 ".%06" PRId64 "] ", t / VD_NS_PER_SEC,
				(t % VD_NS_PER_SEC) / 1000);
	}
	unsigned seq16 = p->seq & 0xffff;
	switch (p->status) {
	case VD_PROBE_LOST:
		fprintf(f, "no answer for icmp_seq=%u\n", seq16);
		return;
	case VD_PROBE_ICMP_ERROR: {
		char b[80];
		fprintf(f, "From %s icmp_seq=%u %s\n", from ? from : "?", seq16,
			vd_icmp_error_str(rp->s->family, p->icmp_type, p->icmp_code, b, sizeof(b)));
		return;
	}
	default:
		break;
	}
	fprintf(f, "%d bytes from %s: icmp_seq=%u", p->size, from ? from : rp->s->dst_str, seq16);
	if (p->ttl >= 0)
		fprintf(f, " ttl=%d", p->ttl);
	print_ms(f, "time", vd_probe_user_rtt(p));
	print_ms(f, "kernel", vd_probe_kernel_rtt(p));
	print_ms(f, "hw", vd_probe_hw_rtt(p));
	if (p->status == VD_PROBE_DUPLICATE)
		fputs(" (DUP!)", f);
	else if (p->status == VD_PROBE_LATE)
		fputs(" (LATE)", f);
	fputc('\n', f);
}

static void sums_add(struct tping_report *rp, const struct vd_probe *p)
{
	if (!rp->sums_ready) {
		for (int ph = 0; ph <= VD_PHASE__COUNT; ph++)
			for (int l = 0; l < TPING_LAYER__COUNT; l++)
				vd_qhist_init(&rp->layer[ph][l]);
		vd_qhist_init(&rp->late);
		memset(rp->jitter, 0, sizeof(rp->jitter));
		rp->sums_ready = 1;
	}
	int bad = 0;
	if (p->status == VD_PROBE_OK)
		for (int l = 0; l < TPING_LAYER__COUNT; l++) {
			vd_ns v = tping_layer_value(p, (enum tping_layer)l);
			bad |= vd_qhist_add(&rp->layer[p->phase][l], v);
			bad |= vd_qhist_add(&rp->layer[VD_PHASE__COUNT][l], v);
			vd_jitter_add(&rp->jitter[l], v);
		}
	if (p->status != VD_PROBE_DUPLICATE && p->status != VD_PROBE_LATE)
		bad |= vd_qhist_add(&rp->late, p->timer_late);
	if (bad)
		rp->oom = 1;
}

void tping_report_layer_summary(const struct tping_report *rp, enum vd_phase ph, enum tping_layer l,
				struct vd_summary *out)
{
	struct vd_qhist empty;
	vd_qhist_init(&empty);
	vd_qhist_summary(rp->sums_ready ? &rp->layer[ph][l] : &empty, out);
}

double tping_report_layer_jitter(const struct tping_report *rp, enum tping_layer l)
{
	return rp->sums_ready && rp->jitter[l].have_prev ? rp->jitter[l].jitter_ns : NAN;
}

void tping_report_lateness(const struct tping_report *rp, struct vd_summary *out)
{
	struct vd_qhist empty;
	vd_qhist_init(&empty);
	vd_qhist_summary(rp->sums_ready ? &rp->late : &empty, out);
}

void tping_report_emit(void *ctx, const struct vd_probe *p, const char *from)
{
	struct tping_report *rp = ctx;
	sums_add(rp, p);
	if (rp->keep_recs && rp->n == rp->cap) {
		size_t cap = rp->cap ? rp->cap * 2 : 256;
		struct vd_probe *r = realloc(rp->recs, cap * sizeof(*r));
		if (!r) {
			rp->oom = 1;
		} else {
			rp->recs = r;
			rp->cap = cap;
		}
	}
	if (rp->keep_recs && rp->n < rp->cap)
		rp->recs[rp->n++] = *p;
	if (rp->st && !rp->store_failed &&
	    vd_store_add_probe(rp->st, rp->run_id, p, &rp->store_err)) {
		rp->store_failed = 1;
		fprintf(stderr, "tping: --db: %s (the rest of the run is not stored)\n",
			rp->store_err.msg);
	}
	if (rp->rows)
		tping_report_row(rp->rows, p);
	if (rp->lines) {
		print_line(rp, p, from);
		fflush(rp->lines);
	}
}

void tping_report_warn(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "tping: %s\n", msg);
}

int tping_report_layer(const struct vd_probe *recs, size_t n, enum vd_phase ph, enum tping_layer l,
		       struct vd_summary *out)
{
	vd_ns *v = malloc((n ? n : 1) * sizeof(*v));
	if (!v)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (recs[i].status == VD_PROBE_OK && (ph == VD_PHASE__COUNT || recs[i].phase == ph))
			v[k++] = tping_layer_value(&recs[i], l);
	int rc = vd_summarize(v, k, out);
	free(v);
	return rc;
}

double tping_report_jitter(const struct vd_probe *recs, size_t n, enum tping_layer l)
{
	struct vd_jitter j = {0};
	for (size_t i = 0; i < n; i++)
		if (recs[i].status == VD_PROBE_OK)
			vd_jitter_add(&j, tping_layer_value(&recs[i], l));
	return j.have_prev ? j.jitter_ns : NAN;
}

static void layer_rows(struct vd_out *t, const struct tping_report *rp, enum vd_phase ph)
{
	for (int l = 0; l < TPING_LAYER__COUNT; l++) {
		struct vd_summary s;
		tping_report_layer_summary(rp, ph, (enum tping_layer)l, &s);
		if (s.n == 0 && (l == TPING_LAYER_HW || ph != VD_PHASE__COUNT))
			continue; /* no hardware stamps, or a phase not reached: no row of dashes */
		char name[48];
		snprintf(name, sizeof(name), "%s%s%s", tping_layer_name((enum tping_layer)l),
			 ph == VD_PHASE__COUNT ? "" : "/",
			 ph == VD_PHASE__COUNT ? "" : vd_phase_name(ph));
		vd_out_row_begin(t);
		vd_out_str(t, "layer", name);
		vd_out_int(t, "n", (int64_t)s.n);
		vd_out_ns(t, "min_ns", s.min);
		vd_out_ns(t, "median_ns", s.median);
		vd_out_ns(t, "mean_ns", isnan(s.mean) ? VD_NS_NONE : (vd_ns)llround(s.mean));
		vd_out_ns(t, "p99_ns", s.p99);
		vd_out_ns(t, "max_ns", s.max);
		vd_out_ns(t, "sd_ns", isnan(s.sd) ? VD_NS_NONE : (vd_ns)llround(s.sd));
		vd_out_row_end(t);
	}
}

void tping_report_summary(struct tping_report *rp, const struct tping_run *r, FILE *f,
			  const char *extra_lines)
{
	const struct tping_counts *c = &r->c;
	uint64_t attempted = c->sent + c->send_errors;
	double loss = attempted ? 100.0 * (double)c->lost / (double)attempted : 0;
	fprintf(f, "\n--- %s tping statistics ---\n", rp->o->target);
	fprintf(f,
		"%" PRIu64 " probes sent, %" PRIu64 " received, %" PRIu64 " lost (%.2f%%), %" PRIu64
		" duplicates, %" PRIu64 " reordered, %" PRIu64 " late, %" PRIu64
		" ICMP errors, time %.0f ms%s\n",
		attempted, c->received, c->lost, loss, c->duplicates, c->reordered, c->late,
		c->icmp_errors, (double)(r->end_real - r->start_real) / 1e6,
		r->interrupted ? " (interrupted)" : "");
	double ju = tping_report_layer_jitter(rp, TPING_LAYER_USER);
	double jk = tping_report_layer_jitter(rp, TPING_LAYER_KERNEL);
	if (!isnan(ju))
		fprintf(f, "jitter (RFC 3550): user %.3f ms, kernel %.3f ms\n", ju / 1e6,
			isnan(jk) ? NAN : jk / 1e6);
	if (extra_lines)
		fputs(extra_lines, f);
	if (!c->received)
		return; /* no reply: no table of dashes */
	struct vd_out *t = vd_out_create(f, VD_OUT_TEXT);
	if (!t)
		return;
	layer_rows(t, rp, VD_PHASE__COUNT);
	if (rp->o->rest > 0)
		for (int ph = 0; ph < VD_PHASE__COUNT; ph++)
			layer_rows(t, rp, (enum vd_phase)ph);
	vd_out_destroy(t);
}

void tping_report_free(struct tping_report *rp)
{
	if (rp->sums_ready) {
		for (int ph = 0; ph <= VD_PHASE__COUNT; ph++)
			for (int l = 0; l < TPING_LAYER__COUNT; l++)
				vd_qhist_free(&rp->layer[ph][l]);
		vd_qhist_free(&rp->late);
		rp->sums_ready = 0;
	}
	free(rp->recs);
	rp->recs = NULL;
	rp->n = rp->cap = 0;
}
