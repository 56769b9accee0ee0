/* tperf.h — the TCP workload tool's parts: a bulk sender and a counting sink (the
 * 1000 x 100 KB transfers of Kangarlou et al., message sizes of Oi and Nakajima). */
#ifndef VMDELAY_TPERF_H
#define VMDELAY_TPERF_H

#include <stddef.h>
#include <stdint.h>

#include "vmdelay/core/err.h"
#include "vmdelay/tcp/transfer.h"
#include "vmdelay/core/vdtime.h"

struct tperf_send_opts {
	const char *host;
	const char *port; /* "5001" */
	uint64_t bytes;	  /* per transfer */
	uint64_t count;	  /* transfers, each on a new connection */
	size_t msg_size;  /* bytes per send() */
	int mss;	  /* TCP_MAXSEG hint, 0: the kernel's */
	vd_ns deadline;	  /* CLOCK_MONOTONIC: the whole run ends by then */
};

/* A poll() timeout for the CLOCK_MONOTONIC deadline: the ms left, rounded up so that the wait
 * does not end just short of it, 0 once it has passed, at most 1000 s. */
int tperf_ms_left(vd_ns deadline);

/* Resolves host/port (numeric or a name; both IPv4 and IPv6). -1 with a message. */
int tperf_resolve(const struct tperf_send_opts *o, struct vd_err *err);

/* One transfer: connect, write o->bytes from buf in o->msg_size pieces, shut down the write
 * side, wait for the peer to close. Fills t (status ok, refused, reset, timeout, error) and
 * returns 0 when ok, else -1 with a message saying what happened (err). */
int tperf_send_one(const struct tperf_send_opts *o, const uint8_t *buf, uint64_t idx,
		   struct vd_transfer *t, struct vd_err *err);

void tperf_send_cleanup(void);

struct tperf_sink_opts {
	const char *bind_addr; /* NULL: any (IPv6 dual-stack, else IPv4) */
	const char *port;
	uint64_t max_conns; /* 0: no limit */
	vd_ns deadline;	    /* CLOCK_MONOTONIC */
	size_t buf_size;
};

/* Called for each connection once the peer has closed it (t->bytes read, start = accept,
 * end = EOF). peer is "addr port". */
typedef void (*tperf_conn_fn)(void *ctx, const struct vd_transfer *t, const char *peer);

/* Listens and counts. Returns 0 after max_conns connections or at the deadline (a deadline with
 * a connection open counts it as timeout), -1 on a socket error. Announces "listening on ADDR
 * port PORT" on stderr once it accepts connections. */
int tperf_sink_run(const struct tperf_sink_opts *o, tperf_conn_fn fn, void *ctx,
		   struct vd_err *err);

#endif
