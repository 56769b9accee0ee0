/* Unit tests: compressed captures (lib/input/zstream.c) — gzip and zstd made here with zlib and
 * libzstd: a pcap read through vd_trace_open_file equals the plain one packet for packet (several
 * gzip members, several zstd frames, a pipe-like stream); a stream cut anywhere, corrupt data
 * and trailing garbage fail with a message naming the file and the frame after the packets
 * before it; a zstd bomb is refused past its ratio; detection by content. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include <cmocka.h>

#include "vmdelay/input/trace.h"
#include "vmdelay/input/zstream.h"

struct buf {
	uint8_t *p;
	size_t n;
};

static void append(struct buf *b, const void *p, size_t n)
{
	b->p = realloc(b->p, b->n + n);
	assert_non_null(b->p);
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

/* A microsecond pcap of npkts Ethernet frames of 100 bytes whose bytes vary with the packet. */
static struct buf make_pcap(int npkts)
{
	struct buf b = {0};
	const uint32_t gh[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
	append(&b, gh, sizeof(gh));
	for (int i = 0; i < npkts; i++) {
		uint32_t rh[4] = {1700000000u + (uint32_t)i, (uint32_t)(i * 7) % 1000000, 100, 100};
		uint8_t fr[100];
		for (int k = 0; k < 100; k++)
			fr[k] = (uint8_t)(i * 31 + k * (i % 7));
		append(&b, rh, sizeof(rh));
		append(&b, fr, sizeof(fr));
	}
	return b;
}

/* gzip of src cut into `members` members. */
static struct buf gz(const struct buf *src, int members)
{
	struct buf out = {0};
	size_t per = src->n / (size_t)members + 1;
	for (size_t off = 0; off < src->n; off += per) {
		size_t len = src->n - off < per ? src->n - off : per;
		z_stream z = {0};
		assert_int_equal(
		    deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
		size_t cap = deflateBound(&z, (uLong)len);
		uint8_t *tmp = malloc(cap);
		z.next_in = src->p + off;
		z.avail_in = (uInt)len;
		z.next_out = tmp;
		z.avail_out = (uInt)cap;
		assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
		append(&out, tmp, cap - z.avail_out);
		deflateEnd(&z);
		free(tmp);
	}
	return out;
}

static struct buf zst(const struct buf *src, int frames)
{
	struct buf out = {0};
	size_t per = src->n / (size_t)frames + 1;
	for (size_t off = 0; off < src->n; off += per) {
		size_t len = src->n - off < per ? src->n - off : per;
		size_t cap = ZSTD_compressBound(len);
		uint8_t *tmp = malloc(cap);
		size_t r = ZSTD_compress(tmp, cap, src->p + off, len, 3);
		assert_false(ZSTD_isError(r));
		append(&out, tmp, r);
		free(tmp);
	}
	return out;
}

/* Reads data (n bytes) as a capture: the packets' bytes concatenated in *pkts; the return of the
 * last vd_trace_next (0 end, -1 error with msg). -2: open failed. */
static int read_all(const uint8_t *data, size_t n, struct buf *pkts, char *msg, size_t msglen)
{
	FILE *f = fmemopen((void *)data, n, "rb");
	assert_non_null(f);
	struct vd_trace *tr;
	struct vd_err err;
	memset(&err, 0, sizeof(err));
	if (vd_trace_open_file(f, "cap.gz", NULL, &tr, &err) < 0) {
		snprintf(msg, msglen, "%s", err.msg);
		return -2;
	}
	struct vd_pkt pkt;
	int rc;
	while ((rc = vd_trace_next(tr, &pkt, &err)) == 1)
		append(pkts, pkt.data, pkt.caplen);
	snprintf(msg, msglen, "%s", rc < 0 ? err.msg : "");
	vd_trace_close(tr);
	return rc;
}

static void same_packets(const struct buf *plain, const struct buf *packed)
{
	struct buf a = {0}, b = {0};
	char msg[512];
	assert_int_equal(read_all(plain->p, plain->n, &a, msg, sizeof(msg)), 0);
	assert_int_equal(read_all(packed->p, packed->n, &b, msg, sizeof(msg)), 0);
	assert_int_equal(a.n, b.n);
	assert_memory_equal(a.p, b.p, a.n);
	free(a.p);
	free(b.p);
}

static void gzip_and_zstd_read_like_the_plain_file(void **state)
{
	struct buf p = make_pcap(5000);
	for (int parts = 1; parts <= 3; parts++) {
		struct buf g = gz(&p, parts), z = zst(&p, parts);
		assert_int_equal(vd_zstream_detect(g.p, g.n), VD_Z_GZIP);
		assert_int_equal(vd_zstream_detect(z.p, z.n), VD_Z_ZSTD);
		same_packets(&p, &g);
		same_packets(&p, &z);
		free(g.p);
		free(z.p);
	}
	assert_int_equal(vd_zstream_detect(p.p, p.n), VD_Z_NONE);
	free(p.p);
}

/* Cut at many lengths: the packets before the cut come out, then an error naming the frame. */
static void cut_streams_fail_naming_the_frame(void **state)
{
	struct buf p = make_pcap(3000);
	struct buf packed[2] = {gz(&p, 1), zst(&p, 1)};
	for (int k = 0; k < 2; k++) {
		const struct buf *c = &packed[k];
		for (size_t cut = 20; cut < c->n; cut += c->n / 23 + 1) {
			struct buf got = {0};
			char msg[512];
			int rc = read_all(c->p, cut, &got, msg, sizeof(msg));
			/* -2: the open failed, when nothing came out before the cut (zstd gives out
			 * whole blocks of up to 128 KiB) */
			if (!(rc == -1 || (rc == -2 && strstr(msg, "frame 1 (offset 0 "))))
				fail_msg("cut %zu of %zu: rc %d: %s", cut, c->n, rc, msg);
			assert_non_null(strstr(msg, "cap.gz: frame "));
			assert_non_null(
			    strstr(msg, k ? "zstd data cut short" : "gzip data cut short"));
			/* what came out is a prefix of the plain packets */
			assert_memory_equal(got.p ? got.p : (uint8_t *)"",
					    got.p ? p.p + 24 + 16 : (uint8_t *)"", got.n ? 100 : 0);
			free(got.p);
		}
	}
	/* corrupt deflate data and trailing garbage */
	struct buf bad = gz(&p, 1);
	bad.p[10] = 0xff; /* the first deflate block: reserved type 3 */
	struct buf got = {0};
	char msg[512];
	assert_int_equal(read_all(bad.p, bad.n, &got, msg, sizeof(msg)), -2); /* at open */
	if (!strstr(msg, "corrupt gzip data after") || !strstr(msg, "invalid block type"))
		fail_msg("corrupt gzip: %s", msg);
	free(got.p);
	struct buf tail = gz(&p, 1);
	append(&tail, "junk!", 5);
	got = (struct buf){0};
	assert_int_equal(read_all(tail.p, tail.n, &got, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "5 bytes of trailing data after the gzip stream"));
	free(got.p);
	free(bad.p);
	free(tail.p);
	free(packed[0].p);
	free(packed[1].p);
	free(p.p);
}

static void bomb_refused(void **state)
{
	/* A pcap header and 80 MiB of zeros (empty packets of 16 zero bytes): zstd packs it a
	 * thousand times smaller than the bound allows past 64 MiB. */
	size_t n = 24 + (80u << 20);
	struct buf p = {calloc(1, n), n};
	const uint32_t gh[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
	memcpy(p.p, gh, sizeof(gh));
	struct buf z = zst(&p, 1);
	assert_true(z.n < n / VD_ZSTREAM_BOMB_RATIO);
	FILE *f = fmemopen(z.p, z.n, "rb");
	struct vd_trace *tr;
	struct vd_err err;
	assert_int_equal(vd_trace_open_file(f, "bomb.zst", NULL, &tr, &err), 0);
	assert_string_equal(vd_trace_compression(tr), "zstd");
	struct vd_pkt pkt;
	uint64_t pkts = 0;
	int rc;
	while ((rc = vd_trace_next(tr, &pkt, &err)) == 1)
		pkts++;
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err.msg, "decompression bomb"));
	assert_non_null(strstr(err.msg, "bomb.zst: frame "));
	assert_true(pkts >= (VD_ZSTREAM_BOMB_MIN - 24) / 16 - 1);
	vd_trace_close(tr);
	free(z.p);
	free(p.p);
}

static void gzip_of_garbage_is_named(void **state)
{
	struct buf p = {0};
	append(&p, "this is no capture at all, just text\n", 37);
	struct buf g = gz(&p, 1);
	struct buf got = {0};
	char msg[512];
	assert_int_equal(read_all(g.p, g.n, &got, msg, sizeof(msg)), -2);
	assert_non_null(strstr(msg, "not a pcap, pcapng or ERF file inside its gzip"));
	free(g.p);
	free(p.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(gzip_and_zstd_read_like_the_plain_file),
	    cmocka_unit_test(cut_streams_fail_naming_the_frame),
	    cmocka_unit_test(bomb_refused),
	    cmocka_unit_test(gzip_of_garbage_is_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
