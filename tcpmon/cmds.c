/* cmds.c — tcpmon's subcommands over the generic netlink session and the record file library. */
#include "cmds.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "nl.h"
#include "vmdelay/core/err.h"
#include "vmdelay/input/tcmnl.h"
#include "vmdelay/input/tcmrec.h"

static int fail(const struct vd_err *err)
{
	fprintf(stderr, "tcpmon: %s\n", err->msg);
	return VD_EXIT_RUNTIME;
}

static int control(uint8_t cmd, const struct vd_tcmnl_filter *f)
{
	struct tcpmon_nl *nl;
	struct vd_err err;
	int rc;

	if (tcpmon_nl_open(&nl, &err))
		return fail(&err);
	rc = tcpmon_nl_call(nl, cmd, 0, f, NULL, NULL, NULL, &err);
	tcpmon_nl_close(nl);
	return rc ? fail(&err) : 0;
}

int tcpmon_cmd_start(const struct vd_tcmnl_filter *filter)
{
	struct vd_tcmnl_filter f = *filter;

	/* START without filter words clears the filter: send an empty nest */
	f.has_filter = 1;
	return control(TCPMON_CMD_START, &f);
}

int tcpmon_cmd_filter(const struct vd_tcmnl_filter *filter)
{
	struct vd_tcmnl_filter f = *filter;
	int rc;

	f.has_filter = 1;
	rc = control(TCPMON_CMD_SET_FILTER, &f);
	if (!rc && f.has_layers)
		rc = control(TCPMON_CMD_SET_LAYERS, &f);
	return rc;
}

int tcpmon_cmd_stop(void)
{
	return control(TCPMON_CMD_STOP, NULL);
}

static int stats_cb(const struct vd_tcmnl_msg *m, void *ctx, struct vd_err *err)
{
	if (m->has_stats)
		*(struct vd_tcmnl_stats *)ctx = m->stats;
	return 0;
}

static int get_stats(struct tcpmon_nl *nl, struct vd_tcmnl_stats *s, struct vd_err *err)
{
	memset(s, 0, sizeof(*s));
	s->ncpus = UINT32_MAX;
	if (tcpmon_nl_call(nl, TCPMON_CMD_GET_STATS, 0, NULL, stats_cb, s, NULL, err))
		return -1;
	if (s->ncpus == UINT32_MAX)
		return vd_err_set(err, "kernel reply without statistics");
	return 0;
}

int tcpmon_cmd_stats(enum vd_out_mode mode, int cost)
{
	struct tcpmon_nl *nl;
	struct vd_tcmnl_stats s;
	struct vd_err err;
	struct vd_out *o;
	char flags[160], layers[256] = "";
	int rc;

	if (tcpmon_nl_open(&nl, &err))
		return fail(&err);
	rc = get_stats(nl, &s, &err);
	tcpmon_nl_close(nl);
	if (rc)
		return fail(&err);
	o = vd_out_create(stdout, mode);
	if (!o)
		return VD_EXIT_RUNTIME;
	vd_tcmrec_clock_flags(s.clock_flags, flags, sizeof(flags));
	for (unsigned l = 1; l < __TCPMON_L_MAX; l++)
		if (s.layers & (1u << l))
			snprintf(layers + strlen(layers), sizeof(layers) - strlen(layers), "%s%s",
				 *layers ? "," : "", vd_tcmrec_layer_name(l));
	if (!cost) {
		vd_out_row_begin(o);
		vd_out_str(o, "running", s.running ? "yes" : "no");
		vd_out_int(o, "recorded", (int64_t)s.recorded);
		vd_out_int(o, "lost", (int64_t)s.lost);
		vd_out_int(o, "read", (int64_t)s.read);
		vd_out_int(o, "filtered", (int64_t)s.filtered);
		vd_out_int(o, "ring_records", s.ring_records);
		vd_out_int(o, "ncpus", s.ncpus);
		vd_out_int(o, "tsc_khz", s.tsc_khz);
		vd_out_str(o, "clock_flags", flags);
		vd_out_int(o, "hooks_missing", s.hooks_missing);
		vd_out_str(o, "layers", layers);
		vd_out_row_end(o);
	} else {
		/* per layer hook cost, cycles from hook entry to record committed */
		for (unsigned l = 1; l < __TCPMON_L_MAX; l++) {
			const uint32_t *h = s.cost[l];
			uint64_t n = vd_tcmnl_cost_count(h);
			vd_out_row_begin(o);
			vd_out_str(o, "layer", vd_tcmrec_layer_name(l));
			vd_out_int(o, "samples", (int64_t)n);
			vd_out_dbl(o, "median_cycles", n ? vd_tcmnl_cost_quantile(h, 0.5) : NAN, 0);
			vd_out_dbl(o, "p99_cycles", n ? vd_tcmnl_cost_quantile(h, 0.99) : NAN, 0);
			vd_out_row_end(o);
		}
	}
	if (s.hooks_missing)
		fprintf(stderr,
			"tcpmon: warning: hooks missing in this kernel (mask 0x%x), their layers "
			"are incomplete\n",
			s.hooks_missing);
	return vd_out_destroy(o) ? VD_EXIT_RUNTIME : 0;
}

/* ---- record ---- */
static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

void tcpmon_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int tcpmon_stop_requested(void)
{
	return stop_flag;
}

struct rec_ctx {
	struct vd_tcmrec_writer *w;
	uint64_t count, limit;
	struct tcpmon_record *buf;
	size_t cap;
};

static int records_cb(const struct vd_tcmnl_msg *m, void *ctx, struct vd_err *err)
{
	struct rec_ctx *c = ctx;
	size_t n = m->nrecords;

	if (!n)
		return 0;
	if (c->limit && c->count + n > c->limit)
		n = (size_t)(c->limit - c->count); /* -c: exactly COUNT records */
	if (n > c->cap) {
		free(c->buf);
		c->buf = malloc(n * sizeof(*c->buf));
		c->cap = c->buf ? n : 0;
		if (!c->buf)
			return vd_err_set(err, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		vd_tcmrec_decode_record(m->records + i * m->record_size, m->record_size,
					&c->buf[i]);
	c->count += n;
	return vd_tcmrec_write_records(c->w, c->buf, n, err);
}

static int calib_cb(const struct vd_tcmnl_msg *m, void *ctx, struct vd_err *err)
{
	struct rec_ctx *c = ctx;
	struct tcpmon_calib cal[256];
	size_t done = 0;

	while (done < m->ncalib) {
		size_t n = m->ncalib - done < 256 ? m->ncalib - done : 256;
		for (size_t i = 0; i < n; i++)
			vd_tcmrec_decode_calib(m->calib + (done + i) * sizeof(struct tcpmon_calib),
					       sizeof(struct tcpmon_calib), &cal[i]);
		if (vd_tcmrec_write_calib(c->w, cal, n, err))
			return -1;
		done += n;
	}
	return 0;
}

static void read_clocksource(char *buf, size_t len)
{
	FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");

	buf[0] = '\0';
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

void tcpmon_host_info(struct vd_tcmrec_info *info)
{
	struct utsname un;

	info->start_real_ns = vd_now(CLOCK_REALTIME);
	info->realtime_offset_ns = info->start_real_ns - vd_now(CLOCK_MONOTONIC);
	if (uname(&un) == 0) {
		snprintf(info->kernel_release, sizeof(info->kernel_release), "%s", un.release);
		snprintf(info->hostname, sizeof(info->hostname), "%s", un.nodename);
	}
	read_clocksource(info->clocksource, sizeof(info->clocksource));
	if (!strcmp(info->clocksource, "tsc"))
		info->clock_flags |= TCPMON_CLK_CLOCKSOURCE_TSC;
}

int tcpmon_cmd_record(const char *path, uint64_t count, vd_ns duration)
{
	struct rec_ctx c = {.limit = count};
	struct vd_tcmrec_info info;
	struct tcpmon_nl *nl;
	struct vd_tcmnl_stats s;
	struct vd_err err;
	vd_ns start, last_cal;
	int rc = 0;

	if (tcpmon_nl_open(&nl, &err))
		return fail(&err);
	if (get_stats(nl, &s, &err)) {
		tcpmon_nl_close(nl);
		return fail(&err);
	}
	if (!s.running)
		fprintf(stderr, "tcpmon: note: recording is not started (tcpmon start); reading "
				"what is buffered\n");
	memset(&info, 0, sizeof(info));
	info.tsc_khz = s.tsc_khz;
	info.clock_flags = s.clock_flags;
	info.ncpus = s.ncpus;
	info.layers = s.layers;
	tcpmon_host_info(&info);
	if (vd_tcmrec_writer_open(path, &info, &c.w, &err)) {
		tcpmon_nl_close(nl);
		return fail(&err);
	}
	tcpmon_catch_signals();

	start = last_cal = vd_now(CLOCK_MONOTONIC);
	if (tcpmon_nl_call(nl, TCPMON_CMD_CALIBRATE, 0, NULL, calib_cb, &c, NULL, &err))
		goto out_err;
	while (!stop_flag) {
		uint64_t before = c.count;
		vd_ns now;

		if (tcpmon_nl_call(nl, TCPMON_CMD_READ, 1, NULL, records_cb, &c, NULL, &err))
			goto out_err;
		if (c.limit && c.count >= c.limit)
			break;
		now = vd_now(CLOCK_MONOTONIC);
		if (vd_ns_valid(duration) && now - start >= duration)
			break;
		if (now - last_cal >= VD_NS_PER_SEC) {
			if (tcpmon_nl_call(nl, TCPMON_CMD_CALIBRATE, 0, NULL, calib_cb, &c, NULL,
					   &err))
				goto out_err;
			last_cal = now;
		}
		if (c.count == before) {
			struct timespec ts = {0, 20 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
	/* the last batch, a closing calibration pair and the kernel's counters */
	if (!(c.limit && c.count >= c.limit) &&
	    tcpmon_nl_call(nl, TCPMON_CMD_READ, 1, NULL, records_cb, &c, NULL, &err))
		goto out_err;
	if (tcpmon_nl_call(nl, TCPMON_CMD_CALIBRATE, 0, NULL, calib_cb, &c, NULL, &err) ||
	    get_stats(nl, &s, &err))
		goto out_err;
	{
		struct tcpmon_file_stats fs = {s.recorded, s.lost, s.read, s.filtered};
		if (vd_tcmrec_write_stats(c.w, &fs, &err))
			goto out_err;
	}
	fprintf(stderr, "tcpmon: %llu records written to %s; kernel: %llu recorded, %llu lost\n",
		(unsigned long long)c.count, path, (unsigned long long)s.recorded,
		(unsigned long long)s.lost);
	goto out;
out_err:
	fail(&err);
	rc = VD_EXIT_RUNTIME;
out:
	if (vd_tcmrec_writer_close(c.w, &err) && !rc)
		rc = fail(&err);
	tcpmon_nl_close(nl);
	free(c.buf);
	return rc;
}

int tcpmon_cmd_dump(const char *path, enum vd_out_mode mode, enum tcpmon_dump_what what)
{
	struct tcmrec *rd;
	struct vd_err err;
	struct vd_out *o;
	int rc;

	if (vd_tcmrec_open(path, &rd, &err))
		return fail(&err);
	o = vd_out_create(stdout, mode);
	if (!o) {
		vd_tcmrec_free(rd);
		return VD_EXIT_RUNTIME;
	}
	if (what == TCPMON_DUMP_HEADER)
		vd_tcmrec_dump_info(rd, o);
	else if (what == TCPMON_DUMP_LOSS)
		vd_tcmrec_dump_loss(rd, o);
	else
		vd_tcmrec_dump(rd, o);
	rc = vd_out_destroy(o);
	vd_tcmrec_free(rd);
	/* a write error on stdout is reported by vd_cli_exit, when main returns */
	return rc ? VD_EXIT_RUNTIME : 0;
}
