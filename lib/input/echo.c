/* echo.c — the readers' side of the echo sink (echo.h): points opened, events counted,
 * points closed; and how an event's addresses are printed. */
#include "vmdelay/input/echo.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vd_echo_point *vd_echo_point_open(const struct vd_echo_sink *sink, const char *name,
					 const struct vd_vantage_spec *spec, const char *format)
{
	struct vd_echo_point *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	snprintf(p->name, sizeof(p->name), "%s", name ? name : "");
	snprintf(p->clock, sizeof(p->clock), "%s", spec->clock);
	snprintf(p->format, sizeof(p->format), "%s", format ? format : "");
	p->path = spec->path;
	if (sink->open(sink->ctx, p) < 0) {
		free(p);
		return NULL;
	}
	return p;
}

int vd_echo_point_add(const struct vd_echo_sink *sink, struct vd_echo_point *p,
		      const struct vd_echo *e)
{
	if (sink->echo(sink->ctx, p, e) < 0)
		return -1;
	p->echoes++;
	return 0;
}

int vd_echo_point_close(const struct vd_echo_sink *sink, struct vd_echo_point *p, int keep)
{
	if (!p)
		return 0;
	int rc = sink->close(sink->ctx, p, keep);
	free(p);
	return rc;
}

const char *vd_echo_family_name(const struct vd_echo *e)
{
	if (e->src.family == AF_INET)
		return "icmpv4";
	if (e->src.family == AF_INET6)
		return "icmpv6";
	return "";
}

const char *vd_addr_format(const struct vd_addr *a, char *buf, size_t len)
{
	if (len)
		buf[0] = '\0';
	if ((a->family == AF_INET || a->family == AF_INET6) &&
	    !inet_ntop(a->family, a->bytes, buf, (socklen_t)len) && len)
		buf[0] = '\0';
	return buf;
}
