/* progress.h — a progress line on stderr while long inputs are read: shown when stderr is a
 * terminal or when asked (--progress), never otherwise, so piped and logged runs stay clean.
 * The line appears only once reading has taken PROGRESS_DELAY (short inputs print nothing) and
 * is redrawn at most twice a second. */
#ifndef VMDELAY_PROGRESS_H
#define VMDELAY_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

#include "vmdelay/core/vdtime.h"

/* A read option's value for --progress (0: none, 1: automatic). */
#define VD_PROGRESS_FORCED 2

struct vd_progress {
	int on;
	int forced; /* --progress: also a closing line for a short input, and plain lines (no \r)
		     * when stderr is not a terminal */
	int tty;
	FILE *out;
	const char *what;     /* "reading" label: a program or file name */
	uint64_t total_bytes; /* of every input, 0 when unknown */
	vd_ns start, last;
	int shown;
};

/* On when forced (--progress), or when stderr is a terminal and not quiet. total_bytes: the
 * inputs' size, 0 when unknown (no percentage then). */
void vd_progress_init(struct vd_progress *p, const char *what, int forced, int quiet,
		      uint64_t total_bytes);

/* Cheap enough for every record: looks at the clock once every 65536 records. */
static inline int vd_progress_due(const struct vd_progress *p, uint64_t records)
{
	return p->on && (records & 0xffff) == 0;
}

/* Redraws the line if it is time: records read so far and bytes of input consumed. */
void vd_progress_update(struct vd_progress *p, uint64_t records, uint64_t bytes);

/* Ends the line (a final count when anything was shown, or when forced). */
void vd_progress_done(struct vd_progress *p, uint64_t records, uint64_t bytes);

/* The size of path in bytes, 0 when it cannot be told (a pipe, a missing file). */
uint64_t vd_progress_file_size(const char *path);

#endif
