/* units.c — counts ("5001"), rates ("100Mbit") and sizes ("100KB", "1000x100KB") from
 * command lines. */
#include "vmdelay/core/units.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int vd_units_parse_int(const char *text, long long min, long long max, long long *out)
{
	/* strtoll alone would take " 5", "+5" and "", which a count on a command line is not. */
	if (!text || !(*text == '-' || (*text >= '0' && *text <= '9')))
		return -1;
	errno = 0;
	char *end;
	long long v = strtoll(text, &end, 10);
	if (errno || end == text || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int vd_units_parse_rate(const char *text, double *bps)
{
	if (!text || !*text)
		return -1;
	errno = 0;
	char *end;
	double v = strtod(text, &end);
	if (errno || end == text || !isfinite(v) || v <= 0)
		return -1;
	double mult = 1;
	switch (*end) {
	case 'k':
	case 'K':
		mult = 1e3;
		end++;
		break;
	case 'M':
		mult = 1e6;
		end++;
		break;
	case 'G':
		mult = 1e9;
		end++;
		break;
	case 'T':
		mult = 1e12;
		end++;
		break;
	default:
		break;
	}
	if (*end && strcasecmp(end, "bit") && strcasecmp(end, "bps") && strcasecmp(end, "b") &&
	    strcasecmp(end, "bit/s"))
		return -1;
	/* Below 1 bit/s a frame's time overflows vd_ns ("1e-300" parses as a number). */
	if (v * mult < 1)
		return -1;
	*bps = v * mult;
	return 0;
}

int vd_units_parse_bytes(const char *text, uint64_t *bytes)
{
	if (!text || *text < '0' || *text > '9')
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno || end == text)
		return -1;
	uint64_t mult = 1;
	switch (*end) {
	case 'k':
	case 'K':
		mult = UINT64_C(1) << 10;
		end++;
		break;
	case 'm':
	case 'M':
		mult = UINT64_C(1) << 20;
		end++;
		break;
	case 'g':
	case 'G':
		mult = UINT64_C(1) << 30;
		end++;
		break;
	default:
		break;
	}
	if (mult > 1 && (*end == 'i' || *end == 'I'))
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || v == 0 || v > (UINT64_C(1) << 50) / mult)
		return -1;
	*bytes = (uint64_t)v * mult;
	return 0;
}

int vd_units_parse_repeat(const char *text, uint64_t *count, uint64_t *size)
{
	if (!text)
		return -1;
	const char *x = strpbrk(text, "xX");
	if (!x || x == text)
		return -1;
	char num[32];
	size_t n = (size_t)(x - text);
	if (n >= sizeof(num))
		return -1;
	memcpy(num, text, n);
	num[n] = 0;
	long long c;
	if (vd_units_parse_int(num, 1, 100000000, &c) || vd_units_parse_bytes(x + 1, size))
		return -1;
	*count = (uint64_t)c;
	return 0;
}

vd_ns vd_units_tx_time(uint64_t frame_bytes, double bps)
{
	return (vd_ns)llround((double)frame_bytes * 8.0 * 1e9 / bps);
}
