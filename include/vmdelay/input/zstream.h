/* zstream.h — compressed captures read transparently: a gzip (zlib) or zstd (libzstd) stream
 * seen through a stdio FILE that yields the decompressed bytes, so that every trace reader (and
 * libpcap) reads it as it reads a plain file or a pipe. Found from the content, never the name:
 * gzip by 1f 8b 08, zstd by its frame magic 28 b5 2f fd. */
#ifndef VMDELAY_ZSTREAM_H
#define VMDELAY_ZSTREAM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vmdelay/core/err.h"

/* Decompression bombs: once the output passes VD_ZSTREAM_BOMB_MIN bytes, more than
 * VD_ZSTREAM_BOMB_RATIO output bytes per compressed byte read is refused (real captures
 * compress 2-50 times, synthetic ones up to a few hundred); so is any output past
 * VD_ZSTREAM_MAX_OUT. */
#define VD_ZSTREAM_BOMB_MIN (64ull << 20)
#define VD_ZSTREAM_BOMB_RATIO 1000u
#define VD_ZSTREAM_MAX_OUT (1ull << 40)

enum vd_zkind { VD_Z_NONE, VD_Z_GZIP, VD_Z_ZSTD };

/* What the first n bytes of a file say: VD_Z_GZIP, VD_Z_ZSTD or VD_Z_NONE. */
enum vd_zkind vd_zstream_detect(const uint8_t *b, size_t n);

struct vd_zstream;

/* A FILE yielding the decompressed bytes of the kind-compressed data that starts with the n
 * bytes of head (already read from src) and goes on in src. Takes ownership of src (closed with
 * the returned FILE). *zs is the stream's state, for vd_zstream_error / _stats; it lives until
 * the FILE is closed. NULL (src closed) when out of memory or the decompressor cannot start. */
FILE *vd_zstream_open(FILE *src, enum vd_zkind kind, const uint8_t *head, size_t n,
		      struct vd_zstream **zs, struct vd_err *err);

/* Why the stream failed ("gzip data cut short after 1234 compressed bytes", "zstd: ...",
 * "decompression bomb: ..."), NULL when it did not. A failed read sets errno to EIO. */
const char *vd_zstream_error(const struct vd_zstream *zs);

enum vd_zkind vd_zstream_kind(const struct vd_zstream *zs);

/* "gzip" or "zstd". */
const char *vd_zstream_kind_name(enum vd_zkind kind);

#endif
