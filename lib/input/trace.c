/* trace.c — opens a packet trace, recognises its format from the first bytes (never from the
 * name) and dispatches to the reader's ops table: classic pcap (pcapsrc.c), pcapng (pcapng.c),
 * Endace ERF (erf.c). */
#include "vmdelay/input/trace.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trace_reader.h"
#include "vmdelay/input/format.h"
#include "vmdelay/input/zstream.h"

/* The trace formats among those format.c recognises; NULL for anything else. */
static const struct vd_trace_ops *detect(const uint8_t *b, size_t n)
{
	switch (vd_format_detect(b, n)) {
	case VD_FORMAT_PCAP:
		return &vd_pcapsrc_ops;
	case VD_FORMAT_PCAPNG:
		return &vd_pcapng_ops;
	case VD_FORMAT_ERF:
		return &vd_erf_ops;
	default:
		return NULL;
	}
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
	ssize_t got = vd_trace_peek(tr, VD_FORMAT_HEAD, &head, err);
	if (got < 0)
		goto fail;
	size_t n = (size_t)got;
	if (n == 0) {
		vd_err_set(err, "%s: empty file", tr->name);
		goto fail;
	}
	/* Detection order: gzip, zstd, then the formats inside (pcap, pcapng, ERF). */
	enum vd_zkind zk = vd_zstream_detect(head, n);
	if (zk != VD_Z_NONE) {
		FILE *zf = vd_zstream_open(tr->f, zk, tr->buf + tr->wpos, tr->wlen - tr->wpos,
					   &tr->z, err);
		tr->f = zf;
		if (!zf) {
			vd_err_prefix(err, "%s", tr->name);
			goto fail;
		}
		tr->wpos = tr->wlen = 0;
		tr->eof = 0;
		tr->size = -1;
		if ((got = vd_trace_peek(tr, VD_FORMAT_HEAD, &head, err)) < 0)
			goto fail;
		if ((n = (size_t)got) == 0) {
			vd_err_set(err, "%s: empty %s data", tr->name, vd_zstream_kind_name(zk));
			goto fail;
		}
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
			vd_err_set(err,
				   "%s: not a pcap, pcapng or ERF file%s%s (first bytes %02x %02x "
				   "%02x %02x)",
				   tr->name, tr->z ? " inside its " : "",
				   tr->z ? vd_zstream_kind_name(zk) : "", head[0],
				   n > 1 ? head[1] : 0, n > 2 ? head[2] : 0, n > 3 ? head[3] : 0);
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

int vd_trace_next_batch(struct vd_trace *tr, struct vd_pkt *pkts, int max, struct vd_err *err)
{
	if (tr->ops->next_batch && max > 1)
		return tr->ops->next_batch(tr, pkts, max, err);
	return vd_trace_next(tr, pkts, err);
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

const char *vd_trace_compression(const struct vd_trace *tr)
{
	return tr->z ? vd_zstream_kind_name(vd_zstream_kind(tr->z)) : NULL;
}

uint64_t vd_trace_skipped(const struct vd_trace *tr)
{
	return tr->skipped;
}
