/* bpf_record.c — `tcpmon record` with the bpf backend (see bpf_record.h): the rings drained on a
 * timer into the .tcm file, the counters turned into its loss and stats blocks at the end. */
#include "bpf_record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "bpf_load.h"
#include "bpf_maps.h"
#include "bpf_metrics.h"
#include "bpf_pin.h"
#include "bpf_reader.h"
#include "bpf_slots.h"
#include "cmds.h"
#include "live.h"
#include "prom.h"
#include "vmdelay/input/tcmrec.h"
#include "vmdelay/record.h"

#define POLL_NS (5 * 1000 * 1000) /* an idle ring is looked at every 5 ms */

/* Where the records come from: programs this process loaded (own), or those a `start` left
 * running (pinned: their maps opened from bpffs, their configuration theirs). */
struct source {
	struct tcpmon_bpf_loaded own;
	int pinned_fd[TCPMON_NMAPS];
	int pinned;
	const int *map_fd; /* own.map_fd or pinned_fd */
	struct tcpmon_bpf_config cfg;
	uint32_t layers;
	struct tcpmon_slots rings;
	uint64_t *base; /* pinned: each CPU's counters where this recording begins; own: NULL */
};

static void source_close(struct source *src)
{
	tcpmon_slots_close(&src->rings);
	for (int i = 0; src->pinned && i < TCPMON_NMAPS; i++)
		close(src->pinned_fd[i]);
	tcpmon_bpf_unload(&src->own);
	free(src->base);
	memset(src, 0, sizeof(*src));
}

/* Loads and attaches this recording's programs; they run once source_begin configures them. */
static int source_open_own(struct source *src, uint32_t want, unsigned families,
			   uint32_t ring_bytes, struct vd_err *err)
{
	if (tcpmon_bpf_load(&src->own, want, families, ring_bytes, err))
		return -1;
	src->map_fd = src->own.map_fd;
	src->layers = src->own.layers;
	return tcpmon_slots_open(&src->rings, src->map_fd[TCPMON_MAP_SLOTS],
				 src->map_fd[TCPMON_MAP_TAILS], src->own.ncpu, src->own.slot_bits,
				 err);
}

/* A reader of pinned programs starts at the first record not yet read on each CPU: its seqno,
 * and the records lost before it (seqno - slot), are where this recording's counts begin (0 for
 * the first reader after `start`). */
static int pinned_base(struct source *src, struct tcpmon_reader *rd, struct vd_err *err)
{
	src->base = calloc(rd->ncpu, sizeof(uint64_t) * __TCPMON_BPF_C_MAX);
	if (!src->base)
		return vd_err_set(err, "out of memory");
	if (tcpmon_counters_read(src->map_fd[TCPMON_MAP_COUNTERS], src->base, err))
		return -1;
	for (unsigned c = 0; c < rd->ncpu; c++) {
		uint64_t *b = src->base + c * __TCPMON_BPF_C_MAX, slot = src->rings.next[c];
		uint32_t seqno;

		if (tcpmon_slots_peek(&src->rings, c, &seqno)) {
			/* the counters have moved on since that record: back to it */
			b[TCPMON_BPF_C_SEQNO] -= (uint32_t)(b[TCPMON_BPF_C_SEQNO] - seqno);
			b[TCPMON_BPF_C_LOST] = b[TCPMON_BPF_C_SEQNO] - slot;
		}
		rd->cpu[c].seen = 1;
		rd->cpu[c].next = (uint32_t)b[TCPMON_BPF_C_SEQNO];
	}
	return 0;
}

/* The maps of the programs a `start` left pinned, and the rings where this reader begins. */
static int source_open_pinned(struct source *src, struct tcpmon_reader *rd, struct vd_err *err)
{
	if (tcpmon_pin_open(src->pinned_fd, err))
		return -1;
	src->pinned = 1;
	src->map_fd = src->pinned_fd;
	if (tcpmon_config_get(src->map_fd[TCPMON_MAP_CONFIG], &src->cfg, err))
		return -1;
	src->layers = src->cfg.layers;
	if (tcpmon_slots_open(&src->rings, src->map_fd[TCPMON_MAP_SLOTS],
			      src->map_fd[TCPMON_MAP_TAILS], rd->ncpu, src->cfg.slot_bits, err))
		return -1;
	return pinned_base(src, rd, err);
}

/* Sets the programs going: our own with the filter (a `start`'s run with theirs already). */
static int source_begin(struct source *src, const struct vd_tcmnl_filter *filter,
			struct vd_err *err)
{
	if (src->pinned) {
		fprintf(stderr,
			"tcpmon: bpf backend recording from the programs `tcpmon start` left in "
			"%s%s\n",
			TCPMON_PIN_DIR,
			src->cfg.running ? "" : " (stopped: reading what they left)");
		return 0;
	}
	if (tcpmon_config_run(src->map_fd[TCPMON_MAP_CONFIG], filter, src->layers,
			      src->own.slot_bits, &src->cfg, err))
		return -1;
	fprintf(stderr,
		"tcpmon: bpf backend recording (%zu netfilter links in %zu network namespaces)\n",
		src->own.nf.n, src->own.nf.netns);
	return 0;
}

/* The .tcm header: the programs stamp records with bpf_ktime (CLOCK_MONOTONIC), no TSC. */
static int writer_open(const char *path, uint32_t layers, struct tcpmon_reader *rd,
		       struct vd_err *err)
{
	struct vd_tcmrec_info info;

	memset(&info, 0, sizeof(info));
	tcpmon_host_info(&info);
	info.tsc_khz = 0;
	info.clock_flags |= TCPMON_CLK_KTIME_ONLY;
	info.ncpus = rd->ncpu;
	info.layers = layers;
	return vd_tcmrec_writer_open(path, &info, &rd->w, err);
}

/* Said while recording, once a second at most, so an operator sees loss when it happens. */
static void warn_new_loss(int counters_fd, struct tcpmon_reader *rd, uint64_t *seen)
{
	uint64_t c[__TCPMON_BPF_C_MAX];
	struct vd_err err;

	if (tcpmon_counters_sum(counters_fd, rd->ncpu, NULL, c, rd->cpu_lost, &err) ||
	    c[TCPMON_BPF_C_LOST] == *seen)
		return;
	fprintf(stderr,
		"tcpmon: warning: %llu records lost in the last second (ring full: --ring-mb)\n",
		(unsigned long long)(c[TCPMON_BPF_C_LOST] - *seen));
	*seen = c[TCPMON_BPF_C_LOST];
}

/* Drains the rings until opts' limits, a signal, a write error or (pinned) `tcpmon stop`,
 * printing the live statistics and answering scrapes in between. */
static int record_loop(const struct tcpmon_bpf_opts *o, struct source *src,
		       struct tcpmon_reader *rd, struct tcpmon_prom *prom, struct vd_out *out,
		       struct vd_err *err)
{
	struct tcpmon_bpf_scrape sc = {rd, src->map_fd[TCPMON_MAP_COUNTERS]};
	uint64_t c[__TCPMON_BPF_C_MAX], lost_seen;
	vd_ns start, last_off, last_stats;

	if (tcpmon_counters_sum(sc.counters_fd, rd->ncpu, NULL, c, NULL, err))
		return -1;
	lost_seen = c[TCPMON_BPF_C_LOST];
	start = last_off = last_stats = vd_now(CLOCK_MONOTONIC);
	while (!tcpmon_stop_requested() && !rd->failed) {
		vd_ns now;
		/* The programs never wake us (a wakeup costs microseconds per record): the rings
		 * are drained on a timer, sleeping only when they were empty. */
		int n = tcpmon_slots_drain(&src->rings, tcpmon_reader_on_record, rd);

		if (n == 0) {
			struct timespec ts = {0, POLL_NS};
			nanosleep(&ts, NULL);
		}
		if (rd->limit && rd->count >= rd->limit)
			break;
		now = vd_now(CLOCK_MONOTONIC);
		if (vd_ns_valid(o->duration) && now - start >= o->duration)
			break;
		if (now - last_off >= VD_NS_PER_SEC) {
			rd->real_offset = tcpmon_realtime_offset();
			last_off = now;
			warn_new_loss(sc.counters_fd, rd, &lost_seen);
			/* `tcpmon stop` ended the programs: what they left is read below */
			if (src->pinned &&
			    (tcpmon_config_get(src->map_fd[TCPMON_MAP_CONFIG], &src->cfg, err) ||
			     !src->cfg.running))
				break;
		}
		if (out && now - last_stats >= o->stats_every) {
			tcpmon_live_print(rd->live, out, now - start);
			vd_out_flush(out);
			fflush(stdout);
			last_stats = now;
		}
		tcpmon_prom_serve(prom, tcpmon_bpf_metrics, &sc);
	}
	return 0;
}

/* Stops our own programs (a `start`'s run on), takes what they left in the rings, writes the
 * file's loss and stats blocks and says what was recorded. */
static int record_end(const struct tcpmon_bpf_opts *o, struct source *src, struct tcpmon_reader *rd,
		      struct vd_err *err)
{
	uint64_t c[__TCPMON_BPF_C_MAX];

	if (!src->pinned && tcpmon_config_stop(src->map_fd[TCPMON_MAP_CONFIG], err))
		return -1;
	tcpmon_slots_drain(&src->rings, tcpmon_reader_on_record, rd);
	if (rd->failed || tcpmon_reader_flush(rd) ||
	    tcpmon_counters_sum(src->map_fd[TCPMON_MAP_COUNTERS], rd->ncpu, src->base, c,
				rd->cpu_lost, &rd->err) ||
	    tcpmon_reader_write_end(rd, tcpmon_counters_recorded(c), c[TCPMON_BPF_C_LOST],
				    c[TCPMON_BPF_C_FILTERED], rd->cpu_lost)) {
		*err = rd->err;
		return -1;
	}
	fprintf(
	    stderr,
	    "tcpmon: %llu records written to %s; bpf: %llu recorded, %llu lost, %llu filtered\n",
	    (unsigned long long)rd->count, o->path, (unsigned long long)tcpmon_counters_recorded(c),
	    (unsigned long long)c[TCPMON_BPF_C_LOST], (unsigned long long)c[TCPMON_BPF_C_FILTERED]);
	if (c[TCPMON_BPF_C_LOST])
		fprintf(stderr,
			"tcpmon: warning: %llu records lost (ring full): enlarge it with "
			"--ring-mb\n",
			(unsigned long long)c[TCPMON_BPF_C_LOST]);
	return 0;
}

int tcpmon_bpf_record(const struct tcpmon_bpf_opts *o)
{
	unsigned families;
	uint32_t want = tcpmon_bpf_wanted(o->filter, &families);
	int live = vd_ns_valid(o->stats_every) || o->prometheus;
	struct source src;
	struct tcpmon_reader *rd;
	struct tcpmon_prom *prom = NULL;
	struct vd_out *out = NULL;
	struct vd_err err, ignored;
	int ncpu, rc;

	if ((rc = tcpmon_bpf_can_load(&want)))
		return rc;
	ncpu = libbpf_num_possible_cpus();
	rd = ncpu > 0 ? tcpmon_reader_new((unsigned)ncpu, o->count, live) : NULL;
	if (!rd) {
		fprintf(stderr, "tcpmon: out of memory\n");
		return VD_EXIT_RUNTIME;
	}
	tcpmon_catch_signals();
	memset(&src, 0, sizeof(src));
	if (tcpmon_pin_exists() ? source_open_pinned(&src, rd, &err)
				: source_open_own(&src, want, families, o->ring_bytes, &err))
		goto fail;
	if (writer_open(o->path, src.layers, rd, &err))
		goto fail;
	if (o->prometheus && tcpmon_prom_open(o->prometheus, &prom, &err))
		goto fail;
	if (vd_ns_valid(o->stats_every) && !(out = vd_out_create(stdout, o->mode))) {
		vd_err_set(&err, "out of memory");
		goto fail;
	}
	if (source_begin(&src, o->filter, &err) || record_loop(o, &src, rd, prom, out, &err) ||
	    record_end(o, &src, rd, &err))
		goto fail;
	if (vd_tcmrec_writer_close(rd->w, &err)) {
		fprintf(stderr, "tcpmon: %s\n", err.msg);
		rc = VD_EXIT_RUNTIME;
	}
	goto close;

fail:
	fprintf(stderr, "tcpmon: %s\n", err.msg);
	rc = VD_EXIT_RUNTIME;
	if (rd->w)
		vd_tcmrec_writer_close(rd->w, &ignored);
close:
	if (out && vd_out_destroy(out) && !rc) {
		fprintf(stderr, "tcpmon: write error on standard output\n");
		rc = VD_EXIT_RUNTIME;
	}
	tcpmon_prom_close(prom);
	source_close(&src);
	tcpmon_reader_free(rd);
	return rc;
}
