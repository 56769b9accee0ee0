/* zstream.c — gzip (RFC 1952, any number of members, through zlib) and zstd (RFC 8878, any
 * number of frames, through libzstd) decompressed behind a stdio FILE (glibc fopencookie), so the
 * trace readers read compressed captures as they read pipes. A stream that ends inside a member
 * or frame, corrupt data and decompression bombs fail the read with a message kept here. */
#define _GNU_SOURCE /* fopencookie */
#include "vmdelay/input/zstream.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#define IN_CHUNK (256u << 10)

struct vd_zstream {
	FILE *src;
	enum vd_zkind kind;
	uint8_t *in;
	size_t in_len, in_pos; /* in[in_pos..in_len) not yet given to the decompressor */
	int src_eof;
	int at_end; /* the last member / frame is complete (nothing pending) */
	int failed;
	uint64_t in_total, out_total;
	z_stream z;
	ZSTD_DStream *zd;
	char msg[256];
};

enum vd_zkind vd_zstream_detect(const uint8_t *b, size_t n)
{
	if (n >= 3 && b[0] == 0x1f && b[1] == 0x8b && b[2] == 8) /* deflate, the only method */
		return VD_Z_GZIP;
	if (n >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd)
		return VD_Z_ZSTD;
	return VD_Z_NONE;
}

const char *vd_zstream_kind_name(enum vd_zkind kind)
{
	return kind == VD_Z_GZIP ? "gzip" : kind == VD_Z_ZSTD ? "zstd" : "none";
}

__attribute__((format(printf, 2, 3))) static ssize_t fail(struct vd_zstream *zs, const char *fmt,
							  ...)
{
	if (!zs->failed) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(zs->msg, sizeof(zs->msg), fmt, ap);
		va_end(ap);
		zs->failed = 1;
	}
	errno = EIO;
	return -1;
}

/* More compressed bytes into in[]: 1, 0 at the end of src, -1 on a read error. */
static int refill(struct vd_zstream *zs)
{
	if (zs->in_pos < zs->in_len)
		return 1;
	if (zs->src_eof)
		return 0;
	size_t got = fread(zs->in, 1, IN_CHUNK, zs->src);
	zs->in_pos = 0;
	zs->in_len = got;
	if (got == 0) {
		if (ferror(zs->src))
			return -1;
		zs->src_eof = 1;
		return 0;
	}
	return 1;
}

/* Decompresses into buf[0..size): bytes produced (0: need more input or at the end), -1. */
static ssize_t step_gzip(struct vd_zstream *zs, char *buf, size_t size)
{
	if (zs->at_end) { /* another member after the last one? */
		if (zs->in_len - zs->in_pos < 2 && zs->in_pos < zs->in_len && !zs->src_eof) {
			/* one byte left in the chunk: keep it and read on */
			memmove(zs->in, zs->in + zs->in_pos, zs->in_len - zs->in_pos);
			zs->in_len -= zs->in_pos;
			zs->in_pos = 0;
			size_t got = fread(zs->in + zs->in_len, 1, IN_CHUNK - zs->in_len, zs->src);
			zs->in_len += got;
			if (!got)
				zs->src_eof = 1;
		}
		const uint8_t *p = zs->in + zs->in_pos;
		size_t left = zs->in_len - zs->in_pos;
		if (left == 0)
			return 0;
		if (left < 2 || p[0] != 0x1f || p[1] != 0x8b)
			return fail(zs, "%zu bytes of trailing data after the gzip stream", left);
		inflateReset(&zs->z);
		zs->at_end = 0;
	}
	zs->z.next_in = zs->in + zs->in_pos;
	zs->z.avail_in = (uInt)(zs->in_len - zs->in_pos);
	zs->z.next_out = (Bytef *)buf;
	zs->z.avail_out = (uInt)(size > UINT32_MAX ? UINT32_MAX : size);
	int r = inflate(&zs->z, Z_NO_FLUSH);
	size_t used = zs->in_len - zs->in_pos - zs->z.avail_in;
	zs->in_pos += used;
	zs->in_total += used;
	ssize_t out = (ssize_t)((char *)zs->z.next_out - buf);
	if (r == Z_STREAM_END)
		zs->at_end = 1;
	else if (r != Z_OK && r != Z_BUF_ERROR)
		return fail(zs, "corrupt gzip data after %" PRIu64 " compressed bytes (%s)",
			    zs->in_total, zs->z.msg ? zs->z.msg : "zlib error");
	return out;
}

static ssize_t step_zstd(struct vd_zstream *zs, char *buf, size_t size)
{
	ZSTD_inBuffer in = {zs->in + zs->in_pos, zs->in_len - zs->in_pos, 0};
	ZSTD_outBuffer out = {buf, size, 0};
	size_t r = ZSTD_decompressStream(zs->zd, &out, &in);
	zs->in_pos += in.pos;
	zs->in_total += in.pos;
	if (ZSTD_isError(r))
		return fail(zs, "corrupt zstd data after %" PRIu64 " compressed bytes (%s)",
			    zs->in_total, ZSTD_getErrorName(r));
	/* 0: a frame ended and everything is flushed; more frames may follow. A call that neither
	 * read nor wrote (no input left) says nothing new. */
	if (in.pos || out.pos)
		zs->at_end = r == 0;
	return (ssize_t)out.pos;
}

static ssize_t zs_read(void *cookie, char *buf, size_t size)
{
	struct vd_zstream *zs = cookie;
	if (zs->failed) {
		errno = EIO;
		return -1;
	}
	for (;;) {
		int more = refill(zs);
		if (more < 0)
			return fail(zs, "read error after %" PRIu64 " compressed bytes: %s",
				    zs->in_total, strerror(errno));
		ssize_t got =
		    zs->kind == VD_Z_GZIP ? step_gzip(zs, buf, size) : step_zstd(zs, buf, size);
		if (got < 0)
			return -1;
		if (got > 0) {
			zs->out_total += (uint64_t)got;
			if (zs->out_total > VD_ZSTREAM_MAX_OUT ||
			    (zs->out_total > VD_ZSTREAM_BOMB_MIN &&
			     zs->out_total / VD_ZSTREAM_BOMB_RATIO > zs->in_total))
				return fail(zs,
					    "decompression bomb: %" PRIu64 " bytes out of %" PRIu64
					    " compressed bytes (more than %u to 1 past %llu MiB)",
					    zs->out_total, zs->in_total, VD_ZSTREAM_BOMB_RATIO,
					    VD_ZSTREAM_BOMB_MIN >> 20);
			return got;
		}
		if (!more) { /* no input left and nothing more came out */
			if (zs->at_end)
				return 0;
			/* deflate gives out all it got; zstd decodes a block only once it has
			 * all of it, so a cut inside the first block leaves nothing to read */
			if (zs->kind == VD_Z_ZSTD)
				return fail(
				    zs,
				    "zstd data cut short after %" PRIu64
				    " compressed bytes: the file is truncated (zstd decodes "
				    "only whole blocks, up to 128 KiB each: nothing after "
				    "decompressed byte %" PRIu64 " can be read)",
				    zs->in_total, zs->out_total);
			return fail(zs,
				    "gzip data cut short after %" PRIu64
				    " compressed bytes: the file is truncated",
				    zs->in_total);
		}
	}
}

static int zs_close(void *cookie)
{
	struct vd_zstream *zs = cookie;
	int rc = zs->src ? fclose(zs->src) : 0;
	if (zs->kind == VD_Z_GZIP)
		inflateEnd(&zs->z);
	else
		ZSTD_freeDStream(zs->zd);
	free(zs->in);
	free(zs);
	return rc;
}

FILE *vd_zstream_open(FILE *src, enum vd_zkind kind, const uint8_t *head, size_t n,
		      struct vd_zstream **out, struct vd_err *err)
{
	struct vd_zstream *zs = calloc(1, sizeof(*zs));
	uint8_t *in = malloc(IN_CHUNK > n ? IN_CHUNK : n);
	if (!zs || !in || (kind != VD_Z_GZIP && kind != VD_Z_ZSTD))
		goto fail;
	zs->src = src;
	zs->kind = kind;
	zs->in = in;
	memcpy(in, head, n);
	zs->in_len = n;
	if (kind == VD_Z_GZIP) {
		if (inflateInit2(&zs->z, 16 + MAX_WBITS) != Z_OK) /* gzip wrapper only */
			goto fail;
	} else {
		zs->zd = ZSTD_createDStream();
		if (!zs->zd || ZSTD_isError(ZSTD_initDStream(zs->zd))) {
			ZSTD_freeDStream(zs->zd);
			goto fail;
		}
	}
	cookie_io_functions_t io = {.read = zs_read, .close = zs_close};
	FILE *f = fopencookie(zs, "rb", io);
	if (!f) {
		zs->src = NULL; /* closed below */
		zs_close(zs);
		fclose(src);
		vd_err_set(err, "out of memory");
		return NULL;
	}
	*out = zs;
	return f;
fail:
	if (zs && zs->kind == VD_Z_GZIP && zs->in)
		inflateEnd(&zs->z);
	free(in);
	free(zs);
	fclose(src);
	vd_err_set(err, "cannot start the %s decompressor (out of memory)",
		   vd_zstream_kind_name(kind));
	return NULL;
}

enum vd_zkind vd_zstream_kind(const struct vd_zstream *zs)
{
	return zs->kind;
}

const char *vd_zstream_error(const struct vd_zstream *zs)
{
	return zs && zs->failed ? zs->msg : NULL;
}
