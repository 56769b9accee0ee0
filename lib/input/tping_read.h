/* tping_read.h — ICMP echo events from a tping file (CSV, JSON lines or SQLite): up to three
 * vantage points, hw, kernel and user, from the timestamps of each probe row. */
#ifndef VMDELAY_INPUT_TPING_READ_H
#define VMDELAY_INPUT_TPING_READ_H

#include "vmdelay/input/echo.h"
#include "vmdelay/input/source.h"

/* The vantage points of a tping file, outermost first. */
enum { VD_TPING_HW, VD_TPING_KERNEL, VD_TPING_USER, VD_TPING_POINTS };
const char *vd_tping_point_name(int k); /* "hw", "kernel", "user" */

/* The points spec's #SELECT names into want: how many (0: none named, every point with
 * timestamps is read), or -1 with a usage error naming a bad selector. */
int vd_tping_select(const struct vd_vantage_spec *spec, int want[VD_TPING_POINTS],
		    struct vd_err *err);

/* Row number row (1-based) of probe p as events at point k, in the order reading the file gives
 * them: its request and its reply, when timed (a duplicate or late row its reply only). How
 * many, into e. */
size_t vd_tping_row_events(const struct vd_probe *p, int k, uint64_t row, struct vd_echo e[2]);

/* Reads the rows of src (opened on spec) and sends their events to sink (echo_read.h). */
int vd_echo_read_tping(const struct vd_vantage_spec *spec, struct vd_source *src,
		       const struct vd_echo_sink *sink, struct vd_err *err);

#endif
