/* trace.c — opens a packet trace, recognises its format from the first bytes (never from the
 * name) and dispatches to the reader's ops table: classic pcap (pcapsrc.c), pcapng (pcapng.c),
 * Endace ERF (erf.c). Also the bounded reads and error messages the block readers share. */
#include "trace_ops.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "erf.h"

int vd_trace_fail(const struct vd_trace *tr, struct vd_err *err, uint64_t off, const char *fmt, ...)
{
	char msg[384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return vd_err_set(err, "%s: offset %llu: %s", tr->name, (unsigned long long)off, msg);
}

ssize_t vd_trace_peek(struct vd_trace *tr, size_t n, const uint8_t **p, struct vd_err *err)
{
	size_t avail = tr->wlen - tr->wpos;
	if (avail < n && !tr->eof) {
		if (avail)
			memmove(tr->buf, tr->buf + tr->wpos, avail);
		tr->wpos = 0;
		tr->wlen = avail;
		size_t cap = n > VD_TRACE_CHUNK ? n : VD_TRACE_CHUNK;
		if (cap > tr->bufcap) {
			uint8_t *b = realloc(tr->buf, cap);
			if (!b)
				return vd_err_set(err, "%s: out of memory (%zu bytes)", tr->name,
						  cap);
			tr->buf = b;
			tr->bufcap = cap;
		}
		while (tr->wlen < n && !tr->eof) {
			size_t got = fread(tr->buf + tr->wlen, 1, tr->bufcap - tr->wlen, tr->f);
			if (got == 0) {
				if (ferror(tr->f))
					return vd_trace_fail(tr, err, tr->off + tr->wlen,
							     "read error: %s", strerror(errno));
				tr->eof = 1;
			}
			tr->wlen += got;
		}
		avail = tr->wlen;
	}
	*p = tr->buf + tr->wpos;
	return (ssize_t)(avail < n ? avail : n);
}

void vd_trace_consume(struct vd_trace *tr, size_t n)
{
	tr->wpos += n;
	tr->off += n;
}

/* pcapng starts with the Section Header Block type, classic pcap with its 4 magics (µs / ns,
 * either byte order). ERF has no magic: erf.c checks the first record header is plausible. */
static const struct vd_trace_ops *detect(const uint8_t *b, size_t n)
{
	if (n >= 4) {
		uint32_t m = vd_le32(b);
		if (m == 0x0a0d0d0a)
			return &vd_pcapng_ops;
		if (m == 0xa1b2c3d4 || m == 0xd4c3b2a1 || m == 0xa1b23c4d || m == 0x4d3cb2a1)
			return &vd_pcapsrc_ops;
	}
	if (vd_erf_looks_like(b, n))
		return &vd_erf_ops;
	return NULL;
}

static const struct vd_trace_ops *by_name(const char *format)
{
	static const struct vd_trace_ops *const all[] = {&vd_pcapsrc_ops, &vd_pcapng_ops,
							 &vd_erf_ops};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(all[i]->format, format) == 0)
			return all[i];
	return NULL;
}

int vd_trace_open_file(FILE *f, const char *name, const char *format, struct vd_trace **out,
		       struct vd_err *err)
{
	*out = NULL;
	struct vd_trace *tr = calloc(1, sizeof(*tr));
	char *nm = strdup(name ? name : "(stream)");
	if (!tr || !nm) {
		free(tr);
		free(nm);
		fclose(f);
		return vd_err_set(err, "%s: out of memory", name);
	}
	tr->name = nm;
	tr->f = f;
	tr->size = -1;
	if (fseeko(f, 0, SEEK_END) == 0) {
		tr->size = ftello(f);
		if (fseeko(f, 0, SEEK_SET) != 0)
			tr->size = -1;
	}

	/* The first bytes go into the read window, so pcapng and ERF can also come from a pipe. */
	const uint8_t *head;
	ssize_t got = vd_trace_peek(tr, 64, &head, err);
	if (got < 0)
		goto fail;
	size_t n = (size_t)got;
	if (n == 0) {
		vd_err_set(err, "%s: empty file", tr->name);
		goto fail;
	}
	if (format) {
		tr->ops = by_name(format);
		if (!tr->ops) {
			vd_err_set(err, "%s: unknown trace format '%s'", tr->name, format);
			goto fail;
		}
	} else {
		tr->ops = detect(head, n);
		if (!tr->ops) {
			vd_err_set(
			    err,
			    "%s: not a pcap, pcapng or ERF file (first bytes %02x %02x %02x %02x)",
			    tr->name, head[0], n > 1 ? head[1] : 0, n > 2 ? head[2] : 0,
			    n > 3 ? head[3] : 0);
			goto fail;
		}
	}
	if (tr->ops->open(tr, err) < 0)
		goto fail; /* close() frees what open() got to */
	*out = tr;
	return 0;
fail:
	vd_trace_close(tr);
	return -1;
}

int vd_trace_open(const char *path, struct vd_trace **out, struct vd_err *err)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return vd_err_set(err, "%s: %s", path, strerror(errno));
	return vd_trace_open_file(f, path, NULL, out, err);
}

int vd_trace_next(struct vd_trace *tr, struct vd_pkt *pkt, struct vd_err *err)
{
	int rc = tr->ops->next(tr, pkt, err);
	if (rc == 1)
		pkt->index = ++tr->npkts;
	return rc;
}

void vd_trace_close(struct vd_trace *tr)
{
	if (!tr)
		return;
	if (tr->ops && tr->ops->close)
		tr->ops->close(tr);
	if (tr->f)
		fclose(tr->f);
	free(tr->buf);
	free(tr->name);
	free(tr);
}

const char *vd_trace_format(const struct vd_trace *tr)
{
	return tr->ops->format;
}

size_t vd_trace_interface_count(const struct vd_trace *tr)
{
	return tr->ops->iface_count(tr);
}

const char *vd_trace_interface_name(const struct vd_trace *tr, uint32_t iface)
{
	return tr->ops->iface_name(tr, iface);
}

int vd_trace_interface_linktype(const struct vd_trace *tr, uint32_t iface)
{
	return tr->ops->iface_linktype(tr, iface);
}

const char *vd_trace_name(const struct vd_trace *tr)
{
	return tr->name;
}

uint64_t vd_trace_skipped(const struct vd_trace *tr)
{
	return tr->skipped;
}
