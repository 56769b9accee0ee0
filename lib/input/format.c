/* format.c — recognises every input format from its first bytes (format.h). */
#define _GNU_SOURCE /* memmem */
#include "vmdelay/input/format.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "bytes.h"
#include "erf.h"
#include "vmdelay/input/tcmrec.h"
#include "vmdelay/input/zstream.h"

enum vd_format vd_format_detect(const uint8_t *b, size_t n)
{
	static const char sqlite_magic[16] = "SQLite format 3";
	if (n >= 16 && memcmp(b, sqlite_magic, 16) == 0)
		return VD_FORMAT_SQLITE;
	if (n >= 4) {
		/* classic pcap: µs or ns magic, either byte order; pcapng: the Section Header
		 * Block type, the same in both byte orders */
		uint32_t m = vd_le32(b);
		if (m == 0x0a0d0d0a)
			return VD_FORMAT_PCAPNG;
		if (m == 0xa1b2c3d4 || m == 0xd4c3b2a1 || m == 0xa1b23c4d || m == 0x4d3cb2a1)
			return VD_FORMAT_PCAP;
	}
	/* tping text: a CSV header naming its columns, or JSON lines with its keys. */
	size_t i = 0;
	if (n >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf)
		i = 3;
	if (n - i >= 4 && memcmp(b + i, "seq,", 4) == 0 && memmem(b, n, "user_tx_ns", 10))
		return VD_FORMAT_TPING_CSV;
	while (i < n && isspace(b[i]))
		i++;
	if (i < n && b[i] == '{' && memmem(b, n, "\"seq\"", 5))
		return VD_FORMAT_TPING_JSON;
	if (vd_tcmrec_is(b, n))
		return VD_FORMAT_TCPMON;
	if (vd_erf_looks_like(b, n))
		return VD_FORMAT_ERF;
	return VD_FORMAT_UNKNOWN;
}

int vd_format_is_stream(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 &&
	       (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || S_ISCHR(st.st_mode));
}

int vd_format_detect_file(const char *path, enum vd_format *out, struct vd_err *err)
{
	/* A pipe's first bytes, once read here, would be gone for the reader that opens it next:
	 * streams are left to the trace reader, which detects from its own read window. */
	if (vd_format_is_stream(path)) {
		*out = VD_FORMAT_UNKNOWN;
		return 0;
	}
	FILE *f = fopen(path, "rb");
	if (!f)
		return vd_err_set(err, "%s: %s", path, strerror(errno));
	uint8_t b[VD_FORMAT_HEAD];
	size_t n = fread(b, 1, sizeof(b), f);
	int bad = ferror(f);
	enum vd_zkind zk = bad ? VD_Z_NONE : vd_zstream_detect(b, n);
	if (zk == VD_Z_NONE) {
		fclose(f);
		if (bad)
			return vd_err_set(err, "%s: read error", path);
		*out = vd_format_detect(b, n);
		return 0;
	}
	/* gzip or zstd first: the format is the one inside, and only traces are read that way
	 * (a truncated or corrupt stream is for the trace reader to report, with its frame) */
	struct vd_zstream *zs;
	FILE *zf = vd_zstream_open(f, zk, b, n, &zs, err);
	if (!zf)
		return vd_err_prefix(err, "%s", path);
	n = fread(b, 1, sizeof(b), zf);
	fclose(zf);
	*out = vd_format_detect(b, n);
	if (!vd_format_is_trace(*out))
		*out = VD_FORMAT_UNKNOWN;
	return 0;
}

const char *vd_format_name(enum vd_format f)
{
	static const char *const names[] = {
	    [VD_FORMAT_UNKNOWN] = "unknown",	   [VD_FORMAT_PCAP] = "pcap",
	    [VD_FORMAT_PCAPNG] = "pcapng",	   [VD_FORMAT_ERF] = "erf",
	    [VD_FORMAT_TCPMON] = "tcpmon",	   [VD_FORMAT_TPING_CSV] = "tping-csv",
	    [VD_FORMAT_TPING_JSON] = "tping-json", [VD_FORMAT_SQLITE] = "tping-sqlite",
	};
	return (unsigned)f < sizeof(names) / sizeof(names[0]) ? names[f] : "unknown";
}

int vd_format_is_trace(enum vd_format f)
{
	return f == VD_FORMAT_PCAP || f == VD_FORMAT_PCAPNG || f == VD_FORMAT_ERF;
}

int vd_format_is_tping(enum vd_format f)
{
	return f == VD_FORMAT_TPING_CSV || f == VD_FORMAT_TPING_JSON || f == VD_FORMAT_SQLITE;
}
