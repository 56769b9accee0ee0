/* echo_pull.h — the ICMP echo events of one vantage point pulled one at a time in time order,
 * so that a consumer can read several inputs side by side (the streaming delay analysis,
 * vmdelay/delay/delay_stream.h) instead of one after the other: a packet trace (pcap, pcapng,
 * ERF) in file order, one point of a tping file (its rows reordered in bounded runs,
 * lib/input/tping_pull.h), or one level of a tcpmon record file (lib/input/tcm_pull.h). The events,
 * notes and errors are those vd_echo_read gives for the same spec (echo_read.h). */
#ifndef VMDELAY_INPUT_ECHO_PULL_H
#define VMDELAY_INPUT_ECHO_PULL_H

#include "vmdelay/core/err.h"
#include "vmdelay/input/echo.h"
#include "vmdelay/input/echo_read.h"
#include "vmdelay/input/vantage_spec.h"

struct vd_echo_pull;

/* Opens spec's input. 0 with *out; 1 when spec does not give exactly one vantage point here (a
 * tcpmon file without one level selected or that lost records, "#*", a tping file without one
 * point selected: vd_echo_pull_specs makes it so): read it with vd_echo_read; a point of a tping
 * file in opts->tping_split reads the file's shared reading; -1 with a message naming the file when
 * it cannot be opened. spec and opts must outlive *out. With opts->failures, each failure of the
 * reader (here, in next and finish, and a trace without any echo) is also left there (echo_read.h).
 */
int vd_echo_pull_open(const struct vd_vantage_spec *spec, const struct vd_echo_read_opts *opts,
		      struct vd_echo_pull **out, struct vd_err *err);
/* The next echo in file order: 1, end: 0, damaged input: -1 naming the file and frame (0 when
 * opts->failures->end_on_damage and an echo came before the damage). */
int vd_echo_pull_next(struct vd_echo_pull *p, struct vd_echo *e, struct vd_err *err);
/* After the end: the point as vd_echo_read closes it (name, select, notes, records, echoes,
 * tunnels) in *pt, and 0, or -1 when the trace held no echo (the message vd_echo_read gives). */
int vd_echo_pull_finish(struct vd_echo_pull *p, struct vd_echo_point *pt, struct vd_err *err);
void vd_echo_pull_close(struct vd_echo_pull *p);

/* A tping file (CSV, JSON lines, SQLite) or a tcpmon record file as one spec per vantage point,
 * each of which opens here: the points vd_echo_read gives (the selected ones, else those with
 * timestamps or records), in its order and with its names. n specs into out (paths malloc'd:
 * vd_vantage_spec_free); 0 when spec is not a file to split (a trace, a pipe, a bad selector, a
 * file that cannot be read, a tcpmon file that lost records or "#*", a tping file that
 * vd_echo_pull_specs leaves whole: use it as it is); -1 out of memory. A tping file's points
 * opened from these specs read the file each: vd_echo_pull_specs shares one reading. */
#define VD_ECHO_PULL_SPLIT_MAX 6
int vd_echo_pull_split(const struct vd_vantage_spec *spec,
		       struct vd_vantage_spec out[VD_ECHO_PULL_SPLIT_MAX], struct vd_err *err);

/* specs[0..n) as the streamed analysis pulls them, one spec per vantage point, each file split
 * by vd_echo_pull_split, the other inputs as they are. Every tping file streams this way,
 * whatever its size, and is read once for all its points: its first rows (until every point
 * shows or they span 60 s) are read here to find its points and wait in *split, and the pull
 * readers opened with vd_echo_read_opts.tping_split = *split share that reading, each point's
 * events waiting for it in time order. A point first timed after those rows fails the reading
 * (the streamed analysis gives way to reading whole). A tping file not split (a point selected
 * that its first rows do not time, none timed, a bad selector, damaged or unreadable first
 * rows) stays as it is: read whole, which says why. A tcpmon file's levels are found by
 * reading its records once (once a file), and kept in *tcm_split (when not NULL): the pull
 * readers of its levels opened with vd_echo_read_opts.tcm_split = *tcm_split share one reading
 * of the file a pass. *out (*nout specs, paths malloc'd: vd_vantage_spec_free each, free the
 * array), *split and *tcm_split (vd_echo_pull_specs_free, after the pull readers are closed);
 * -1 out of memory. */
struct vd_tping_split;
struct vd_tcm_split;
int vd_echo_pull_specs(const struct vd_vantage_spec *specs, size_t n, struct vd_vantage_spec **out,
		       size_t *nout, struct vd_tping_split **split, struct vd_tcm_split **tcm_split,
		       struct vd_err *err);
void vd_echo_pull_specs_free(struct vd_tping_split *split, struct vd_tcm_split *tcm_split);

/* Whether each of specs[0..n) opens here as one point (not 1 from vd_echo_pull_open) without
 * reading any input twice: every regular file's first bytes are a trace's, or a tping file's
 * with one point selected; no "#*"; a pipe, read once, is a trace or a failure. A caller that
 * cannot read a pipe again asks before opening anything. */
int vd_echo_pull_takes_all(const struct vd_vantage_spec *specs, size_t n);

#endif
