/* prom.c — Prometheus scrape endpoint (see prom.h). */
#define _GNU_SOURCE /* accept4, open_memstream */
#include "prom.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_PER_CALL 4	     /* scrapes answered per call: the recorder must keep reading */
#define IO_TIMEOUT_US 200000 /* a client that sends nothing or reads nothing is dropped */

struct tcpmon_prom {
	int fd;
};

int tcpmon_prom_parse(const char *spec, struct sockaddr_storage *sa, socklen_t *len,
		      struct vd_err *err)
{
	char host[64] = "127.0.0.1";
	const char *port = spec, *colon = strrchr(spec, ':');
	char *end;
	long p;

	memset(sa, 0, sizeof(*sa));
	if (colon) {
		size_t hl = (size_t)(colon - spec);
		const char *h = spec;
		if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']')
			h++, hl -= 2;
		if (hl == 0 || hl >= sizeof(host))
			return vd_err_set(
			    err, "--prometheus: bad address in '%s' (want [ADDR:]PORT)", spec);
		memcpy(host, h, hl);
		host[hl] = '\0';
		port = colon + 1;
	}
	errno = 0;
	p = strtol(port, &end, 10);
	if (errno || end == port || *end || p < 1 || p > 65535)
		return vd_err_set(
		    err, "--prometheus: bad port in '%s' (want [ADDR:]PORT, 1..65535)", spec);
	struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)sa;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)p);
		*len = sizeof(*v4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*v6);
		return 0;
	}
	return vd_err_set(err, "--prometheus: '%s' is not an IPv4 or IPv6 address", host);
}

int tcpmon_prom_route(const char *req, size_t len)
{
	const char *sp1 = memchr(req, ' ', len), *sp2, *eol = memchr(req, '\n', len);
	size_t plen;

	if (!sp1 || !eol || sp1 > eol)
		return 400;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (!sp2 || (size_t)(eol - sp2) < 9 || memcmp(sp2 + 1, "HTTP/1.", 7))
		return 400;
	if (sp1 - req != 3 || memcmp(req, "GET", 3))
		return 405;
	plen = (size_t)(sp2 - sp1 - 1);
	if (plen >= 8 && !memcmp(sp1 + 1, "/metrics", 8) && (plen == 8 || sp1[9] == '?'))
		return 200;
	return 404;
}

int tcpmon_prom_open(const char *spec, struct tcpmon_prom **out, struct vd_err *err)
{
	struct sockaddr_storage sa;
	socklen_t len;
	int one = 1, fd;

	if (tcpmon_prom_parse(spec, &sa, &len, err))
		return -1;
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return vd_err_set(err, "--prometheus %s: socket: %s", spec, strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, len) || listen(fd, 8)) {
		vd_err_set(err, "--prometheus %s: %s", spec, strerror(errno));
		close(fd);
		return -1;
	}
	*out = calloc(1, sizeof(**out));
	if (!*out) {
		close(fd);
		return vd_err_set(err, "out of memory");
	}
	(*out)->fd = fd;
	return 0;
}

static void reply(int c, int status, const char *body, size_t blen)
{
	const char *why = status == 200	  ? "OK"
			  : status == 404 ? "Not Found"
			  : status == 405 ? "Method Not Allowed"
					  : "Bad Request";
	char head[256];
	int n =
	    snprintf(head, sizeof(head),
		     "HTTP/1.1 %d %s\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
		     status, why, blen);

	if (write(c, head, (size_t)n) == n && blen)
		for (size_t off = 0; off < blen;) {
			ssize_t w = write(c, body + off, blen - off);
			if (w <= 0)
				break;
			off += (size_t)w;
		}
}

static void answer(int c, tcpmon_prom_body body, void *ctx)
{
	struct timeval tv = {0, IO_TIMEOUT_US};
	char req[4096];
	size_t n = 0;
	char *buf = NULL;
	size_t blen = 0;
	int status;

	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (n < sizeof(req) - 1) { /* the request head, up to its blank line */
		ssize_t r = read(c, req + n, sizeof(req) - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		req[n] = '\0';
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	status = tcpmon_prom_route(req, n);
	if (status == 200) {
		FILE *f = open_memstream(&buf, &blen);
		if (!f)
			return;
		body(f, ctx);
		if (fclose(f)) {
			free(buf);
			return;
		}
		reply(c, 200, buf, blen);
		free(buf);
		return;
	}
	reply(c, status, "", 0);
}

void tcpmon_prom_serve(struct tcpmon_prom *p, tcpmon_prom_body body, void *ctx)
{
	for (int i = 0; p && i < MAX_PER_CALL; i++) {
		int c = accept4(p->fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			return; /* none waiting (EAGAIN), or an error the next call retries */
		answer(c, body, ctx);
		close(c);
	}
}

void tcpmon_prom_close(struct tcpmon_prom *p)
{
	if (!p)
		return;
	close(p->fd);
	free(p);
}
