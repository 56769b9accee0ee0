/* progress.h — "file: N records" on stderr while a long input is read, at most twice a
 * second, and once more at the end; nothing when off (stderr is not a terminal). */
#ifndef VMDELAY_INPUT_PROGRESS_H
#define VMDELAY_INPUT_PROGRESS_H

#include <stdint.h>

#include "vmdelay/core/vdtime.h"

struct vd_progress {
	int on;
	vd_ns last;
	const char *path;
};

void vd_progress_tick(struct vd_progress *p, uint64_t records);
void vd_progress_done(struct vd_progress *p, uint64_t records);

#endif
