/* tping_pull.h — the vantage points of a tping file (hw, kernel, user) pulled one event at a
 * time in time order, for the pull reader (echo_pull.c), all of them from ONE reading of the
 * file: a feed reads the rows once and hands each row's events to the queue of every point it
 * feeds. A tping file lists its probes as they finish (a reply, a timeout, a duplicate or late
 * reply), so a point's requests and replies are not in time order in it: they wait in a few
 * sorted runs of the point's queue until no later row can hold an earlier time. */
#ifndef VMDELAY_INPUT_TPING_PULL_H
#define VMDELAY_INPUT_TPING_PULL_H

#include <stdint.h>

#include "tping_read.h"
#include "vmdelay/core/err.h"
#include "vmdelay/input/echo.h"
#include "vmdelay/input/source.h"

/* How far back a row may reach before the latest time read: tping's default reply timeout
 * (10 s) with room. A file whose rows reach farther (tping -W 60 and more) gives way. */
#define VD_TPING_PULL_HOLD (60 * VD_NS_PER_SEC)

struct vd_tping_feed; /* one reading of a tping file */
struct vd_tping_pull; /* one point's events, in time order */

/* The point spec selects alone (hw, kernel or user, with or without run=N), or -1 when it
 * selects none or several. */
int vd_tping_pull_point(const struct vd_vantage_spec *spec);

/* A reading of src (taken over: closed with the feed; path names the file in messages and must
 * outlive it) feeding the points of feed[]. NULL out of memory (src closed). The feed's creator
 * holds one reference (vd_tping_feed_unref), each attached point another. */
struct vd_tping_feed *vd_tping_feed_new(struct vd_source *src, const char *path,
					const int feed[VD_TPING_POINTS]);
/* Reads rows until every point fed has shown a timestamp, the times read span
 * VD_TPING_PULL_HOLD, or the end: seen[k] whether point k has events so far. 0, or -1 when a row
 * is damaged or out of order (err). What it read waits in the points' queues. */
int vd_tping_feed_first(struct vd_tping_feed *f, int seen[VD_TPING_POINTS], struct vd_err *err);
/* Feeds only the points of keep[] from now on; with strict, a later row timed at another point
 * fails the reading (its points were chosen from what vd_tping_feed_first saw). */
void vd_tping_feed_keep(struct vd_tping_feed *f, const int keep[VD_TPING_POINTS], int strict);
/* Point k's events from this reading, or NULL when some are no longer there: k not fed,
 * attached before, or left behind (a point not attached by the time the first event is taken
 * from the feed stops being fed: it would hold the whole file). Takes a reference. */
struct vd_tping_pull *vd_tping_feed_attach(struct vd_tping_feed *f, int k);
void vd_tping_feed_unref(struct vd_tping_feed *f);

/* Point k of src (taken over) read alone: its own feed. NULL out of memory. */
struct vd_tping_pull *vd_tping_pull_open(struct vd_source *src, const char *path, int k);

/* The point's next event: 1, end: 0, -1 naming the file (a damaged row, a row reaching back
 * past VD_TPING_PULL_HOLD, a point timed late in a strict feed, out of memory). A point without
 * events while another point fed moves VD_TPING_PULL_HOLD on (on its own clock) is taken as
 * finished: its end is given then, not at the end of the file, so the other points' events do
 * not wait behind it; a later row timed at it fails the reading. */
int vd_tping_pull_next(struct vd_tping_pull *t, struct vd_echo *e, struct vd_err *err);
enum vd_format vd_tping_pull_format(const struct vd_tping_pull *t);
uint64_t vd_tping_pull_rows(const struct vd_tping_pull *t);
int vd_tping_pull_has_phase(const struct vd_tping_pull *t);
/* Detaches the point from its feed (its waiting events freed) and drops the reference. */
void vd_tping_pull_close(struct vd_tping_pull *t);

#endif
