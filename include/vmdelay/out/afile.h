/* afile.h — an output file written under a temporary name in the same directory and renamed
 * onto its name only once every byte is written: a full disk or an error never leaves a 0-byte
 * or half file under the name the user asked for. Every tool's -o / --plot files use it. */
#ifndef VMDELAY_AFILE_H
#define VMDELAY_AFILE_H

#include <stdio.h>

#include "vmdelay/core/err.h"

struct vd_afile_sink;

struct vd_afile {
	FILE *f;    /* write here */
	char *path; /* the name asked for */
	char *tmp;  /* the temporary name; NULL when writing path itself (a device, a FIFO) */
	struct vd_afile_sink *sink; /* the descriptor under f and its first write error */
};

/* Opens a temporary file next to path (or path itself when it exists and is not a regular
 * file, e.g. /dev/null or /dev/stdout). -1 with "PATH: reason" on failure. */
int vd_afile_open(struct vd_afile *a, const char *path, struct vd_err *err);

/* Flushes, syncs and closes the file and renames it onto its name. On any error (ENOSPC
 * included) the temporary file is removed: -1 with "PATH: write error: REASON". */
int vd_afile_commit(struct vd_afile *a, struct vd_err *err);

/* vd_afile_commit, or when the caller's writer failed (writer_failed), vd_afile_discard with
 * a message naming path and the reason of the first failed write. */
int vd_afile_finish(struct vd_afile *a, int writer_failed, struct vd_err *err);

/* The errno of the first write that failed (ENOSPC, EIO, ...), 0 if none: for callers whose
 * writer reported only "failed". */
int vd_afile_error(const struct vd_afile *a);

/* Closes and removes the temporary file (the name asked for is left as it was). */
void vd_afile_discard(struct vd_afile *a);

#endif
