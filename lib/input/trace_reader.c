/* trace_reader.c — the bounded reads through a file window and the error messages every trace
 * reader shares (trace_reader.h). */
#include "trace_reader.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "vmdelay/input/zstream.h"

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
				if (ferror(tr->f) && vd_zstream_error(tr->z))
					return vd_err_set(err,
							  "%s: frame %llu (offset %llu of the "
							  "decompressed data): %s",
							  tr->name,
							  (unsigned long long)tr->npkts + 1,
							  (unsigned long long)(tr->off + tr->wlen),
							  vd_zstream_error(tr->z));
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
