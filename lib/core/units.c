/* units.c — counts ("5001"), decimals, durations ("250ms"), rates ("100Mbit") and sizes
 * ("100KB", "1000x100KB") from command lines, read strictly (units.h). */
#include "vmdelay/core/units.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int vd_units_parse_int(const char *text, long long min, long long max, long long *out)
{
	/* strtoll alone would take " 5", "+5" and "", which a count on a command line is not. */
	if (!text || !(*text == '-' || is_digit(*text)))
		return -1;
	errno = 0;
	char *end;
	long long v = strtoll(text, &end, 10);
	if (errno || end == text || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Reads a plain decimal at the start of text: digits with an optional fraction (at least one
 * digit in all), then an optional exponent. Returns how many characters it took, with the value
 * in *out, or 0 when text does not start with one or the value is out of range. strtod alone
 * would also take blanks, signs, hex floats ("0x1p-3"), "inf" and "nan". */
static size_t decimal_prefix(const char *text, double *out)
{
	size_t i = 0, digits = 0;
	for (; is_digit(text[i]); i++)
		digits++;
	if (text[i] == '.')
		for (i++; is_digit(text[i]); i++)
			digits++;
	if (!digits)
		return 0;
	if (text[i] == 'e' || text[i] == 'E') {
		size_t j = i + 1;
		if (text[j] == '+' || text[j] == '-')
			j++;
		if (is_digit(text[j])) {
			while (is_digit(text[j]))
				j++;
			i = j;
		}
	}
	/* The syntax is checked; strtod converts exactly those characters, or the value is out of
	 * range (ERANGE: overflow to infinity, or underflow). */
	errno = 0;
	char *end;
	double v = strtod(text, &end);
	if (end != text + i || errno || !isfinite(v))
		return 0;
	*out = v;
	return i;
}

int vd_units_parse_decimal(const char *text, double *out)
{
	double v;
	size_t n = text ? decimal_prefix(text, &v) : 0;
	if (!n || text[n])
		return -1;
	*out = v;
	return 0;
}

int vd_units_parse_duration(const char *text, vd_ns *out)
{
	static const struct {
		const char *suffix;
		double scale;
	} units[] = {{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"", 1e9}};
	double v;
	size_t n = text ? decimal_prefix(text, &v) : 0;
	if (!n)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(text + n, units[i].suffix) == 0) {
			double ns = v * units[i].scale;
			if (ns > 9.2e18) /* INT64_MAX is 9.22e18 */
				return -1;
			*out = (vd_ns)llround(ns);
			return 0;
		}
	}
	return -1;
}

int vd_units_parse_rate(const char *text, double *bps)
{
	double v;
	size_t n = text ? decimal_prefix(text, &v) : 0;
	if (!n || v <= 0)
		return -1;
	const char *end = text + n;
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
	/* Below 1 bit/s a frame's time overflows vd_ns ("1e-300" parses as a number); above 1e18
	 * a rate is no link's. */
	if (v * mult < 1 || v * mult > 1e18)
		return -1;
	*bps = v * mult;
	return 0;
}

int vd_units_parse_bytes(const char *text, uint64_t *bytes)
{
	if (!text || !is_digit(*text))
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
