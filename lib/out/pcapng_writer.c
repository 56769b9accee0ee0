/* pcapng_writer.c — pcapng output (see pcapng_writer.h). */
#include "vmdelay/out/pcapng_writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BT_SHB 0x0a0d0d0au
#define BT_IDB 0x00000001u
#define BT_EPB 0x00000006u
#define OPT_END 0
#define OPT_COMMENT 1
#define SHB_USERAPPL 4
#define IF_NAME 2
#define IF_DESCRIPTION 3
#define IF_TSRESOL 9

/* Options and blocks are at most this long: a comment or name longer than that is cut. */
#define OPT_MAX 4096

struct vd_pcapng_writer {
	FILE *f;
	char *path;
	uint32_t ifaces;
	int failed;
	uint8_t buf[65536 + 2 * OPT_MAX + 64];
};

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static size_t put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
	return 4;
}

static size_t put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
	return 2;
}

/* An option at p: code, length, value padded to 4 bytes. Returns the bytes written. */
static size_t put_opt(uint8_t *p, uint16_t code, const void *val, size_t len)
{
	if (len > OPT_MAX)
		len = OPT_MAX;
	size_t n = put16(p, code);
	n += put16(p + n, (uint16_t)len);
	memcpy(p + n, val, len);
	memset(p + n + len, 0, pad4(len) - len);
	return n + pad4(len);
}

static size_t put_str_opt(uint8_t *p, uint16_t code, const char *s)
{
	return s && *s ? put_opt(p, code, s, strlen(s)) : 0;
}

static size_t put_end(uint8_t *p)
{
	return put16(p, OPT_END) + put16(p + 2, 0);
}

/* Writes the block of type whose body (after type and length) is w->buf[8..8+body). */
static int write_block(struct vd_pcapng_writer *w, uint32_t type, size_t body, struct vd_err *err)
{
	uint32_t total = (uint32_t)(body + 12);
	put32(w->buf, type);
	put32(w->buf + 4, total);
	put32(w->buf + 8 + body, total);
	if (fwrite(w->buf, 1, total, w->f) != total) {
		w->failed = 1;
		return vd_err_set(err, "%s: write error", w->path);
	}
	return 0;
}

int vd_pcapng_writer_open(const char *path, const char *app, struct vd_pcapng_writer **out,
			  struct vd_err *err)
{
	*out = NULL;
	struct vd_pcapng_writer *w = calloc(1, sizeof(*w));
	if (!w || !(w->path = strdup(path))) {
		free(w);
		return vd_err_set(err, "out of memory");
	}
	if (!(w->f = fopen(path, "wb"))) {
		vd_err_set(err, "%s: cannot create", path);
		free(w->path);
		free(w);
		return -1;
	}
	uint8_t *p = w->buf + 8;
	size_t n = put32(p, 0x1a2b3c4d);
	n += put16(p + n, 1);
	n += put16(p + n, 0);
	uint64_t unknown_len = UINT64_MAX; /* section length not given */
	memcpy(p + n, &unknown_len, 8);
	n += 8;
	n += put_str_opt(p + n, SHB_USERAPPL, app);
	n += put_end(p + n);
	if (write_block(w, BT_SHB, n, err) < 0) {
		vd_pcapng_writer_close(w, NULL);
		return -1;
	}
	*out = w;
	return 0;
}

int vd_pcapng_writer_interface(struct vd_pcapng_writer *w, int linktype, uint32_t snaplen,
			       const char *name, const char *description, uint32_t *id,
			       struct vd_err *err)
{
	uint8_t *p = w->buf + 8;
	size_t n = put16(p, (uint16_t)linktype);
	n += put16(p + n, 0);
	n += put32(p + n, snaplen);
	n += put_str_opt(p + n, IF_NAME, name);
	n += put_str_opt(p + n, IF_DESCRIPTION, description);
	uint8_t ns = 9; /* timestamps in 10^-9 s */
	n += put_opt(p + n, IF_TSRESOL, &ns, 1);
	n += put_end(p + n);
	if (write_block(w, BT_IDB, n, err) < 0)
		return -1;
	*id = w->ifaces++;
	return 0;
}

int vd_pcapng_writer_packet(struct vd_pcapng_writer *w, uint32_t iface, vd_ns ts,
			    const uint8_t *data, uint32_t caplen, uint32_t wirelen,
			    const char *comment, struct vd_err *err)
{
	if (iface >= w->ifaces)
		return vd_err_set(err, "%s: packet on interface %u of %u", w->path, iface,
				  w->ifaces);
	if (caplen > 65536)
		caplen = 65536; /* the buffer's size: longer frames are cut, wirelen says so */
	uint8_t *p = w->buf + 8;
	uint64_t t = (uint64_t)ts;
	size_t n = put32(p, iface);
	n += put32(p + n, (uint32_t)(t >> 32));
	n += put32(p + n, (uint32_t)t);
	n += put32(p + n, caplen);
	n += put32(p + n, wirelen < caplen ? caplen : wirelen);
	memcpy(p + n, data, caplen);
	memset(p + n + caplen, 0, pad4(caplen) - caplen);
	n += pad4(caplen);
	if (comment && *comment) {
		n += put_str_opt(p + n, OPT_COMMENT, comment);
		n += put_end(p + n);
	}
	return write_block(w, BT_EPB, n, err);
}

int vd_pcapng_writer_close(struct vd_pcapng_writer *w, struct vd_err *err)
{
	if (!w)
		return 0;
	int failed = w->failed || ferror(w->f);
	if (fclose(w->f) != 0)
		failed = 1;
	if (failed)
		vd_err_set(err, "%s: write error", w->path);
	free(w->path);
	free(w);
	return failed ? -1 : 0;
}
