/* tcmrec.c — tcpmon record files (docs/formats/tcpmon.md): writer, bounds-checked
 * reader, TSC -> ns conversion from the per-CPU calibration pairs, and the dump rows. The file
 * is the kernel's little-endian layout; the reader decodes every field through get_le*() after
 * checking the bytes are there, so a damaged file gives an error naming the offset. */
#include "vmdelay/input/tcmrec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "vmdelay/core/mem.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "tcmrec writes the kernel's little-endian structs as they are"
#endif

static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

#define FIELD(r, f) ((const uint8_t *)(r) + offsetof(struct tcpmon_record, f))

int vd_tcmrec_decode_record(const uint8_t *p, size_t size, struct tcpmon_record *r)
{
	if (size < sizeof(*r))
		return -1;
	/* Same layout as the kernel's; decoded field by field so the host order is explicit. */
	r->tsc = get_le64(p + offsetof(struct tcpmon_record, tsc));
	r->real_ns = (int64_t)get_le64(p + offsetof(struct tcpmon_record, real_ns));
	r->mono_ns = (int64_t)get_le64(p + offsetof(struct tcpmon_record, mono_ns));
	r->cpu = get_le32(p + offsetof(struct tcpmon_record, cpu));
	r->layer = p[offsetof(struct tcpmon_record, layer)];
	r->dir = p[offsetof(struct tcpmon_record, dir)];
	r->family = p[offsetof(struct tcpmon_record, family)];
	r->proto = p[offsetof(struct tcpmon_record, proto)];
	r->ifindex = get_le32(p + offsetof(struct tcpmon_record, ifindex));
	memcpy(r->saddr, p + offsetof(struct tcpmon_record, saddr), 16);
	memcpy(r->daddr, p + offsetof(struct tcpmon_record, daddr), 16);
	r->sport = get_le16(p + offsetof(struct tcpmon_record, sport));
	r->dport = get_le16(p + offsetof(struct tcpmon_record, dport));
	r->seq = get_le32(p + offsetof(struct tcpmon_record, seq));
	r->ack = get_le32(p + offsetof(struct tcpmon_record, ack));
	r->window = get_le16(p + offsetof(struct tcpmon_record, window));
	r->tcp_flags = p[offsetof(struct tcpmon_record, tcp_flags)];
	r->icmp_type = p[offsetof(struct tcpmon_record, icmp_type)];
	r->icmp_code = p[offsetof(struct tcpmon_record, icmp_code)];
	r->rflags = p[offsetof(struct tcpmon_record, rflags)];
	r->icmp_id = get_le16(p + offsetof(struct tcpmon_record, icmp_id));
	r->icmp_seq = get_le16(p + offsetof(struct tcpmon_record, icmp_seq));
	r->gso_segs = get_le16(p + offsetof(struct tcpmon_record, gso_segs));
	r->payload_len = get_le32(p + offsetof(struct tcpmon_record, payload_len));
	r->skb_len = get_le32(p + offsetof(struct tcpmon_record, skb_len));
	r->seqno = get_le32(p + offsetof(struct tcpmon_record, seqno));
	r->reserved[0] = r->reserved[1] = 0;
	return 0;
}

int vd_tcmrec_decode_calib(const uint8_t *p, size_t size, struct tcpmon_calib *c)
{
	if (size < sizeof(*c))
		return -1;
	c->cpu = get_le32(p + offsetof(struct tcpmon_calib, cpu));
	c->err_ns = get_le32(p + offsetof(struct tcpmon_calib, err_ns));
	c->tsc = get_le64(p + offsetof(struct tcpmon_calib, tsc));
	c->mono_ns = (int64_t)get_le64(p + offsetof(struct tcpmon_calib, mono_ns));
	c->real_ns = (int64_t)get_le64(p + offsetof(struct tcpmon_calib, real_ns));
	return 0;
}

/* ---- writer ---- */
struct vd_tcmrec_writer {
	FILE *f;
	char *path;
	int failed;
};

static int w_block(struct vd_tcmrec_writer *w, uint32_t type, const void *data, size_t len,
		   struct vd_err *err)
{
	struct tcpmon_block b = {.type = type, .len = (uint32_t)len};

	if (len > UINT32_MAX)
		return vd_err_set(err, "%s: block of %zu bytes too large", w->path, len);
	if (fwrite(&b, sizeof(b), 1, w->f) != 1 || (len && fwrite(data, len, 1, w->f) != 1) ||
	    fflush(w->f)) {
		w->failed = 1;
		return vd_err_set(err, "%s: write: %s", w->path, strerror(errno));
	}
	return 0;
}

int vd_tcmrec_writer_open(const char *path, const struct vd_tcmrec_info *info,
			  struct vd_tcmrec_writer **out, struct vd_err *err)
{
	struct tcpmon_file_header h;
	struct vd_tcmrec_writer *w = calloc(1, sizeof(*w));

	if (!w || !(w->path = strdup(path))) {
		free(w);
		return vd_err_set(err, "%s: out of memory", path);
	}
	w->f = fopen(path, "wb");
	if (!w->f) {
		vd_err_set(err, "%s: %s", path, strerror(errno));
		free(w->path);
		free(w);
		return -1;
	}
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, TCPMON_FILE_MAGIC, sizeof(h.magic));
	h.version = TCPMON_FILE_VERSION;
	h.header_len = sizeof(h);
	h.record_size = sizeof(struct tcpmon_record);
	h.tsc_khz = info->tsc_khz;
	h.clock_flags = info->clock_flags;
	h.realtime_offset_ns = info->realtime_offset_ns;
	h.start_real_ns = info->start_real_ns;
	h.ncpus = info->ncpus;
	h.layers = info->layers;
	snprintf(h.kernel_release, sizeof(h.kernel_release), "%s", info->kernel_release);
	snprintf(h.hostname, sizeof(h.hostname), "%s", info->hostname);
	snprintf(h.clocksource, sizeof(h.clocksource), "%s", info->clocksource);
	if (fwrite(&h, sizeof(h), 1, w->f) != 1 || fflush(w->f)) {
		vd_err_set(err, "%s: write: %s", path, strerror(errno));
		fclose(w->f);
		free(w->path);
		free(w);
		return -1;
	}
	*out = w;
	return 0;
}

int vd_tcmrec_write_records(struct vd_tcmrec_writer *w, const struct tcpmon_record *r, size_t n,
			    struct vd_err *err)
{
	return n ? w_block(w, TCPMON_B_RECORDS, r, n * sizeof(*r), err) : 0;
}

int vd_tcmrec_write_calib(struct vd_tcmrec_writer *w, const struct tcpmon_calib *c, size_t n,
			  struct vd_err *err)
{
	return n ? w_block(w, TCPMON_B_CALIB, c, n * sizeof(*c), err) : 0;
}

int vd_tcmrec_write_stats(struct vd_tcmrec_writer *w, const struct tcpmon_file_stats *s,
			  struct vd_err *err)
{
	return w_block(w, TCPMON_B_STATS, s, sizeof(*s), err);
}

int vd_tcmrec_write_loss(struct vd_tcmrec_writer *w, const struct tcpmon_file_loss *l, size_t n,
			 struct vd_err *err)
{
	return n ? w_block(w, TCPMON_B_LOSS, l, n * sizeof(*l), err) : 0;
}

int vd_tcmrec_writer_close(struct vd_tcmrec_writer *w, struct vd_err *err)
{
	int rc = w->failed ? -1 : 0;

	if (fclose(w->f) && !rc)
		rc = vd_err_set(err, "%s: close: %s", w->path, strerror(errno));
	free(w->path);
	free(w);
	return rc;
}

/* ---- reader ---- */
struct tcmrec {
	struct vd_tcmrec_info info;
	struct tcpmon_record *recs;
	size_t nrecs, caprecs;
	struct tcpmon_calib *cal; /* sorted by (cpu, tsc) after parsing */
	size_t ncal, capcal;
	struct tcpmon_file_loss *loss; /* in file order */
	size_t nloss, caploss;
};

static int cal_cmp(const void *a, const void *b)
{
	const struct tcpmon_calib *x = a, *y = b;

	if (x->cpu != y->cpu)
		return x->cpu < y->cpu ? -1 : 1;
	return x->tsc < y->tsc ? -1 : x->tsc > y->tsc;
}

static void cstr(char *dst, size_t cap, const uint8_t *src)
{
	memcpy(dst, src, cap - 1);
	dst[cap - 1] = '\0';
}

#define HOFF(f) offsetof(struct tcpmon_file_header, f)

/* The header of a file image of len bytes (at least the header's): into rd->info, its length
 * into *hlen. */
static int parse_header(struct tcmrec *rd, const uint8_t *buf, size_t len, const char *name,
			size_t *hlen, struct vd_err *err)
{
	struct vd_tcmrec_info *in = &rd->info;

	if (memcmp(buf, TCPMON_FILE_MAGIC, 8))
		return vd_err_set(err, "%s: offset 0: not a tcpmon record file (bad magic)", name);
	in->version = get_le16(buf + HOFF(version));
	*hlen = get_le16(buf + HOFF(header_len));
	in->record_size = get_le32(buf + HOFF(record_size));
	if (in->version != TCPMON_FILE_VERSION)
		return vd_err_set(err,
				  "%s: offset %zu: unsupported version %u (this reader knows %u)",
				  name, HOFF(version), in->version, TCPMON_FILE_VERSION);
	if (*hlen < sizeof(struct tcpmon_file_header) || *hlen > len)
		return vd_err_set(err, "%s: offset %zu: bad header length %zu", name,
				  HOFF(header_len), *hlen);
	if (in->record_size < sizeof(struct tcpmon_record) || in->record_size > 65536)
		return vd_err_set(err, "%s: offset %zu: bad record size %u", name,
				  HOFF(record_size), in->record_size);
	in->tsc_khz = get_le32(buf + HOFF(tsc_khz));
	in->clock_flags = get_le32(buf + HOFF(clock_flags));
	in->realtime_offset_ns = (int64_t)get_le64(buf + HOFF(realtime_offset_ns));
	in->start_real_ns = (int64_t)get_le64(buf + HOFF(start_real_ns));
	in->ncpus = get_le32(buf + HOFF(ncpus));
	in->layers = get_le32(buf + HOFF(layers));
	cstr(in->kernel_release, sizeof(in->kernel_release), buf + HOFF(kernel_release));
	cstr(in->hostname, sizeof(in->hostname), buf + HOFF(hostname));
	cstr(in->clocksource, sizeof(in->clocksource), buf + HOFF(clocksource));
	return 0;
}

/* A records block of blen bytes at off: a whole number of records. */
static int check_records(const struct tcmrec *rd, uint32_t blen, const char *name, uint64_t off,
			 struct vd_err *err)
{
	if (blen % rd->info.record_size)
		return vd_err_set(err,
				  "%s: offset %" PRIu64 ": records block of %u bytes is not a "
				  "multiple of %u",
				  name, off, blen, rd->info.record_size);
	return 0;
}

/* One block's payload p of blen bytes (the block starts at off) into rd; records are appended
 * only when rd keeps them (not a reader of the first pass). */
static int parse_block(struct tcmrec *rd, uint32_t type, const uint8_t *p, uint32_t blen,
		       const char *name, uint64_t off, struct vd_err *err)
{
	struct vd_tcmrec_info *in = &rd->info;
	size_t i, n;

	switch (type) {
	case TCPMON_B_RECORDS:
		if (check_records(rd, blen, name, off, err) < 0)
			return -1;
		n = blen / in->record_size;
		if (vd_mem_reserve((void **)&rd->recs, &rd->caprecs, rd->nrecs + n,
				   sizeof(*rd->recs)))
			return vd_err_set(err, "%s: out of memory", name);
		for (i = 0; i < n; i++)
			vd_tcmrec_decode_record(p + i * in->record_size, in->record_size,
						&rd->recs[rd->nrecs++]);
		break;
	case TCPMON_B_CALIB:
		if (blen % sizeof(struct tcpmon_calib))
			return vd_err_set(err,
					  "%s: offset %" PRIu64 ": calibration block of %u bytes "
					  "is not a multiple of %zu",
					  name, off, blen, sizeof(struct tcpmon_calib));
		n = blen / sizeof(struct tcpmon_calib);
		if (vd_mem_reserve((void **)&rd->cal, &rd->capcal, rd->ncal + n, sizeof(*rd->cal)))
			return vd_err_set(err, "%s: out of memory", name);
		for (i = 0; i < n; i++)
			vd_tcmrec_decode_calib(p + i * sizeof(struct tcpmon_calib),
					       sizeof(struct tcpmon_calib), &rd->cal[rd->ncal++]);
		break;
	case TCPMON_B_LOSS:
		if (blen % sizeof(struct tcpmon_file_loss))
			return vd_err_set(err,
					  "%s: offset %" PRIu64 ": loss block of %u bytes is not a "
					  "multiple of %zu",
					  name, off, blen, sizeof(struct tcpmon_file_loss));
		n = blen / sizeof(struct tcpmon_file_loss);
		if (vd_mem_reserve((void **)&rd->loss, &rd->caploss, rd->nloss + n,
				   sizeof(*rd->loss)))
			return vd_err_set(err, "%s: out of memory", name);
		for (i = 0; i < n; i++) {
			const uint8_t *q = p + i * sizeof(struct tcpmon_file_loss);
			struct tcpmon_file_loss *l = &rd->loss[rd->nloss++];
			l->cpu = get_le32(q);
			l->pad = 0;
			l->lost = get_le64(q + 8);
			l->after_mono_ns = (int64_t)get_le64(q + 16);
			l->before_mono_ns = (int64_t)get_le64(q + 24);
		}
		break;
	case TCPMON_B_STATS:
		if (blen < sizeof(struct tcpmon_file_stats))
			return vd_err_set(
			    err, "%s: offset %" PRIu64 ": stats block of %u bytes too short", name,
			    off, blen);
		in->has_stats = 1;
		in->stats.recorded = get_le64(p);
		in->stats.lost = get_le64(p + 8);
		in->stats.read = get_le64(p + 16);
		in->stats.filtered = get_le64(p + 24);
		break;
	default: /* a newer writer's block: skipped */
		break;
	}
	return 0;
}

int vd_tcmrec_parse(const uint8_t *buf, size_t len, const char *name, struct tcmrec **out,
		    struct vd_err *err)
{
	struct tcmrec *rd;
	size_t off, hlen;

	if (len < sizeof(struct tcpmon_file_header))
		return vd_err_set(err, "%s: %zu bytes, shorter than the %zu-byte tcpmon header",
				  name, len, sizeof(struct tcpmon_file_header));
	rd = calloc(1, sizeof(*rd));
	if (!rd)
		return vd_err_set(err, "%s: out of memory", name);
	if (parse_header(rd, buf, len, name, &hlen, err) < 0)
		goto fail;
	for (off = hlen; off < len;) {
		uint32_t type, blen;

		if (len - off < sizeof(struct tcpmon_block)) {
			vd_err_set(err, "%s: offset %zu: truncated block header", name, off);
			goto fail;
		}
		type = get_le32(buf + off);
		blen = get_le32(buf + off + 4);
		if (blen > len - off - sizeof(struct tcpmon_block)) {
			vd_err_set(err, "%s: offset %zu: block of %u bytes runs past the end (%zu)",
				   name, off, blen, len);
			goto fail;
		}
		if (parse_block(rd, type, buf + off + sizeof(struct tcpmon_block), blen, name, off,
				err) < 0)
			goto fail;
		off += sizeof(struct tcpmon_block) + blen;
	}
	if (rd->ncal)
		qsort(rd->cal, rd->ncal, sizeof(*rd->cal), cal_cmp);
	*out = rd;
	return 0;
fail:
	vd_tcmrec_free(rd);
	return -1;
}

int vd_tcmrec_open(const char *path, struct tcmrec **out, struct vd_err *err)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;
	int rc;

	if (!f)
		return vd_err_set(err, "%s: %s", path, strerror(errno));
	for (;;) {
		if (vd_mem_reserve((void **)&buf, &cap, len + 65536, 1)) {
			fclose(f);
			free(buf);
			return vd_err_set(err, "%s: out of memory", path);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		rc = vd_err_set(err, "%s: read: %s", path, strerror(errno));
	} else {
		rc = vd_tcmrec_parse(buf, len, path, out, err);
	}
	fclose(f);
	free(buf);
	return rc;
}

/* ---- reading without holding the records: a regular file, block by block ---- */
struct blockfile {
	FILE *f;
	const char *name;
	uint64_t off, size; /* where the next block starts, the file's length */
};

/* Opens path (a regular file: the first pass seeks) and reads its header into rd. */
static int bf_open(struct blockfile *bf, const char *path, struct tcmrec *rd, struct vd_err *err)
{
	uint8_t h[sizeof(struct tcpmon_file_header)];
	struct stat st;
	size_t hlen;

	memset(bf, 0, sizeof(*bf));
	bf->name = path;
	if (!(bf->f = fopen(path, "rb")))
		return vd_err_set(err, "%s: %s", path, strerror(errno));
	setvbuf(bf->f, NULL, _IOFBF, 1 << 18); /* records are read one by one */
	if (fstat(fileno(bf->f), &st) < 0 || !S_ISREG(st.st_mode))
		return vd_err_set(err, "%s: not a regular file: a tcpmon file is read twice", path);
	bf->size = (uint64_t)st.st_size;
	if (fread(h, 1, sizeof(h), bf->f) != sizeof(h))
		return vd_err_set(err,
				  "%s: %" PRIu64 " bytes, shorter than the %zu-byte tcpmon header",
				  path, bf->size, sizeof(h));
	if (parse_header(rd, h, bf->size > SIZE_MAX ? SIZE_MAX : (size_t)bf->size, path, &hlen,
			 err) < 0)
		return -1;
	bf->off = hlen;
	if (fseeko(bf->f, (off_t)hlen, SEEK_SET) < 0)
		return vd_err_set(err, "%s: seek: %s", path, strerror(errno));
	return 0;
}

/* The next block's header: 1, end of file: 0, -1 damaged. On 1, the payload is next in f and
 * bf->off already past it. */
static int bf_block(struct blockfile *bf, uint32_t *type, uint32_t *blen, uint64_t *at,
		    struct vd_err *err)
{
	uint8_t b[sizeof(struct tcpmon_block)];

	if (bf->off >= bf->size)
		return 0;
	if (bf->size - bf->off < sizeof(b) || fread(b, 1, sizeof(b), bf->f) != sizeof(b))
		return vd_err_set(err, "%s: offset %" PRIu64 ": truncated block header", bf->name,
				  bf->off);
	*type = get_le32(b);
	*blen = get_le32(b + 4);
	if (*blen > bf->size - bf->off - sizeof(b))
		return vd_err_set(err,
				  "%s: offset %" PRIu64 ": block of %u bytes runs past the end "
				  "(%" PRIu64 ")",
				  bf->name, bf->off, *blen, bf->size);
	*at = bf->off;
	bf->off += sizeof(b) + *blen;
	return 1;
}

static int bf_skip(struct blockfile *bf, struct vd_err *err)
{
	if (fseeko(bf->f, (off_t)bf->off, SEEK_SET) < 0)
		return vd_err_set(err, "%s: seek: %s", bf->name, strerror(errno));
	return 0;
}

int vd_tcmrec_open_meta(const char *path, struct tcmrec **out, uint64_t *nrecords,
			struct vd_err *err)
{
	struct tcmrec *rd = calloc(1, sizeof(*rd));
	struct blockfile bf = {0};
	uint8_t *p = NULL;
	uint32_t type, blen;
	uint64_t at;
	int r;

	*nrecords = 0;
	if (!rd)
		return vd_err_set(err, "%s: out of memory", path);
	if (bf_open(&bf, path, rd, err) < 0)
		goto fail;
	while ((r = bf_block(&bf, &type, &blen, &at, err)) > 0) {
		if (type == TCPMON_B_RECORDS) { /* counted, not read */
			if (check_records(rd, blen, path, at, err) < 0 || bf_skip(&bf, err) < 0)
				goto fail;
			*nrecords += blen / rd->info.record_size;
			continue;
		}
		free(p);
		if (!(p = malloc(blen ? blen : 1))) {
			vd_err_set(err, "%s: out of memory", path);
			goto fail;
		}
		if (fread(p, 1, blen, bf.f) != blen) {
			vd_err_set(err, "%s: offset %" PRIu64 ": read: %s", path, at,
				   ferror(bf.f) ? strerror(errno) : "the file got shorter");
			goto fail;
		}
		if (parse_block(rd, type, p, blen, path, at, err) < 0)
			goto fail;
	}
	if (r < 0)
		goto fail;
	free(p);
	fclose(bf.f);
	if (rd->ncal)
		qsort(rd->cal, rd->ncal, sizeof(*rd->cal), cal_cmp);
	*out = rd;
	return 0;
fail:
	free(p);
	if (bf.f)
		fclose(bf.f);
	vd_tcmrec_free(rd);
	return -1;
}

struct vd_tcmrec_cursor {
	struct blockfile bf;
	struct tcmrec hdr; /* the header only */
	uint64_t left;	   /* bytes of records of the current block not yet in buf */
	uint8_t *buf;	   /* records read ahead from the current block */
	size_t cap, len, at;
};

#define CURSOR_READ (1 << 16) /* bytes of records read at once, at least one record */

int vd_tcmrec_cursor_open(const char *path, struct vd_tcmrec_cursor **out, struct vd_err *err)
{
	struct vd_tcmrec_cursor *c = calloc(1, sizeof(*c));

	if (!c)
		return vd_err_set(err, "%s: out of memory", path);
	if (bf_open(&c->bf, path, &c->hdr, err) < 0) {
		vd_tcmrec_cursor_close(c);
		return -1;
	}
	c->cap = c->hdr.info.record_size * (CURSOR_READ / c->hdr.info.record_size + 1);
	if (!(c->buf = malloc(c->cap))) {
		vd_tcmrec_cursor_close(c);
		return vd_err_set(err, "%s: out of memory", path);
	}
	*out = c;
	return 0;
}

int vd_tcmrec_cursor_next(struct vd_tcmrec_cursor *c, struct tcpmon_record *r, struct vd_err *err)
{
	uint32_t size = c->hdr.info.record_size, type, blen;
	uint64_t at;

	while (c->at == c->len && !c->left) {
		int b = bf_block(&c->bf, &type, &blen, &at, err);
		if (b <= 0)
			return b;
		if (type == TCPMON_B_RECORDS) {
			if (check_records(&c->hdr, blen, c->bf.name, at, err) < 0)
				return -1;
			c->left = blen;
		} else if (bf_skip(&c->bf, err) < 0) {
			return -1;
		}
	}
	if (c->at == c->len) {
		size_t want = c->left < c->cap ? (size_t)c->left : c->cap / size * size;
		if (fread(c->buf, 1, want, c->bf.f) != want)
			return vd_err_set(err, "%s: offset %" PRIu64 ": read: %s", c->bf.name,
					  c->bf.off - c->left,
					  ferror(c->bf.f) ? strerror(errno)
							  : "the file got shorter");
		c->left -= want;
		c->len = want;
		c->at = 0;
	}
	vd_tcmrec_decode_record(c->buf + c->at, size, r);
	c->at += size;
	return 1;
}

void vd_tcmrec_cursor_close(struct vd_tcmrec_cursor *c)
{
	if (!c)
		return;
	if (c->bf.f)
		fclose(c->bf.f);
	free(c->buf);
	free(c);
}

void vd_tcmrec_free(struct tcmrec *rd)
{
	if (!rd)
		return;
	free(rd->recs);
	free(rd->cal);
	free(rd->loss);
	free(rd);
}

const struct vd_tcmrec_info *vd_tcmrec_info(const struct tcmrec *rd)
{
	return &rd->info;
}

size_t vd_tcmrec_count(const struct tcmrec *rd)
{
	return rd->nrecs;
}

const struct tcpmon_record *vd_tcmrec_get(const struct tcmrec *rd, size_t i)
{
	return i < rd->nrecs ? &rd->recs[i] : NULL;
}

size_t vd_tcmrec_calib_count(const struct tcmrec *rd)
{
	return rd->ncal;
}

/* The calibration pairs of cpu: [*lo, *hi). Falls back to every pair when cpu has none (the
 * TSCs of one machine are normally synchronized). */
static void cal_range(const struct tcmrec *rd, uint32_t cpu, size_t *lo, size_t *hi)
{
	size_t a = 0, b = rd->ncal;

	while (a < b) { /* first pair with .cpu >= cpu */
		size_t m = a + (b - a) / 2;
		if (rd->cal[m].cpu < cpu)
			a = m + 1;
		else
			b = m;
	}
	*lo = a;
	while (b < rd->ncal && rd->cal[b].cpu == cpu)
		b++;
	*hi = b;
	if (*lo == *hi) {
		*lo = 0;
		*hi = rd->ncal;
	}
}

/* An __int128 result as vd_ns, VD_NS_NONE when it does not fit (damaged pairs). */
static vd_ns ns_clamp(__int128 v)
{
	return (v <= (__int128)INT64_MIN || v > (__int128)INT64_MAX) ? VD_NS_NONE : (vd_ns)v;
}

/* a.mono + (tsc - a.tsc) * slope, slope from a..b or from tsc_khz. Pairs further apart than
 * 2^62 ns or ticks are not a clock (a damaged file): the product stays inside 128 bits. */
static vd_ns cal_apply(const struct tcpmon_calib *a, const struct tcpmon_calib *b, uint64_t tsc,
		       uint32_t khz)
{
	__int128 dt = (__int128)tsc - (__int128)a->tsc;
	const __int128 lim = (__int128)1 << 62;

	if (b && b->tsc > a->tsc && b->mono_ns > a->mono_ns) {
		__int128 dm = (__int128)b->mono_ns - a->mono_ns, dtsc = (__int128)(b->tsc - a->tsc);
		if (dm < lim && dtsc < lim)
			return ns_clamp(a->mono_ns + dt * dm / dtsc);
	}
	if (!khz)
		return VD_NS_NONE;
	return ns_clamp(a->mono_ns + dt * 1000000 / khz);
}

static const struct tcpmon_calib *cal_nearest(const struct tcmrec *rd, uint32_t cpu, uint64_t tsc,
					      vd_ns *mono)
{
	size_t lo, hi, i;

	if (!rd->ncal)
		return NULL;
	cal_range(rd, cpu, &lo, &hi);
	if (hi - lo == rd->ncal && rd->ncal > 1 && rd->cal[0].cpu != rd->cal[rd->ncal - 1].cpu) {
		/* other CPUs' pairs: only the nearest one in TSC, with tsc_khz */
		const struct tcpmon_calib *best = &rd->cal[0];
		for (i = 1; i < rd->ncal; i++) {
			uint64_t d =
			    rd->cal[i].tsc > tsc ? rd->cal[i].tsc - tsc : tsc - rd->cal[i].tsc;
			uint64_t e = best->tsc > tsc ? best->tsc - tsc : tsc - best->tsc;
			if (d < e)
				best = &rd->cal[i];
		}
		*mono = cal_apply(best, NULL, tsc, rd->info.tsc_khz);
		return best;
	}
	/* last pair with .tsc <= tsc */
	for (i = lo; i + 1 < hi && rd->cal[i + 1].tsc <= tsc; i++)
		;
	if (hi - lo == 1) {
		*mono = cal_apply(&rd->cal[lo], NULL, tsc, rd->info.tsc_khz);
	} else if (tsc < rd->cal[lo].tsc) {
		*mono = cal_apply(&rd->cal[lo], &rd->cal[lo + 1], tsc, rd->info.tsc_khz);
	} else if (i + 1 < hi) {
		*mono = cal_apply(&rd->cal[i], &rd->cal[i + 1], tsc, rd->info.tsc_khz);
	} else {
		*mono = cal_apply(&rd->cal[i - 1], &rd->cal[i], tsc, rd->info.tsc_khz);
	}
	return &rd->cal[i];
}

vd_ns vd_tcmrec_tsc_to_mono(const struct tcmrec *rd, uint32_t cpu, uint64_t tsc)
{
	vd_ns mono = VD_NS_NONE;

	cal_nearest(rd, cpu, tsc, &mono);
	return mono;
}

vd_ns vd_tcmrec_tsc_to_real(const struct tcmrec *rd, uint32_t cpu, uint64_t tsc)
{
	vd_ns mono = VD_NS_NONE;
	const struct tcpmon_calib *c = cal_nearest(rd, cpu, tsc, &mono);

	if (!c || !vd_ns_valid(mono))
		return VD_NS_NONE;
	return ns_clamp((__int128)mono + ((__int128)c->real_ns - c->mono_ns));
}

int vd_tcmrec_use_tsc(const struct tcmrec *rd)
{
	return !(vd_tcmrec_info(rd)->clock_flags &
		 (TCPMON_CLK_TSC_UNSTABLE | TCPMON_CLK_KTIME_ONLY)) &&
	       vd_tcmrec_calib_count(rd) > 0;
}

size_t vd_tcmrec_loss_count(const struct tcmrec *rd)
{
	return rd->nloss;
}

const struct tcpmon_file_loss *vd_tcmrec_loss_get(const struct tcmrec *rd, size_t i)
{
	return i < rd->nloss ? &rd->loss[i] : NULL;
}

vd_ns vd_tcmrec_record_time(const struct tcmrec *rd, const struct tcpmon_record *r, int use_tsc,
			    uint64_t *fallbacks)
{
	vd_ns ts = VD_NS_NONE;

	if (use_tsc && !vd_ns_valid(ts = vd_tcmrec_tsc_to_real(rd, r->cpu, r->tsc)) && fallbacks)
		(*fallbacks)++;
	return vd_ns_valid(ts) ? ts : r->real_ns;
}

int vd_tcmrec_is(const unsigned char *b, size_t n)
{
	return n >= 8 && memcmp(b, TCPMON_FILE_MAGIC, 8) == 0;
}

/* ---- names ---- */
static const char *const layer_names[__TCPMON_L_MAX] = {
    [TCPMON_L_UNSPEC] = "?",
    [TCPMON_L_DEV_RX] = "dev-rx",
    [TCPMON_L_IP_PRE] = "ip-pre",
    [TCPMON_L_IP_LOCAL_IN] = "ip-local-in",
    [TCPMON_L_TRANS_RX] = "trans-rx",
    [TCPMON_L_SOCK_QUEUE] = "sock-queue",
    [TCPMON_L_SOCK_COPY] = "sock-copy",
    [TCPMON_L_TRANS_TX] = "trans-tx",
    [TCPMON_L_IP_LOCAL_OUT] = "ip-local-out",
    [TCPMON_L_IP_POST] = "ip-post",
    [TCPMON_L_DEV_TX] = "dev-tx",
    [TCPMON_L_DEV_QUEUE] = "dev-queue",
    [TCPMON_L_SOCK_SEND] = "sock-send",
};

const char *vd_tcmrec_layer_name(unsigned layer)
{
	return layer < __TCPMON_L_MAX ? layer_names[layer] : "?";
}

int vd_tcmrec_layer_parse(const char *name)
{
	for (int i = 1; i < __TCPMON_L_MAX; i++)
		if (!strcmp(name, layer_names[i]))
			return i;
	return -1;
}

const char *vd_tcmrec_dir_name(unsigned dir)
{
	return dir == TCPMON_DIR_RX ? "rx" : dir == TCPMON_DIR_TX ? "tx" : "?";
}

const char *vd_tcmrec_proto_name(unsigned proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmp6";
	}
	return "?";
}

void vd_tcmrec_tcp_flags(unsigned flags, char *buf)
{
	static const char names[] = "FSRPAUEC";
	int n = 0;

	for (int i = 0; i < 8; i++)
		if (flags & (1u << i))
			buf[n++] = names[i];
	if (!n)
		buf[n++] = '.';
	buf[n] = '\0';
}

void vd_tcmrec_clock_flags(uint32_t flags, char *buf, size_t len)
{
	static const char *const names[] = {"tsc-unstable",    "constant-tsc",	 "nonstop-tsc",
					    "tsc-reliable",    "tsc-known-freq", "hypervisor",
					    "clocksource-tsc", "ktime-only"};
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (flags & (1u << i) && n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "+" : "", names[i]);
}

void vd_tcmrec_addr(const struct tcpmon_record *r, int dst, char *buf, size_t len)
{
	const uint8_t *a = dst ? r->daddr : r->saddr;

	if (!inet_ntop(r->family == AF_INET6 ? AF_INET6 : AF_INET, a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

/* An integer column that only some protocols have: empty / null for the others. */
void vd_tcmrec_dump(const struct tcmrec *rd, struct vd_out *o)
{
	for (size_t i = 0; i < rd->nrecs; i++) {
		const struct tcpmon_record *r = &rd->recs[i];
		char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], fl[9];
		int tcp = r->proto == IPPROTO_TCP;
		int echo =
		    !tcp && (r->icmp_id || r->icmp_seq || r->icmp_type == 0 || r->icmp_type == 8 ||
			     r->icmp_type == 128 || r->icmp_type == 129);

		vd_tcmrec_addr(r, 0, src, sizeof(src));
		vd_tcmrec_addr(r, 1, dst, sizeof(dst));
		vd_tcmrec_tcp_flags(r->tcp_flags, fl);
		vd_out_row_begin(o);
		vd_out_int(o, "tsc", (int64_t)r->tsc);
		vd_out_ns(o, "tsc_ns", vd_tcmrec_tsc_to_real(rd, r->cpu, r->tsc));
		vd_out_ns(o, "real_ns", r->real_ns);
		vd_out_ns(o, "mono_ns", r->mono_ns);
		vd_out_int(o, "cpu", r->cpu);
		vd_out_str(o, "layer", vd_tcmrec_layer_name(r->layer));
		vd_out_str(o, "dir", vd_tcmrec_dir_name(r->dir));
		vd_out_str(o, "proto", vd_tcmrec_proto_name(r->proto));
		vd_out_str(o, "src", src);
		vd_out_str(o, "dst", dst);
		vd_out_int_opt(o, "sport", tcp, r->sport);
		vd_out_int_opt(o, "dport", tcp, r->dport);
		vd_out_int_opt(o, "seq", tcp, r->seq);
		vd_out_int_opt(o, "ack", tcp, r->ack);
		vd_out_str(o, "flags", tcp ? fl : NULL);
		vd_out_int_opt(o, "win", tcp, r->window);
		vd_out_int_opt(o, "icmp_type", !tcp, r->icmp_type);
		vd_out_int_opt(o, "icmp_code", !tcp, r->icmp_code);
		vd_out_int_opt(o, "icmp_id", echo, r->icmp_id);
		vd_out_int_opt(o, "icmp_seq", echo, r->icmp_seq);
		vd_out_int(o, "len", r->payload_len);
		vd_out_int(o, "skb_len", r->skb_len);
		vd_out_int(o, "gso_segs", r->gso_segs);
		vd_out_int(o, "ifindex", r->ifindex);
		vd_out_int(o, "seqno", r->seqno);
		vd_out_row_end(o);
	}
}

void vd_tcmrec_dump_info(const struct tcmrec *rd, struct vd_out *o)
{
	const struct vd_tcmrec_info *in = &rd->info;
	char flags[160];

	vd_tcmrec_clock_flags(in->clock_flags, flags, sizeof(flags));
	vd_out_row_begin(o);
	vd_out_int(o, "version", in->version);
	vd_out_str(o, "hostname", in->hostname);
	vd_out_str(o, "kernel", in->kernel_release);
	vd_out_int(o, "tsc_khz", in->tsc_khz);
	vd_out_str(o, "clocksource", in->clocksource);
	vd_out_str(o, "clock_flags", flags);
	vd_out_ns(o, "start_real_ns", in->start_real_ns);
	vd_out_ns(o, "realtime_offset_ns", in->realtime_offset_ns);
	vd_out_int(o, "ncpus", in->ncpus);
	vd_out_int(o, "records", (int64_t)rd->nrecs);
	vd_out_int(o, "calib_pairs", (int64_t)rd->ncal);
	vd_out_int_opt(o, "lost", in->has_stats, (int64_t)in->stats.lost);
	vd_out_row_end(o);
}

void vd_tcmrec_dump_loss(const struct tcmrec *rd, struct vd_out *o)
{
	for (size_t i = 0; i < rd->nloss; i++) {
		const struct tcpmon_file_loss *l = &rd->loss[i];

		vd_out_row_begin(o);
		vd_out_int(o, "cpu", l->cpu);
		vd_out_int(o, "lost", (int64_t)l->lost);
		vd_out_ns(o, "after_mono_ns", l->after_mono_ns ? l->after_mono_ns : VD_NS_NONE);
		vd_out_ns(o, "before_mono_ns", l->before_mono_ns ? l->before_mono_ns : VD_NS_NONE);
		vd_out_row_end(o);
	}
}
