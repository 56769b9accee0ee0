/* sink.c — tperf's sink: accepts connections one after another and counts their bytes. */
#define _GNU_SOURCE /* accept4 */
#include "tperf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int tperf_ms_left(vd_ns deadline)
{
	vd_ns left = deadline - vd_now(CLOCK_MONOTONIC);
	if (left <= 0)
		return 0;
	return left / VD_NS_PER_MS > 1000000 ? 1000000 : (int)(left / VD_NS_PER_MS) + 1;
}

static int listen_on(const struct tperf_sink_opts *o, struct vd_err *err)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICHOST};
	struct addrinfo *res;
	const char *addr = o->bind_addr ? o->bind_addr : "::";
	int rc = getaddrinfo(addr, o->port, &hints, &res);
	if (rc && !o->bind_addr) {
		addr = "0.0.0.0";
		rc = getaddrinfo(addr, o->port, &hints, &res);
	}
	if (rc)
		return vd_err_set(err, "-B %s port %s: %s", addr, o->port, gai_strerror(rc));
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 && !o->bind_addr) {
		/* No IPv6 on this host: listen on IPv4 only. */
		freeaddrinfo(res);
		addr = "0.0.0.0";
		if (getaddrinfo(addr, o->port, &hints, &res))
			return vd_err_set(err, "cannot listen on port %s", o->port);
		fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	}
	if (fd < 0) {
		vd_err_set(err, "socket: %s", strerror(errno));
		freeaddrinfo(res);
		return -1;
	}
	int one = 1, zero = 0;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (res->ai_family == AF_INET6 && !o->bind_addr)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 128)) {
		vd_err_set(err, "listen on %s port %s: %s", addr, o->port, strerror(errno));
		close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	fprintf(stderr, "tperf: listening on %s port %s\n", addr, o->port);
	fflush(stderr);
	return fd;
}

static void peer_name(const struct sockaddr_storage *ss, char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;
		/* a dual-stack socket's IPv4 peer is shown as IPv4 */
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], a, sizeof(a));
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		port = ntohs(s6->sin6_port);
	} else if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		port = ntohs(s4->sin_port);
	}
	snprintf(buf, n, "%s %u", a, port);
}

/* Reads fd to EOF (or the deadline). */
static void drain(int fd, uint8_t *buf, size_t size, vd_ns deadline, struct vd_transfer *t)
{
	for (;;) {
		int ms = tperf_ms_left(deadline);
		if (!ms) {
			t->status = VD_XFER_TIMEOUT;
			return;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int rc = poll(&p, 1, ms);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			continue; /* timed out: the next round notices */
		ssize_t r = recv(fd, buf, size, 0);
		if (r > 0) {
			t->bytes += (uint64_t)r;
		} else if (r == 0) {
			t->status = VD_XFER_OK;
			return;
		} else if (errno != EINTR && errno != EAGAIN) {
			t->status = errno == ECONNRESET ? VD_XFER_RESET : VD_XFER_ERROR;
			return;
		}
	}
}

int tperf_sink_run(const struct tperf_sink_opts *o, tperf_conn_fn fn, void *ctx, struct vd_err *err)
{
	int lfd = listen_on(o, err);
	if (lfd < 0)
		return -1;
	uint8_t *buf = malloc(o->buf_size);
	if (!buf) {
		close(lfd);
		return vd_err_set(err, "out of memory");
	}
	uint64_t conns = 0;
	int ret = 0;
	while (!o->max_conns || conns < o->max_conns) {
		int ms = tperf_ms_left(o->deadline);
		if (!ms)
			break;
		struct pollfd p = {.fd = lfd, .events = POLLIN};
		int rc = poll(&p, 1, ms);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0) {
			ret = vd_err_set(err, "poll: %s", strerror(errno));
			break;
		}
		if (rc == 0)
			continue;
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			ret = vd_err_set(err, "accept: %s", strerror(errno));
			break;
		}
		struct vd_transfer t = {.idx = conns, .start = vd_now(CLOCK_REALTIME)};
		drain(fd, buf, o->buf_size, o->deadline, &t);
		t.end = vd_now(CLOCK_REALTIME);
		close(fd);
		vd_transfer_finish(&t);
		char peer[INET6_ADDRSTRLEN + 8];
		peer_name(&ss, peer, sizeof(peer));
		fn(ctx, &t, peer);
		conns++;
	}
	free(buf);
	close(lfd);
	return ret;
}
