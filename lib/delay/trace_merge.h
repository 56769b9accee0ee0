/* trace_merge.h — packet traces read side by side in time order, each echo handed to a probe
 * stream (vmdelay/match/probe_stream.h) as its point's: the reading loop of the streamed
 * analysis (delay_stream.c) and of the clock passes before it (clock_join.c, clock_rest.c).
 * Internal to lib/delay. */
#ifndef VMDELAY_LIB_DELAY_TRACE_MERGE_H
#define VMDELAY_LIB_DELAY_TRACE_MERGE_H

#include <stddef.h>

#include "vmdelay/core/err.h"
#include "vmdelay/delay/clock_map.h"
#include "vmdelay/input/echo_pull.h"
#include "vmdelay/match/probe_stream.h"

/* One trace being read: its next echo read ahead, its time through map (NULL: as read). */
struct vd_trace_reader {
	struct vd_echo_pull *pull;
	struct vd_echo next;
	int has_next;
	const struct vd_clock_map *map;
};

/* Reads r's next echo into r->next: 1, the end: 0, damaged: -1 (err). */
int vd_trace_reader_ahead(struct vd_trace_reader *r, struct vd_err *err);

/* Reads r's first echo and tells ps, as point v's next time. 0; 1 no echo or damaged (rerr);
 * -1 (err). */
int vd_trace_reader_start(struct vd_trace_reader *r, struct vd_probe_stream *ps, size_t v,
			  struct vd_err *rerr, struct vd_err *err);

/* Hands r's next echo to ps as point v's and reads the one after. 0; 1 damaged (rerr); -1
 * (err). */
int vd_trace_reader_feed(struct vd_trace_reader *r, struct vd_probe_stream *ps, size_t v,
			 struct vd_err *rerr, struct vd_err *err);

/* Every echo of r[0..n) (started) into ps in time order, r[i] as point i: the reader whose
 * next echo is earliest gives it. 0 done; 1 a reader failed (rerr); -1 (err). */
int vd_trace_merge(struct vd_trace_reader *r, size_t n, struct vd_probe_stream *ps,
		   struct vd_err *rerr, struct vd_err *err);

#endif
