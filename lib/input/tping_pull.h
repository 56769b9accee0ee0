/* tping_pull.h — one vantage point of a tping file (hw, kernel or user) pulled one event at a
 * time in time order, for the pull reader (echo_pull.c). A tping file lists its probes as they
 * finish (a reply, a timeout, a duplicate or late reply), so a point's requests and replies are
 * not in time order in it: they wait in a few sorted runs until no later row can hold an earlier
 * time. */
#ifndef VMDELAY_INPUT_TPING_PULL_H
#define VMDELAY_INPUT_TPING_PULL_H

#include <stdint.h>

#include "vmdelay/core/err.h"
#include "vmdelay/input/echo.h"
#include "vmdelay/input/source.h"

/* How far back a row may reach before the latest time read: tping's default reply timeout
 * (10 s) with room. A file whose rows reach farther (tping -W 60 and more) gives way. */
#define VD_TPING_PULL_HOLD (60 * VD_NS_PER_SEC)

struct vd_tping_pull;

/* The point spec selects alone (hw, kernel or user, with or without run=N), or -1 when it
 * selects none or several. */
int vd_tping_pull_point(const struct vd_vantage_spec *spec);
struct vd_tping_pull *vd_tping_pull_new(int point);
/* The point's next event from the rows of src: 1, end: 0, -1 naming the file (a damaged row, a
 * row reaching back past VD_TPING_PULL_HOLD, out of memory). */
int vd_tping_pull_next(struct vd_tping_pull *t, struct vd_source *src, const char *path,
		       struct vd_echo *e, struct vd_err *err);
uint64_t vd_tping_pull_rows(const struct vd_tping_pull *t);
int vd_tping_pull_has_phase(const struct vd_tping_pull *t);
void vd_tping_pull_free(struct vd_tping_pull *t);

#endif
