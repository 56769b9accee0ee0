/* report_csv.c — vmdelay-analyze --csv (report_csv.h): the rows of one probe, from the probes
 * kept after reading or from the streamed analysis as each probe leaves its window. */
#include "report_csv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"

/* A probe at one vantage point, as its rows print it. */
struct csv_point {
	struct vd_echo q; /* the request */
	vd_ns rep_ts;
	uint64_t rep_index;
	int present;
};

static struct vd_delay_times times_of(const struct csv_point *pt)
{
	return pt->present ? (struct vd_delay_times){pt->q.ts, pt->rep_ts}
			   : (struct vd_delay_times){VD_NS_NONE, VD_NS_NONE};
}

/* Layer v's value (v > 0: between point v-1 and v), as vd_delay_layer gives it. */
static vd_ns layer_of(const struct vd_delay *d, const struct csv_point *pt, size_t v,
		      enum vd_delay_dir dir)
{
	if (!v)
		return VD_NS_NONE;
	struct vd_delay_times to = times_of(&pt[v - 1]), ti = times_of(&pt[v]);
	return vd_delay_layer_from(d, v, dir, &to, &ti);
}

static void probe_rows(struct vd_out *o, const struct vd_delay *d, size_t p, int phase,
		       const struct csv_point *pt)
{
	char sbuf[64], dbuf[64], ibuf[16];
	for (size_t v = 0; v < d->nvp; v++) {
		const struct vd_echo *q = &pt[v].q;
		if (!pt[v].present)
			continue;
		snprintf(ibuf, sizeof(ibuf), "%u", (unsigned)q->id);
		vd_out_row_begin(o);
		vd_out_str(o, "vantage", d->vps[v]->name);
		vd_out_str(o, "family", vd_echo_family_name(q));
		vd_out_str(o, "id", q->has_id ? ibuf : NULL);
		vd_out_int(o, "seq", q->seq);
		vd_out_ns(o, "req_ns", q->ts);
		vd_out_ns(o, "rep_ns", pt[v].rep_ts);
		vd_out_ns(o, "rtt_ns", pt[v].rep_ts - q->ts);
		vd_out_ns(o, "delta_ns", layer_of(d, pt, v, VD_DIR_RTT));
		vd_out_ns(o, "send_ns", layer_of(d, pt, v, VD_DIR_SEND));
		vd_out_ns(o, "recv_ns", layer_of(d, pt, v, VD_DIR_RECV));
		vd_out_int(o, "probe", (int64_t)p);
		vd_out_str(o, "phase", phase >= 0 ? vd_delay_phase_name(phase) : NULL);
		vd_out_str(o, "clock", d->vps[v]->clock);
		vd_out_str(o, "src", vd_addr_format(&q->src, sbuf, sizeof(sbuf)));
		vd_out_str(o, "dst", vd_addr_format(&q->dst, dbuf, sizeof(dbuf)));
		vd_out_int(o, "req_index", (int64_t)q->index);
		vd_out_int(o, "rep_index", (int64_t)pt[v].rep_index);
		vd_out_row_end(o);
	}
}

int report_csv(FILE *f, const struct report_ctx *c)
{
	const struct vd_delay *d = c->d;
	struct vd_out *o = vd_out_create(f, VD_OUT_CSV);
	if (!o)
		return -1;
	struct csv_point pt[REPORT_MAX_VANTAGE];
	for (size_t p = 0; p < d->map.n; p++) {
		for (size_t v = 0; v < d->nvp; v++) {
			pt[v].present = vd_probe_echo(&d->map, d->vps, p, v, &pt[v].q) == 0;
			if (!pt[v].present)
				continue;
			const struct vd_echo_pair *r = vd_probe_pair(&d->map, d->vps, p, v);
			pt[v].rep_ts = r->rep_ts;
			pt[v].rep_index = vd_pair_rep_index(d->vps[v], r);
		}
		probe_rows(o, d, p, d->phase[p], pt);
	}
	return vd_out_destroy(o);
}

/* ---- streamed ---- */

enum report_csv_sink report_csv_sink_of(FILE *out)
{
	struct stat st;
	int fd = fileno(out);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && ftello(out) >= 0)
		return REPORT_CSV_CUT;
	return REPORT_CSV_SPOOL;
}

/* A temporary file in $TMPDIR (else /tmp), unlinked at once: no name left behind, whatever way
 * the run ends. NULL (errno) on failure. */
static FILE *spool_open(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	snprintf(path, sizeof(path), "%s/vmdelay-csv.XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	unlink(path);
	FILE *f = fdopen(fd, "w+");
	if (!f)
		close(fd);
	return f;
}

int report_csv_stream_open(struct report_csv_stream *s, FILE *out, enum report_csv_sink sink)
{
	*s = (struct report_csv_stream){.out = out, .f = out, .sink = sink};
	if (sink == REPORT_CSV_CUT) {
		/* appending (>>), writes go to the end, whatever the offset says */
		int fd = fileno(out), fl = fcntl(fd, F_GETFL);
		s->start = fflush(out)			? -1
			   : fl >= 0 && (fl & O_APPEND) ? lseek(fd, 0, SEEK_END)
							: ftello(out);
		if (s->start < 0)
			return -1;
	}
	if (sink == REPORT_CSV_SPOOL && !(s->f = spool_open()))
		return -1;
	if (!(s->o = vd_out_create(s->f, VD_OUT_CSV))) {
		if (sink == REPORT_CSV_SPOOL)
			fclose(s->f);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

int report_csv_stream_probe(void *ctx, const struct vd_delay *d, size_t probe,
			    const struct vd_stream_cell *cell, int8_t phase)
{
	struct report_csv_stream *s = ctx;
	struct csv_point pt[REPORT_MAX_VANTAGE];
	for (size_t v = 0; v < d->nvp; v++) {
		pt[v].present = cell[v].present;
		if (!pt[v].present)
			continue;
		struct vd_echo_req q = {.ts = cell[v].req_ts,
					.index = cell[v].req_index,
					.phase = cell[v].phase,
					.seq = cell[v].seq,
					.flow = cell[v].flow};
		vd_vantage_req_echo(d->vps[v], &q, &pt[v].q);
		pt[v].rep_ts = cell[v].rep_ts;
		pt[v].rep_index = cell[v].rep_index;
	}
	probe_rows(s->o, d, probe, phase, pt);
	return 0;
}

/* The spool's bytes onto out. 0, or -1 on a read or write error (spool_errno for the spool's). */
static int copy_spool(struct report_csv_stream *s)
{
	char buf[1 << 16];
	size_t n;
	if (fflush(s->f) || fseeko(s->f, 0, SEEK_SET))
		goto spool_failed;
	while ((n = fread(buf, 1, sizeof(buf), s->f)) > 0)
		if (fwrite(buf, 1, n, s->out) != n)
			return -1;
	if (!ferror(s->f))
		return 0;
spool_failed:
	s->spool_errno = errno ? errno : EIO;
	return -1;
}

int report_csv_stream_close(struct report_csv_stream *s, int keep)
{
	errno = 0;
	int rc = vd_out_destroy(s->o);
	s->o = NULL;
	if (!keep)
		rc = 0;
	if (rc < 0 && s->sink == REPORT_CSV_SPOOL && ferror(s->f))
		s->spool_errno = errno ? errno : EIO;
	if (keep && s->sink == REPORT_CSV_SPOOL && rc == 0)
		rc = copy_spool(s);
	/* dropped: back to where the rows began, as if none had been written */
	if (!keep && s->sink == REPORT_CSV_CUT &&
	    (fflush(s->out) || ftruncate(fileno(s->out), s->start) ||
	     fseeko(s->out, s->start, SEEK_SET)))
		rc = -1;
	if (s->sink == REPORT_CSV_SPOOL)
		fclose(s->f);
	return rc;
}
