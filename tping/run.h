/* run.h — the prober loop: probes leave on absolute deadlines (clock_nanosleep TIMER_ABSTIME),
 * replies and TX timestamps are read as they come, TX records matched to probes by their
 * SOF_TIMESTAMPING_OPT_ID key (never by arrival order). Every finished record (a probe, or an
 * extra record for a duplicate or late reply) is handed to an emit callback. */
#ifndef TPING_RUN_H
#define TPING_RUN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "load.h"
#include "options.h"
#include "sock.h"
#include "vmdelay/input/probe.h"

struct tping_counts {
	uint64_t sent;	      /* sendto() succeeded */
	uint64_t send_errors; /* sendto() failed (the probe is recorded as lost) */
	uint64_t received;    /* probes answered in time */
	uint64_t lost;	      /* probes without an answer in time (late ones included) */
	uint64_t duplicates;
	uint64_t late;
	uint64_t icmp_errors;
	uint64_t reordered;	/* a reply older than one already received */
	uint64_t missing_sched; /* sent probes without a SCHED / SND / hardware TX stamp */
	uint64_t missing_snd;
	uint64_t missing_hw_tx;
	uint64_t missing_rx;	  /* replies without a kernel RX stamp */
	uint64_t tx_after_window; /* TX records that came after their probe was finished */
	uint64_t tx_unmatched;	  /* TX records whose key matches no probe */
	uint64_t ctrunc;	  /* messages whose control data was truncated */
	uint64_t foreign;	  /* packets that were not ours */
};

/* Called for each finished record; from is the address the answer came from (NULL if none). */
typedef void (*tping_emit_fn)(void *ctx, const struct vd_probe *p, const char *from);
/* Reports a runtime problem worth a line (send errors, MSG_CTRUNC). */
typedef void (*tping_warn_fn)(void *ctx, const char *msg);

/* Probes tracked at once at most: as many as 16-bit sequence numbers tell apart. */
#define TPING_RING_MAX ((size_t)1 << 16)

struct tping_run {
	const struct tping_opts *o;
	struct tping_sock *s;
	struct tping_load *load; /* NULL without --load */
	tping_emit_fn emit;
	tping_warn_fn warn;
	void *ctx;
	volatile sig_atomic_t *stop; /* set by SIGINT: stop sending, finish what is in flight */
	struct tping_counts c;
	size_t total; /* probes planned: rest + count + rest */
	size_t next;  /* probes sent (attempted) so far */
	vd_ns start_real, end_real;
	int interrupted;
	/* private: rings of `ring` slots, probe idx in slot idx % ring */
	size_t ring;
	struct vd_probe *probes;
	uint8_t *state;
	vd_ns *due;	 /* monotonic ns: when the probe's wait ends */
	size_t *key_idx; /* OPT_ID key (modulo ring) -> probe index */
	struct {
		char s[46]; /* INET6_ADDRSTRLEN */
	} * from;	    /* who answered, until the record is finished */
	size_t nkeys;
	size_t first_open;
	int64_t max_replied;
	vd_ns start_mono;
};

int tping_run_init(struct tping_run *r, const struct tping_opts *o, struct tping_sock *s,
		   struct vd_err *err);
/* Runs to the end (all probes finished, -w deadline, or *stop). -1 on a socket error. */
int tping_run_exec(struct tping_run *r, struct vd_err *err);
void tping_run_free(struct tping_run *r);

/* The phase of probe idx (0-based) in a run of rest + count + rest probes. */
enum vd_phase tping_phase_of(size_t idx, long rest, long count);

/* Books probe idx as sent (send_probe calls it after sendto; tests call it to replay a run):
 * it takes the next OPT_ID key and starts waiting for its reply. */
void tping_run_sent(struct tping_run *r, size_t idx, vd_ns now_mono);

/* Finishes every open probe as it stands (lost if unanswered). */
void tping_run_finish_all(struct tping_run *r);

/* Feeds a received ICMP message (already read from the socket) into the run. Exposed so tests
 * can replay packets. with_ip: buf starts with an IPv4 header (raw IPv4 sockets). */
void tping_run_rx(struct tping_run *r, const uint8_t *buf, size_t len, int with_ip,
		  const struct msghdr *msg, vd_ns user_rx, int errqueue);

#endif
