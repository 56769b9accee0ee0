/* echo_read.h — reads the input a vantage spec names and sends its ICMP echo events to a sink
 * (echo.h). The format is found from the file's content (format.h), never from its name. */
#ifndef VMDELAY_INPUT_ECHO_READ_H
#define VMDELAY_INPUT_ECHO_READ_H

#include "vmdelay/core/err.h"
#include "vmdelay/input/decode.h"
#include "vmdelay/input/echo.h"
#include "vmdelay/input/vantage_spec.h"

struct vd_filter;
struct vd_tping_split;
struct vd_tcm_split;

/* Where the pull readers (echo_pull.h) leave each input's failure, for a caller that cannot
 * read an input a second time (a pipe) to report it: a reader that gives way cannot say why,
 * and reading the input again to find out is not possible. */
struct vd_echo_failures {
	const struct vd_vantage_spec *specs; /* the inputs, as the pull readers are opened on */
	size_t n;
	struct vd_err *err; /* err[i]: specs[i]'s first failure; msg "" when it had none */
	int end_on_damage;  /* a trace damaged after its first echo ends there (--keep-going:
			     * the echoes before the damage count, as when read whole) */
};

struct vd_echo_read_opts {
	int progress; /* progress on stderr: 0 none, 1 when stderr is a terminal (the CLI's
		       * default), VD_PROGRESS_FORCED (--progress) also when it is not */
	struct vd_filter *filter;     /* packets of traces that fail it are skipped (filter.h) */
	struct vd_decode_opts decode; /* packet traces: --outer, --tunnel (decode.h) */
	struct vd_echo_failures *failures;  /* NULL: the pull readers only return their errors */
	struct vd_tping_split *tping_split; /* the tping files vd_echo_pull_split split: the pull
					     * readers of a file's points share one reading */
	struct vd_tcm_split *tcm_split;	    /* the tcpmon files it split: likewise their levels */
};

/* Reads spec->path and opens its vantage point(s) on sink, kept in order from the outermost to
 * the innermost:
 *  - a packet trace is one vantage point; with SELECT an interface (vd_iface_selected) only
 *    that interface's packets; with SELECT "*" every interface is its own vantage point, named
 *    after the interface's label (NAME.LABEL when NAME is given).
 *  - a tping file gives up to three: "hw", "kernel", "user" (points without any timestamp are
 *    left out). SELECT picks some: a comma list of hw, kernel, user, and run=N (SQLite run id;
 *    default: the last run holding probes). With NAME, a single point is named NAME and several
 *    NAME.kernel, NAME.user.
 *  - a tcpmon record file (docs/formats/tcpmon.md) gives one point per stack level, device
 *    first, socket last (lib/input/vantage_tcm.c): SELECT a comma list of levels or layer
 *    names, or "*" (the default: every level holding echo records). With NAME, NAME or
 *    NAME.LEVEL.
 * Frames are decoded through their tunnels (opts->decode); a tunnel header that claims more
 * than its packet holds, or tunnels nested too deep, is damaged input naming the frame.
 * On error returns -1 with a message naming the file (and the byte offset for damaged traces);
 * a damaged trace's points are kept with the events read before the damage (--keep-going). */
int vd_echo_read(const struct vd_vantage_spec *spec, const struct vd_echo_sink *sink,
		 const struct vd_echo_read_opts *opts, struct vd_err *err);

#endif
