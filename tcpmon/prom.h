/* prom.h — a minimal HTTP endpoint for Prometheus scrapes while tcpmon records: one listening
 * socket polled from the recording loop (no thread), each scrape answered at once and closed.
 * GET /metrics gets the text exposition format; anything else a 404 or 405. */
#ifndef TCPMON_PROM_H
#define TCPMON_PROM_H

#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

#include "vmdelay/core/err.h"

struct tcpmon_prom;

/* "PORT", "ADDR:PORT" or "[IPV6]:PORT"; without ADDR the loopback 127.0.0.1. */
int tcpmon_prom_parse(const char *spec, struct sockaddr_storage *sa, socklen_t *len,
		      struct vd_err *err);
/* The status an HTTP request head gets: 200 for GET /metrics (query ignored), 404 for another
 * path, 405 for another method, 400 for what is not a request line. */
int tcpmon_prom_route(const char *req, size_t len);

int tcpmon_prom_open(const char *spec, struct tcpmon_prom **out, struct vd_err *err);
/* Writes the metrics to f. */
typedef void (*tcpmon_prom_body)(FILE *f, void *ctx);
/* Answers the scrapes waiting now (a few at most per call); never blocks for long. */
void tcpmon_prom_serve(struct tcpmon_prom *p, tcpmon_prom_body body, void *ctx);
void tcpmon_prom_close(struct tcpmon_prom *p);

#endif
