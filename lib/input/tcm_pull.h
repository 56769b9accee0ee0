/* tcm_pull.h — the stack levels of a tcpmon record file (lib/input/vantage_tcm.c) pulled one echo
 * at a time in time order, for the pull reader (echo_pull.c), in memory that does not grow with
 * the file. A file is split into its levels by reading its records until every level has shown
 * (vd_tcm_pull_split); then, once a pass, one reading feeds every level opened from it: its
 * calibration pairs, loss block and stats first, which come after the records (vd_tcmrec_open_meta
 * seeks past them), then its records, which come in per-CPU batches out of time order and wait in a
 * bounded merge (tcm_merge.h) before each level's events go to that level's queue. A file tcpmon
 * lost records in gives way (its unanswered requests are judged against every reply of the file),
 * and so does a record more out of order than the merge holds: the analysis then reads it whole, as
 * it does a pipe (read once) or "#*".
 *
 * Memory of one reading: the merge holds vd_tcm_pull_hold events (64 B each), the levels' queues
 * at most as many more (and the three of one step): a level that finds more waiting in the other
 * levels' queues than that when it needs the reading to go on (its own next event is far ahead of
 * theirs) leaves it and reads the file alone from where it is, with a merge of its own. */
#ifndef VMDELAY_INPUT_TCM_PULL_H
#define VMDELAY_INPUT_TCM_PULL_H

#include <stdint.h>

#include "vantage_tcm.h"
#include "vmdelay/core/err.h"
#include "vmdelay/input/echo.h"
#include "vmdelay/input/vantage_spec.h"

/* How many events wait to be put in time order, for a file of ncpus CPUs. A READ dump of
 * tcpmon.ko moves at most one ring (4096 records by default) per CPU, CPU after CPU, so a record
 * is overtaken in the file by at most the other CPUs' batches of its own dump and of the dump
 * before: 2 * ncpus * 4096 records, which bounds the events too (the echo events of the levels
 * read are some of the records). At least 65536, at most 2^20 (a tcpmon.ko loaded with larger
 * rings, or a bpf recording with long rings, may give way). */
size_t vd_tcm_pull_hold(uint32_t ncpus);

/* The one level spec selects (by a level or a layer name), or -1 when it selects none or
 * several. */
int vd_tcm_pull_level(const struct vd_vantage_spec *spec);

/* The tcpmon files split for one analysis: the levels each file has (found once a file) and the
 * reading their pull readers share. */
struct vd_tcm_split;
struct vd_tcm_split *vd_tcm_split_new(void); /* NULL out of memory */
/* After the pull readers opened from s are closed (they hold the reading, not s). */
void vd_tcm_split_free(struct vd_tcm_split *s);
/* Whether path is a tcpmon file vd_tcm_pull_split split in s (NULL: none). */
int vd_tcm_split_holds(struct vd_tcm_split *s, const char *path);

/* spec (a tcpmon record file, regular, not "#*") as one spec per level vd_echo_read gives, in
 * its order and with its names, found by reading the records until every level has an event of
 * its own (once a file in s; s may be NULL): n (1..VD_TCM_LEVELS) specs into out (paths malloc'd),
 * 0 when the file is to be read whole (a pipe, "#*", a bad selector, a level without records,
 * damage, lost records: reading whole says why), -1 out of memory. */
int vd_tcm_pull_split(struct vd_tcm_split *s, const struct vd_vantage_spec *spec,
		      struct vd_vantage_spec *out, struct vd_err *err);

struct vd_tcm_pull;
/* Opens spec's file for level (vd_tcm_pull_level). A file split in s (may be NULL) is read once
 * for the levels opened before any of them takes an event; otherwise the level reads it alone.
 * progress as vd_echo_read_opts's (one line a reading). 0 with *out, 1 when it is not to stream
 * (its loss block or stats say records were lost), -1 naming the file. */
int vd_tcm_pull_open(struct vd_tcm_split *s, const struct vd_vantage_spec *spec, int level,
		     int progress, struct vd_tcm_pull **out, struct vd_err *err);
/* The level's next echo in time order (then record order): 1, end: 0, -1 naming the file (a
 * damaged file, lost records, a record more out of order than vd_tcm_pull_hold, out of
 * memory). */
int vd_tcm_pull_next(struct vd_tcm_pull *t, struct vd_echo *e, struct vd_err *err);
/* After the end: the point as vd_echo_read closes it (name, select, notes, records), 0; -1 when
 * the level had no record of its own (the message reading whole gives). */
int vd_tcm_pull_finish(struct vd_tcm_pull *t, struct vd_echo_point *pt, struct vd_err *err);
void vd_tcm_pull_free(struct vd_tcm_pull *t);

#endif
