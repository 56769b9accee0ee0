/* run.c — tping's prober loop (Whiteaker et al., section 3: user and kernel timestamps of every
 * probe; kernel Documentation/networking/timestamping.rst for the TX records). */
#define _GNU_SOURCE
#include "run.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <netdb.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>

#include "vmdelay/net/icmp_echo.h"
#include "vmdelay/net/tstamp.h"

enum { ST_UNSENT, ST_WAIT_REPLY, ST_WAIT_TX, ST_DONE };

/* Below this the wait for a deadline is clock_nanosleep alone, not poll. */
#define SPIN_NS (200 * VD_NS_PER_US)
#define PKT_MAX (65536 + 64)

enum vd_phase tping_phase_of(size_t idx, long rest, long count)
{
	if (idx < (size_t)rest)
		return VD_PHASE_REST_PRE;
	if (idx < (size_t)rest + (size_t)count)
		return VD_PHASE_LOAD;
	return VD_PHASE_REST_POST;
}

/* The slot of probe idx in the ring. */
static size_t slot(const struct tping_run *r, size_t idx)
{
	return idx & (r->ring - 1);
}

/* Makes probe idx's slot its own: the probe that had it, idx - ring, is finished first (lost if
 * still unanswered: its 16-bit sequence number is being reused anyway). */
static void finish(struct tping_run *r, size_t idx, const char *from);
static void claim(struct tping_run *r, size_t idx)
{
	size_t k = slot(r, idx);
	if (idx < r->ring)
		return; /* set up by tping_run_init */
	size_t old = idx - r->ring;
	if (r->state[k] == ST_WAIT_REPLY || r->state[k] == ST_WAIT_TX) {
		if (r->state[k] == ST_WAIT_REPLY)
			r->probes[k].status = VD_PROBE_LOST;
		finish(r, old, r->state[k] == ST_WAIT_TX ? r->from[k].s : NULL);
	}
	while (r->first_open <= old)
		r->first_open++;
	vd_probe_init(&r->probes[k], (uint32_t)(idx + 1));
	r->probes[k].phase = tping_phase_of(idx, r->o->rest, r->o->count);
	r->state[k] = ST_UNSENT;
}

int tping_run_init(struct tping_run *r, const struct tping_opts *o, struct tping_sock *s,
		   struct vd_err *err)
{
	memset(r, 0, sizeof(*r));
	r->o = o;
	r->s = s;
	r->total = (size_t)o->count + 2 * (size_t)o->rest;
	/* Memory does not grow with the run: a ring as long as the sequence numbers can tell
	 * probes apart (2^16), shorter for a shorter run. */
	r->ring = 1;
	while (r->ring < r->total && r->ring < TPING_RING_MAX)
		r->ring <<= 1;
	r->probes = calloc(r->ring, sizeof(*r->probes));
	r->state = calloc(r->ring, sizeof(*r->state));
	r->due = calloc(r->ring, sizeof(*r->due));
	r->key_idx = calloc(r->ring, sizeof(*r->key_idx));
	r->from = calloc(r->ring, sizeof(*r->from));
	if (!r->probes || !r->state || !r->due || !r->key_idx || !r->from) {
		tping_run_free(r);
		return vd_err_set(err, "out of memory for %zu probes", r->ring);
	}
	for (size_t i = 0; i < r->ring; i++) {
		vd_probe_init(&r->probes[i], (uint32_t)(i + 1));
		r->probes[i].phase = tping_phase_of(i, o->rest, o->count);
	}
	r->max_replied = -1;
	return 0;
}

void tping_run_free(struct tping_run *r)
{
	free(r->probes);
	free(r->state);
	free(r->due);
	free(r->key_idx);
	free(r->from);
	r->from = NULL;
	r->probes = NULL;
	r->state = NULL;
	r->due = NULL;
	r->key_idx = NULL;
}

static vd_ns deadline_of(const struct tping_run *r, size_t idx)
{
	return r->start_mono + (vd_ns)idx * r->o->interval;
}

static void warn(struct tping_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct tping_run *r, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r->warn)
		r->warn(r->ctx, msg);
}

static void finish(struct tping_run *r, size_t idx, const char *from)
{
	struct vd_probe *p = &r->probes[slot(r, idx)];
	r->state[slot(r, idx)] = ST_DONE;
	if (r->s->tstamp && vd_ns_valid(p->user_tx)) {
		r->c.missing_sched += !vd_ns_valid(p->sched_tx);
		r->c.missing_snd += !vd_ns_valid(p->kernel_tx);
		r->c.missing_hw_tx += r->s->hw && !vd_ns_valid(p->hw_tx);
		r->c.missing_rx += p->status == VD_PROBE_OK && !vd_ns_valid(p->kernel_rx);
	}
	if (p->status == VD_PROBE_OK)
		r->c.received++;
	else if (p->status == VD_PROBE_ICMP_ERROR)
		r->c.icmp_errors++;
	else
		r->c.lost++;
	if (r->emit)
		r->emit(r->ctx, p, from);
}

static int tx_complete(const struct tping_run *r, const struct vd_probe *p)
{
	if (!r->s->tstamp || !vd_ns_valid(p->user_tx))
		return 1;
	return vd_ns_valid(p->kernel_tx) && (!r->s->hw || vd_ns_valid(p->hw_tx));
}

/* Index of the most recent sent probe whose 16-bit sequence number is seq16, or -1. */
static long idx_of_seq(const struct tping_run *r, uint16_t seq16)
{
	if (!r->next)
		return -1;
	uint32_t last = (uint32_t)r->next; /* seq of the last sent probe is idx + 1 */
	uint32_t back = (uint16_t)(last - seq16);
	if (back >= r->next)
		return -1;
	return (long)(last - back) - 1;
}

static void send_probe(struct tping_run *r, size_t idx, uint8_t *pkt)
{
	claim(r, idx);
	struct vd_probe *p = &r->probes[slot(r, idx)];
	uint16_t seq16 = (uint16_t)(idx + 1);
	size_t len = vd_icmp_echo_build(pkt, PKT_MAX, r->s->family, r->s->id, seq16, r->o->size,
					r->s->cookie);
	p->cpu = sched_getcpu();
	vd_ns now_mono = vd_now(CLOCK_MONOTONIC);
	vd_ns late = now_mono - deadline_of(r, idx);
	p->timer_late = late > 0 ? late : 0;
	p->user_tx = vd_now(CLOCK_REALTIME);
	ssize_t n = sendto(r->s->fd, pkt, len, 0, (struct sockaddr *)&r->s->dst, r->s->dst_len);
	r->next = idx + 1;
	if (n < 0) {
		int e = errno;
		r->c.send_errors++;
		p->status = VD_PROBE_LOST;
		if (r->c.send_errors <= 5)
			warn(r, "sendto icmp_seq=%u: %s", p->seq, strerror(e));
		finish(r, idx, NULL);
		return;
	}
	tping_run_sent(r, idx, now_mono);
}

void tping_run_sent(struct tping_run *r, size_t idx, vd_ns now_mono)
{
	r->c.sent++;
	if (r->next < idx + 1)
		r->next = idx + 1;
	/* The kernel numbers timestamped sends of the socket 0, 1, 2...: the key of this one. */
	if (r->s->tstamp)
		r->key_idx[r->nkeys++ & (r->ring - 1)] = idx;
	r->state[slot(r, idx)] = ST_WAIT_REPLY;
	r->due[slot(r, idx)] = now_mono + r->o->timeout;
}

static const char *addr_str(const struct sockaddr_storage *ss, char *buf, size_t n)
{
	if (ss->ss_family != AF_INET && ss->ss_family != AF_INET6)
		return NULL;
	socklen_t len =
	    ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	if (getnameinfo((const struct sockaddr *)ss, len, buf, (socklen_t)n, NULL, 0,
			NI_NUMERICHOST))
		return NULL;
	return buf;
}

static void on_tx_record(struct tping_run *r, const struct vd_tstamp_cmsgs *c,
			 enum vd_tstamp_kind kind, uint32_t key)
{
	if (key >= r->nkeys) {
		r->c.tx_unmatched++;
		return;
	}
	/* A key a whole ring old belongs to a probe finished long ago. */
	if (r->nkeys - key > r->ring) {
		r->c.tx_after_window++;
		return;
	}
	size_t idx = r->key_idx[key & (r->ring - 1)];
	struct vd_probe *p = &r->probes[slot(r, idx)];
	if (r->state[slot(r, idx)] == ST_DONE) {
		r->c.tx_after_window++;
		return;
	}
	if (kind == VD_TSTAMP_SCHED && vd_ns_valid(c->sw)) {
		/* One SCHED per device the packet is queued on (bridge, then its port): keep the
		 * first and the last. */
		if (!vd_ns_valid(p->sched_tx))
			p->sched_tx = c->sw;
		p->sched_tx_last = c->sw;
	} else if (kind == VD_TSTAMP_SND) {
		if (vd_ns_valid(c->sw))
			p->kernel_tx = c->sw;
		if (vd_ns_valid(c->hw))
			p->hw_tx = c->hw;
	}
	if (r->state[slot(r, idx)] == ST_WAIT_TX && tx_complete(r, p))
		finish(r, idx, r->from[slot(r, idx)].s);
}

/* A reply or error for probe idx, or an extra record if it was already answered. */
static void on_answer(struct tping_run *r, size_t idx, const struct vd_icmp_msg *m,
		      const struct vd_tstamp_cmsgs *c, vd_ns user_rx, const char *from)
{
	size_t k = slot(r, idx);
	struct vd_probe *p = &r->probes[k];
	int is_err = m->kind == VD_ICMP_ERROR || m->kind == VD_ICMP_ECHO_REQUEST;
	struct vd_probe extra;
	struct vd_probe *t = p;
	if (r->state[k] != ST_WAIT_REPLY) {
		extra = *p;
		t = &extra;
	}
	t->kernel_rx = c->sw;
	t->hw_rx = c->hw;
	t->user_rx = user_rx;
	t->ttl = m->ttl >= 0 ? m->ttl : c->ttl;
	t->size = (int32_t)m->icmp_len;
	if (is_err) {
		t->icmp_type = c->have_ee && m->kind == VD_ICMP_ECHO_REQUEST ? c->ee_type : m->type;
		t->icmp_code = c->have_ee && m->kind == VD_ICMP_ECHO_REQUEST ? c->ee_code : m->code;
		t->size = -1;
	}
	if (t == p) {
		p->status = is_err ? VD_PROBE_ICMP_ERROR : VD_PROBE_OK;
		if (!is_err) {
			if ((int64_t)idx < r->max_replied)
				r->c.reordered++;
			else
				r->max_replied = (int64_t)idx;
		}
		r->state[k] = ST_WAIT_TX;
		r->due[k] = vd_now(CLOCK_MONOTONIC) + r->o->tx_wait;
		snprintf(r->from[k].s, sizeof(r->from[k].s), "%s", from ? from : "?");
		if (tx_complete(r, p))
			finish(r, idx, from);
		return;
	}
	if (is_err)
		return; /* a second error about an answered probe adds nothing */
	/* A second answer: a duplicate if the first was a reply, late if the probe had been
	 * declared lost. */
	if (p->status == VD_PROBE_LOST) {
		t->status = VD_PROBE_LATE;
		r->c.late++;
	} else {
		t->status = VD_PROBE_DUPLICATE;
		r->c.duplicates++;
	}
	if (r->emit)
		r->emit(r->ctx, t, from);
}

void tping_run_rx(struct tping_run *r, const uint8_t *buf, size_t len, int with_ip,
		  const struct msghdr *msg, vd_ns user_rx, int errqueue)
{
	struct vd_tstamp_cmsgs c;
	struct vd_err err;
	if (vd_tstamp_parse(msg, &c, &err)) {
		r->c.ctrunc++;
		if (r->c.ctrunc <= 5)
			warn(r, "%s", err.msg);
		/* Still use the payload: the probe is answered, its stamps are what is missing. */
		memset(&c, 0, sizeof(c));
		c.sw = c.hw = VD_NS_NONE;
		c.ttl = -1;
	}
	enum vd_tstamp_kind kind;
	uint32_t key;
	if (errqueue && vd_tstamp_tx_record(&c, &kind, &key)) {
		on_tx_record(r, &c, kind, key);
		return;
	}
	struct vd_icmp_msg m;
	if (vd_icmp_echo_parse(buf, len, r->s->family, with_ip, r->s->cookie, &m)) {
		r->c.foreign++;
		return;
	}
	/* A datagram socket's error queue quotes our request (from its ICMP header); anything
	 * else that is a request is not for us. */
	if (m.kind == VD_ICMP_ECHO_REQUEST && !(errqueue && c.have_ee)) {
		r->c.foreign++;
		return;
	}
	if (r->s->raw && m.id != r->s->id) {
		r->c.foreign++;
		return;
	}
	if (m.kind == VD_ICMP_ECHO_REPLY && m.cookie_ok == 0) {
		r->c.foreign++;
		return;
	}
	long idx = idx_of_seq(r, m.seq);
	if (idx < 0 || r->state[slot(r, (size_t)idx)] == ST_UNSENT) {
		r->c.foreign++;
		return;
	}
	char from_buf[INET6_ADDRSTRLEN];
	const char *from = r->s->dst_str;
	if (m.kind != VD_ICMP_ECHO_REPLY) {
		if (c.offender.ss_family)
			from = addr_str(&c.offender, from_buf, sizeof(from_buf));
		else if (msg->msg_name && msg->msg_namelen)
			from = addr_str(msg->msg_name, from_buf, sizeof(from_buf));
	}
	on_answer(r, (size_t)idx, &m, &c, user_rx, from);
}

/* Reads everything the socket holds: replies, then the error queue (TX records, errors). */
static int drain(struct tping_run *r, uint8_t *buf, struct vd_err *err)
{
	char ctrl[1024];
	struct sockaddr_storage from;
	for (int errq = 1; errq >= 0;
	     errq--) { /* TX records first: a reply then finishes at once */
		for (int k = 0; k < 100000; k++) {
			struct iovec iov = {.iov_base = buf, .iov_len = PKT_MAX};
			struct msghdr msg = {.msg_name = &from,
					     .msg_namelen = sizeof(from),
					     .msg_iov = &iov,
					     .msg_iovlen = 1,
					     .msg_control = ctrl,
					     .msg_controllen = sizeof(ctrl)};
			memset(&from, 0, sizeof(from));
			ssize_t n =
			    recvmsg(r->s->fd, &msg, MSG_DONTWAIT | (errq ? MSG_ERRQUEUE : 0));
			vd_ns user_rx = vd_now(CLOCK_REALTIME);
			if (n < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
					break;
				/* A datagram socket reports ICMP errors once more through
				 * recvmsg's errno after queueing them; not a failure. */
				if (!errq && (errno == EHOSTUNREACH || errno == ENETUNREACH ||
					      errno == ECONNREFUSED || errno == EACCES ||
					      errno == EPROTO || errno == EMSGSIZE))
					continue;
				return vd_err_set(err, "recvmsg%s: %s",
						  errq ? " (error queue)" : "", strerror(errno));
			}
			tping_run_rx(r, buf, (size_t)n, r->s->raw && r->s->family == AF_INET, &msg,
				     user_rx, errq);
		}
	}
	return 0;
}

/* Finishes probes whose wait is over: no reply (lost) or TX stamps that never came. */
static void expire(struct tping_run *r, vd_ns now, int all)
{
	for (size_t i = r->first_open; i < r->next; i++) {
		size_t k = slot(r, i);
		if (r->state[k] == ST_DONE || r->state[k] == ST_UNSENT)
			continue;
		if (!all && now < r->due[k])
			continue;
		if (r->state[k] == ST_WAIT_REPLY)
			r->probes[k].status = VD_PROBE_LOST;
		finish(r, i, r->state[k] == ST_WAIT_TX ? r->from[k].s : NULL);
	}
	while (r->first_open < r->next && r->state[slot(r, r->first_open)] == ST_DONE)
		r->first_open++;
}

void tping_run_finish_all(struct tping_run *r)
{
	expire(r, 0, 1);
}

static vd_ns earliest_due(const struct tping_run *r)
{
	vd_ns m = INT64_MAX;
	for (size_t i = r->first_open; i < r->next; i++) {
		size_t k = slot(r, i);
		if ((r->state[k] == ST_WAIT_REPLY || r->state[k] == ST_WAIT_TX) && r->due[k] < m)
			m = r->due[k];
	}
	return m;
}

int tping_run_exec(struct tping_run *r, struct vd_err *err)
{
	uint8_t *buf = malloc(PKT_MAX);
	uint8_t *pkt = malloc(PKT_MAX);
	int rc = 0;
	if (!buf || !pkt) {
		free(buf);
		free(pkt);
		return vd_err_set(err, "out of memory");
	}
	/* Wake-ups as close to the deadline as the timer allows (default slack is 50 µs). */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	size_t load_begin = (size_t)r->o->rest, load_end = (size_t)(r->o->rest + r->o->count);
	r->start_mono = vd_now(CLOCK_MONOTONIC);
	r->start_real = vd_now(CLOCK_REALTIME);
	vd_ns run_end = r->o->deadline ? r->start_mono + r->o->deadline : INT64_MAX;
	for (;;) {
		if (*r->stop) {
			r->interrupted = 1;
			break;
		}
		vd_ns now = vd_now(CLOCK_MONOTONIC);
		if (now >= run_end)
			break;
		expire(r, now, 0);
		if (r->load && r->load->running && r->next >= load_end &&
		    now >= deadline_of(r, load_end))
			tping_load_stop(r->load);
		vd_ns wake = INT64_MAX;
		if (r->next < r->total) {
			vd_ns dl = deadline_of(r, r->next);
			if (dl - now <= SPIN_NS) {
				if (r->load && r->next == load_begin && !r->load->running &&
				    r->load->pid)
					tping_load_start(r->load);
				struct timespec ts = vd_ns_to_timespec(dl);
				/* Behind schedule: no sleep call at all (it would yield the CPU).
				 */
				while (dl > now &&
				       clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
					   EINTR &&
				       !*r->stop)
					;
				if (*r->stop)
					continue;
				send_probe(r, r->next, pkt);
				/* Stamps and replies for a burst of late sends are read in between.
				 */
				if (drain(r, buf, err)) {
					rc = -1;
					break;
				}
				continue;
			}
			wake = dl - SPIN_NS;
		} else if (r->first_open >= r->next) {
			break; /* everything sent and finished */
		}
		vd_ns d = earliest_due(r);
		if (d < wake)
			wake = d;
		if (run_end < wake)
			wake = run_end;
		if (r->load && r->load->running && r->next >= load_end &&
		    deadline_of(r, load_end) < wake)
			wake = deadline_of(r, load_end);
		struct pollfd pfd = {.fd = r->s->fd, .events = POLLIN};
		vd_ns wait = wake - now;
		if (wait < 0)
			wait = 0;
		struct timespec ts = vd_ns_to_timespec(wait);
		int pr = ppoll(&pfd, 1, wake == INT64_MAX ? NULL : &ts, NULL);
		if (pr < 0 && errno != EINTR) {
			rc = vd_err_set(err, "poll: %s", strerror(errno));
			break;
		}
		if (pr > 0 && drain(r, buf, err)) {
			rc = -1;
			break;
		}
	}
	if (r->load)
		tping_load_stop(r->load);
	/* What arrived meanwhile still counts; what is still open is finished as it stands. */
	if (rc == 0)
		drain(r, buf, err);
	expire(r, 0, 1);
	r->end_real = vd_now(CLOCK_REALTIME);
	free(buf);
	free(pkt);
	return rc;
}
