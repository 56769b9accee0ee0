/* report_csv.h — vmdelay-analyze --csv: one row per probe per vantage point
 * (docs/formats/analyze.md), from the probes kept after reading (report_csv in report.h) or
 * written probe by probe as the streamed analysis hands them on (delay_stream.h). */
#ifndef VMDELAY_ANALYZE_REPORT_CSV_H
#define VMDELAY_ANALYZE_REPORT_CSV_H

#include <stdio.h>
#include <sys/types.h>

#include "vmdelay/delay/delay_stream.h"
#include "vmdelay/out/output.h"

/* Where the streamed rows go until the analysis is known to succeed: a reader that fails
 * half-way sends the caller back to the after-reading path, which writes the report anew. */
enum report_csv_sink {
	REPORT_CSV_DIRECT, /* into out; the caller drops them (an -o temporary file) */
	REPORT_CSV_CUT,	   /* into out, a regular file: cut back to where they began */
	REPORT_CSV_SPOOL,  /* into a temporary file ($TMPDIR), copied to out at the end (a pipe) */
};

struct report_csv_stream {
	FILE *out, *f; /* the report's destination; where the rows are written now */
	enum report_csv_sink sink;
	off_t start; /* REPORT_CSV_CUT: out's offset before the first row */
	struct vd_out *o;
	int spool_errno; /* REPORT_CSV_SPOOL: why the temporary file failed (disk full), or 0 */
};

/* The sink out allows: CUT for a regular file at a known offset, else SPOOL. */
enum report_csv_sink report_csv_sink_of(FILE *out);
/* Starts the rows into out through sink. 0, or -1 (errno) when no temporary file is made. */
int report_csv_stream_open(struct report_csv_stream *s, FILE *out, enum report_csv_sink sink);
/* A vd_delay_probe_fn (ctx: the report_csv_stream): the probe's rows. */
int report_csv_stream_probe(void *ctx, const struct vd_delay *d, size_t probe,
			    const struct vd_stream_cell *cell, int8_t phase);
/* keep: the analysis succeeded, the rows end in out (-1 out of memory or a write error: on
 * out, or on the temporary file, spool_errno);
 * else they are dropped (REPORT_CSV_DIRECT: by the caller) and out is as it was. */
int report_csv_stream_close(struct report_csv_stream *s, int keep);

#endif
