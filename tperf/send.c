/* send.c — tperf's sender: bulk transfers from an in-memory buffer, one connection each. */
#include "tperf.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct addrinfo *resolved;

int tperf_resolve(const struct tperf_send_opts *o, struct vd_err *err)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	int rc = getaddrinfo(o->host, o->port, &hints, &resolved);
	if (rc)
		return vd_err_set(err, "%s port %s: %s", o->host, o->port, gai_strerror(rc));
	return 0;
}

void tperf_send_cleanup(void)
{
	if (resolved)
		freeaddrinfo(resolved);
	resolved = NULL;
}

/* Waits for events on fd. 1 ready, 0 timed out, -1 error (errno). */
static int wait_fd(int fd, short events, vd_ns deadline)
{
	for (;;) {
		int ms = tperf_ms_left(deadline);
		if (!ms)
			return 0;
		struct pollfd p = {.fd = fd, .events = events};
		int rc = poll(&p, 1, ms);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			return rc;
		return 1;
	}
}

static enum vd_transfer_status status_of(int e)
{
	switch (e) {
	case ECONNREFUSED:
		return VD_XFER_REFUSED;
	case ECONNRESET:
	case EPIPE:
		return VD_XFER_RESET;
	case ETIMEDOUT:
		return VD_XFER_TIMEOUT;
	default:
		return VD_XFER_ERROR;
	}
}

/* what: the step that failed ("connect", "send", ...). */
static int fail(struct vd_transfer *t, int e, struct vd_err *err, const char *step,
		const char *host, const char *port)
{
	t->status = status_of(e);
	t->end = vd_now(CLOCK_REALTIME);
	vd_transfer_finish(t);
	const char *what = t->status == VD_XFER_REFUSED	  ? "connection refused"
			   : t->status == VD_XFER_RESET	  ? "connection reset by peer"
			   : t->status == VD_XFER_TIMEOUT ? "timed out"
							  : strerror(e);
	return vd_err_set(err, "%s port %s: transfer %llu: %s: %s (after %llu bytes)", host, port,
			  (unsigned long long)t->idx, step, what, (unsigned long long)t->bytes);
}

static int connect_one(const struct tperf_send_opts *o, const struct addrinfo *ai, int *fdp, int *e)
{
	int fd =
	    socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0) {
		*e = errno;
		return -1;
	}
	if (o->mss > 0)
		setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &o->mss, sizeof(o->mss));
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS) {
		*e = errno;
		close(fd);
		return -1;
	}
	int rc = wait_fd(fd, POLLOUT, o->deadline);
	if (rc <= 0) {
		*e = rc == 0 ? ETIMEDOUT : errno;
		close(fd);
		return -1;
	}
	int soerr = 0;
	socklen_t len = sizeof(soerr);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
	if (soerr) {
		*e = soerr;
		close(fd);
		return -1;
	}
	*fdp = fd;
	return 0;
}

int tperf_send_one(const struct tperf_send_opts *o, const uint8_t *buf, uint64_t idx,
		   struct vd_transfer *t, struct vd_err *err)
{
	memset(t, 0, sizeof(*t));
	t->idx = idx;
	t->end = VD_NS_NONE;
	t->start = vd_now(CLOCK_REALTIME);
	int fd = -1, e = 0;
	const struct addrinfo *ai;
	for (ai = resolved; ai; ai = ai->ai_next)
		if (!connect_one(o, ai, &fd, &e))
			break;
	if (fd < 0)
		return fail(t, e, err, "connect", o->host, o->port);
	while (t->bytes < o->bytes) {
		size_t n = o->msg_size;
		if (n > o->bytes - t->bytes)
			n = (size_t)(o->bytes - t->bytes);
		ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
		if (w > 0) {
			t->bytes += (uint64_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int rc = wait_fd(fd, POLLOUT, o->deadline);
			if (rc > 0)
				continue;
			e = rc == 0 ? ETIMEDOUT : errno;
		} else {
			e = w < 0 ? errno : EPIPE;
		}
		close(fd);
		return fail(t, e, err, "send", o->host, o->port);
	}
	shutdown(fd, SHUT_WR);
	/* The transfer ends when the sink, having read everything, closes its side. */
	for (;;) {
		char sink[512];
		ssize_t r = recv(fd, sink, sizeof(sink), 0);
		if (r == 0)
			break;
		if (r > 0 || errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			int rc = wait_fd(fd, POLLIN, o->deadline);
			if (rc > 0)
				continue;
			e = rc == 0 ? ETIMEDOUT : errno;
		} else {
			e = errno;
		}
		close(fd);
		return fail(t, e, err, "waiting for the sink to close", o->host, o->port);
	}
	t->end = vd_now(CLOCK_REALTIME);
	close(fd);
	t->status = VD_XFER_OK;
	vd_transfer_finish(t);
	return 0;
}
