/* json.c — the streaming JSON writer (json.h). */
#include "vmdelay/out/json.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Where n more bytes go in the stream's buffer, or NULL when they do not fit (full, unbuffered
 * or line-buffered, which glibc keeps with no room): writing there, as putc_unlocked writes one
 * byte, skips a call per character (glibc's FILE: a report of tens of thousands of flows is tens
 * of MB of keys, strings and digits). */
static char *room(FILE *f, size_t n)
{
	if (f->_IO_write_ptr && (size_t)(f->_IO_write_end - f->_IO_write_ptr) >= n)
		return f->_IO_write_ptr;
	return NULL;
}

/* n bytes at once: into the buffer when they fit, otherwise through fwrite. */
static void put_run(FILE *f, const char *s, size_t n)
{
	char *w = room(f, n);
	if (w) {
		memcpy(w, s, n);
		f->_IO_write_ptr = w + n;
	} else {
		fwrite_unlocked(s, 1, n, f);
	}
}

static void put_quoted(FILE *f, const char *s, const char *tail, size_t tn);
static char *digits(char *w, uint64_t v);

/* The characters a JSON string holds as they are: all but the controls, '"' and '\\' (and the
 * terminating NUL, a control too). */
static int plain(unsigned char c)
{
	return c >= 0x20 && c != '"' && c != '\\';
}

/* A constant word ("null", "true"...) without fputs's lock. */
static void put_word(FILE *f, const char *w)
{
	while (*w)
		putc_unlocked(*w++, f);
}

void vd_json_init(struct vd_json *j, FILE *f)
{
	*j = (struct vd_json){.f = f};
}

/* Before a value or a key: the separator the enclosing container's layout wants. */
static void separate(struct vd_json *j)
{
	if (j->after_key) {
		j->after_key = 0;
		return;
	}
	if (j->depth == 0 || j->depth > VD_JSON_MAX_DEPTH)
		return;
	int d = j->depth - 1;
	size_t n = j->level[d].members++;
	switch (j->level[d].layout) {
	case VD_JSON_COMPACT:
		if (n)
			putc_unlocked(',', j->f);
		break;
	case VD_JSON_SPACED:
		if (n)
			put_word(j->f, ", ");
		break;
	case VD_JSON_LINES:
		fprintf(j->f, "%s\n%*s", n ? "," : "", 2 * j->depth, "");
		break;
	}
}

static void begin(struct vd_json *j, enum vd_json_layout layout, char open)
{
	separate(j);
	putc_unlocked(open, j->f);
	if (j->depth < VD_JSON_MAX_DEPTH)
		j->level[j->depth] = (typeof(j->level[0])){.layout = (uint8_t)layout};
	else
		j->overflow = 1;
	j->depth++;
}

static void end(struct vd_json *j, char close)
{
	if (j->depth == 0)
		return;
	j->depth--;
	if (j->depth < VD_JSON_MAX_DEPTH && j->level[j->depth].layout == VD_JSON_LINES &&
	    j->level[j->depth].members)
		fprintf(j->f, "\n%*s", 2 * j->depth, "");
	putc_unlocked(close, j->f);
}

void vd_json_begin_object(struct vd_json *j, enum vd_json_layout layout)
{
	begin(j, layout, '{');
}

void vd_json_end_object(struct vd_json *j)
{
	end(j, '}');
}

void vd_json_begin_array(struct vd_json *j, enum vd_json_layout layout)
{
	begin(j, layout, '[');
}

void vd_json_end_array(struct vd_json *j)
{
	end(j, ']');
}

void vd_json_key(struct vd_json *j, const char *key)
{
	separate(j);
	int compact = j->depth > 0 && j->depth <= VD_JSON_MAX_DEPTH &&
		      j->level[j->depth - 1].layout == VD_JSON_COMPACT;
	put_quoted(j->f, key, compact ? ":" : ": ", compact ? 1 : 2);
	j->after_key = 1;
}

/* n bytes from s to w, for the short keys of rows: a word or two at a time where libc's memcpy
 * of a length it does not know is a call that costs more than the copy. */
static inline void copy_short(char *w, const char *s, size_t n)
{
	if (n >= 8) {
		for (size_t i = 0; i + 8 < n; i += 8)
			memcpy(w + i, s + i, 8);
		memcpy(w + n - 8, s + n - 8, 8); /* the last 8, overlapping what came before */
	} else if (n >= 4) {
		memcpy(w, s, 4);
		memcpy(w + n - 4, s + n - 4, 4);
	} else {
		for (size_t i = 0; i < n; i++)
			w[i] = s[i];
	}
}

/* A member of a one-line object (compact or spaced) with a literal key: its separator, key and
 * colon written at once, and the buffer's room for vmax more bytes of its value, where the
 * caller writes it and sets f->_IO_write_ptr. NULL (nothing written) when the buffer has not
 * that room or the container is another kind: the caller takes the general calls then. */
static inline __attribute__((always_inline)) char *member_lit(struct vd_json *j,
							      struct vd_json_lit key, size_t vmax)
{
#ifdef __SANITIZE_ADDRESS__
	for (size_t i = 1; i + 1 < key.len; i++)
		assert(plain((unsigned char)key.quoted[i]));
#endif
	if (j->after_key || j->depth == 0 || j->depth > VD_JSON_MAX_DEPTH)
		return NULL;
	typeof(j->level[0]) *l = &j->level[j->depth - 1];
	int spaced = l->layout == VD_JSON_SPACED;
	if (!spaced && l->layout != VD_JSON_COMPACT)
		return NULL;
	char *w = room(j->f, 2 + key.len + 2 + vmax);
	if (!w)
		return NULL;
	if (l->members++) {
		*w++ = ',';
		if (spaced)
			*w++ = ' ';
	}
	copy_short(w, key.quoted, key.len);
	w += key.len;
	*w++ = ':';
	if (spaced)
		*w++ = ' ';
	return w;
}

void vd_json_key_lit(struct vd_json *j, struct vd_json_lit key)
{
	char *w = member_lit(j, key, 0);
	if (w) {
		j->f->_IO_write_ptr = w;
		j->after_key = 1;
		return;
	}
	separate(j);
	int compact = j->depth > 0 && j->depth <= VD_JSON_MAX_DEPTH &&
		      j->level[j->depth - 1].layout == VD_JSON_COMPACT;
	put_run(j->f, key.quoted, key.len);
	putc_unlocked(':', j->f);
	if (!compact)
		putc_unlocked(' ', j->f);
	j->after_key = 1;
}

void vd_json_kvl_uint(struct vd_json *j, struct vd_json_lit key, uint64_t v)
{
	char *w = member_lit(j, key, 20);
	if (w) {
		j->f->_IO_write_ptr = digits(w, v);
		return;
	}
	vd_json_key_lit(j, key);
	vd_json_uint(j, v);
}

void vd_json_kvl_int(struct vd_json *j, struct vd_json_lit key, int64_t v)
{
	char *w = member_lit(j, key, 21);
	if (w) {
		if (v < 0)
			*w++ = '-';
		j->f->_IO_write_ptr = digits(w, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
		return;
	}
	vd_json_key_lit(j, key);
	vd_json_int(j, v);
}

void vd_json_kvl_ns(struct vd_json *j, struct vd_json_lit key, vd_ns v)
{
	if (vd_ns_valid(v)) {
		vd_json_kvl_int(j, key, v);
		return;
	}
	char *w = member_lit(j, key, 4);
	if (w) {
		memcpy(w, "null", 4);
		j->f->_IO_write_ptr = w + 4;
		return;
	}
	vd_json_key_lit(j, key);
	vd_json_null(j);
}

static size_t plain_len(const char *s);

void vd_json_kvl_plain(struct vd_json *j, struct vd_json_lit key, const char *s, size_t n)
{
#ifdef __SANITIZE_ADDRESS__
	for (size_t i = 0; i < n; i++)
		assert(plain((unsigned char)s[i]));
#endif
	char *w = member_lit(j, key, n + 2);
	if (!w) {
		vd_json_key_lit(j, key);
		separate(j); /* after the key: nothing */
		putc_unlocked('"', j->f);
		put_run(j->f, s, n);
		putc_unlocked('"', j->f);
		return;
	}
	*w++ = '"';
	memcpy(w, s, n);
	w += n;
	*w++ = '"';
	j->f->_IO_write_ptr = w;
}

void vd_json_kvl_str(struct vd_json *j, struct vd_json_lit key, const char *s)
{
	/* a string that needs no escape (names, addresses) with its key in one copy */
	size_t n = s ? plain_len(s) : SIZE_MAX;
	char *w = n < SIZE_MAX - 2 ? member_lit(j, key, n + 2) : NULL;
	if (w) {
		*w++ = '"';
		memcpy(w, s, n);
		w += n;
		*w++ = '"';
		j->f->_IO_write_ptr = w;
		return;
	}
	vd_json_key_lit(j, key);
	vd_json_str(j, s);
}

void vd_json_str(struct vd_json *j, const char *s)
{
	separate(j);
	if (s)
		vd_json_string(j->f, s);
	else
		put_word(j->f, "null");
}

/* How many decimal digits v has: from its bit length (1233 / 4096 is a little under log10 2,
 * so t is the count or one less), then one comparison. */
static size_t decimal_digits(uint64_t v)
{
	static const uint64_t pow10[20] = {1ULL,
					   10ULL,
					   100ULL,
					   1000ULL,
					   10000ULL,
					   100000ULL,
					   1000000ULL,
					   10000000ULL,
					   100000000ULL,
					   1000000000ULL,
					   10000000000ULL,
					   100000000000ULL,
					   1000000000000ULL,
					   10000000000000ULL,
					   100000000000000ULL,
					   1000000000000000ULL,
					   10000000000000000ULL,
					   100000000000000000ULL,
					   1000000000000000000ULL,
					   10000000000000000000ULL};
	size_t t = ((size_t)(64 - __builtin_clzll(v | 1)) * 1233) >> 12;
	return t + 1 - ((v | 1) < pow10[t]); /* v | 1: 0 has one digit too */
}

/* The digits of v at w (room for 20), as printf's %PRIu64 writes them (reports of thousands of
 * flows are mostly integers, many of them 19-digit times: this is several times faster than
 * fprintf), two at a time; returns the end. Eight at a time in 32-bit arithmetic past eight
 * digits measured no different (the report of 131,070 flows: 243 -> 238 M instructions here):
 * most numbers are short, and the call and the digit count are most of the cost. */
static char *digits(char *w, uint64_t v)
{
	static const char pairs[] = "00010203040506070809101112131415161718192021222324"
				    "25262728293031323334353637383940414243444546474849"
				    "50515253545556575859606162636465666768697071727374"
				    "75767778798081828384858687888990919293949596979899";
	size_t n = decimal_digits(v);
	char *p = w + n;
	for (; v >= 100; v /= 100) {
		p -= 2;
		memcpy(p, pairs + 2 * (v % 100), 2);
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, pairs + 2 * v, 2);
	} else {
		*--p = (char)('0' + v);
	}
	return w + n;
}

/* The digits of v, straight into the buffer when the longest number fits. */
static void put_uint(FILE *f, uint64_t v)
{
	char buf[20];
	char *w = room(f, sizeof(buf));
	if (w) {
		f->_IO_write_ptr = digits(w, v);
		return;
	}
	put_run(f, buf, (size_t)(digits(buf, v) - buf));
}

void vd_json_int(struct vd_json *j, int64_t v)
{
	separate(j);
	if (v < 0)
		putc_unlocked('-', j->f);
	put_uint(j->f, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
}

void vd_json_uint(struct vd_json *j, uint64_t v)
{
	separate(j);
	put_uint(j->f, v);
}

/* The most decimals dbl_fast writes, and the room it needs: sign, 20 digits, point, decimals. */
#define DBL_FAST_DECIMALS 16
#define DBL_FAST_MAX (1 + 20 + 1 + DBL_FAST_DECIMALS)

/* printf's bytes for v at w (room for DBL_FAST_MAX) when they need no decimal expansion, and
 * the end; NULL (nothing written) when printf must do it. Reports of thousands of flows hold
 * many rates rounded to integers and fractions that are 0 or 1: printf's conversion was most
 * of their cost. NaN and infinities are null. With decimals >= 0 ("%.*f"): a whole value, or
 * any value rounded to an integer (to nearest, ties to even, as printf in the default rounding
 * mode). With decimals < 0 ("%g"): a whole number below a million (a setting
 * such as a factor of 2), which %g's six significant digits write whole, with no exponent or
 * point. A negative value keeps its sign even when it is or rounds to 0 ("-0"). */
static char *dbl_fast(char *w, double v, int decimals)
{
	if (isnan(v) || isinf(v)) {
		memcpy(w, "null", 4);
		return w + 4;
	}
	double a = fabs(v);
	if (!(a < 0x1p63) || decimals > DBL_FAST_DECIMALS)
		return NULL;
	/* its integer part and fraction, both exact (no libm call: this runs for every rate) */
	uint64_t u = (uint64_t)a;
	double frac = a - (double)u;
	if (decimals < 0) {
		if (frac != 0 || u >= 1000000)
			return NULL;
	} else if (frac != 0) {
		if (decimals > 0)
			return NULL;
		if (frac > 0.5 || (frac == 0.5 && (u & 1))) /* to nearest, ties to even */
			u++;
	}
	if (signbit(v))
		*w++ = '-';
	w = digits(w, u);
	if (decimals > 0) {
		*w++ = '.';
		memset(w, '0', DBL_FAST_DECIMALS); /* within the room; the value ends before */
		w += decimals;
	}
	return w;
}

/* A double after its separator: dbl_fast's bytes, or printf's. */
static void put_dbl(FILE *f, double v, int decimals)
{
	char *w = room(f, DBL_FAST_MAX), *e = w ? dbl_fast(w, v, decimals) : NULL;
	if (e)
		f->_IO_write_ptr = e;
	else if (isnan(v) || isinf(v))
		put_word(f, "null");
	else if (decimals < 0)
		fprintf(f, "%g", v);
	else
		fprintf(f, "%.*f", decimals, v);
}

void vd_json_dbl(struct vd_json *j, double v, int decimals)
{
	separate(j);
	put_dbl(j->f, v, decimals);
}

void vd_json_kvl_dbl(struct vd_json *j, struct vd_json_lit key, double v, int decimals)
{
	char *w = member_lit(j, key, DBL_FAST_MAX), *e = w ? dbl_fast(w, v, decimals) : NULL;
	if (e) {
		j->f->_IO_write_ptr = e;
		return;
	}
	if (w) { /* the key is written: the value through printf */
		j->f->_IO_write_ptr = w;
		j->after_key = 1;
	} else {
		vd_json_key_lit(j, key);
	}
	vd_json_dbl(j, v, decimals);
}

void vd_json_bool(struct vd_json *j, int v)
{
	separate(j);
	put_word(j->f, v ? "true" : "false");
}

void vd_json_null(struct vd_json *j)
{
	separate(j);
	put_word(j->f, "null");
}

void vd_json_kv_str(struct vd_json *j, const char *key, const char *s)
{
	vd_json_key(j, key);
	vd_json_str(j, s);
}

void vd_json_kv_int(struct vd_json *j, const char *key, int64_t v)
{
	vd_json_key(j, key);
	vd_json_int(j, v);
}

void vd_json_kv_uint(struct vd_json *j, const char *key, uint64_t v)
{
	vd_json_key(j, key);
	vd_json_uint(j, v);
}

void vd_json_kv_dbl(struct vd_json *j, const char *key, double v, int decimals)
{
	vd_json_key(j, key);
	vd_json_dbl(j, v, decimals);
}

void vd_json_kv_bool(struct vd_json *j, const char *key, int v)
{
	vd_json_key(j, key);
	vd_json_bool(j, v);
}

void vd_json_kv_ns(struct vd_json *j, const char *key, vd_ns v)
{
	vd_json_key(j, key);
	vd_json_ns(j, v);
}

void vd_json_ns(struct vd_json *j, vd_ns v)
{
	if (vd_ns_valid(v))
		vd_json_int(j, v);
	else
		vd_json_null(j);
}

void vd_json_newline(struct vd_json *j)
{
	putc_unlocked('\n', j->f);
}

/* s from its first character that is not plain (the n before it are), with its escapes, and
 * the closing quote. */
static void put_escaped_rest(FILE *f, const char *s, size_t n)
{
	put_run(f, s, n);
	/* each run of plain characters in one copy, escapes through the usual calls */
	for (const unsigned char *p = (const unsigned char *)s + n;; p++) {
		const unsigned char *run = p;
		while (plain(*p))
			p++;
		if (p > run)
			put_run(f, (const char *)run, (size_t)(p - run));
		switch (*p) {
		case 0:
			putc_unlocked('"', f);
			return;
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			fprintf(f, "\\u%04x", *p);
		}
	}
}

/* Whether one of the 8 bytes of x is not plain: below 0x20, '"' or '\\' (the bit trick for "a
 * byte below n" is exact as a yes/no; bytes from 0x80 never set it). */
static int word_has_special(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
	uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
	return ((((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b)) & high) != 0;
}

/* The length of s, or SIZE_MAX when it needs an escape: strlen (vectorised by libc), then its
 * bytes 8 at a time, as keys and addresses are written several million times in a large
 * report. */
static size_t plain_len(const char *s)
{
	size_t n = strlen(s), i = 0;
	uint64_t x;
	for (; i + 8 <= n; i += 8) {
		memcpy(&x, s + i, 8);
		if (word_has_special(x))
			return SIZE_MAX;
	}
	if (i < n) {
		x = 0x4141414141414141ULL; /* 'A's after the end: plain */
		memcpy(&x, s + i, n - i);
		if (word_has_special(x))
			return SIZE_MAX;
	}
	return n;
}

/* s as a JSON string literal, then the tn bytes of tail (a key's colon): one copy into the
 * buffer when s needs no escape (keys and addresses never do) and all of it fits. */
static void put_quoted(FILE *f, const char *s, const char *tail, size_t tn)
{
	size_t n = plain_len(s);
	char *w = n == SIZE_MAX ? NULL : room(f, n + 2 + tn);
	if (w) {
		*w++ = '"';
		memcpy(w, s, n);
		w += n;
		*w++ = '"';
		memcpy(w, tail, tn);
		f->_IO_write_ptr = w + tn;
		return;
	}
	putc_unlocked('"', f);
	put_escaped_rest(f, s, 0);
	put_run(f, tail, tn);
}

void vd_json_string(FILE *f, const char *s)
{
	put_quoted(f, s, "", 0);
}

int vd_json_mem_begin(struct vd_json_mem *m, enum vd_json_layout layout)
{
	*m = (struct vd_json_mem){0};
	FILE *f = open_memstream(&m->buf, &m->len);
	if (!f)
		return -1;
	vd_json_init(&m->j, f);
	vd_json_begin_object(&m->j, layout);
	return 0;
}

char *vd_json_mem_end(struct vd_json_mem *m)
{
	vd_json_end_object(&m->j);
	if (fclose(m->j.f)) {
		free(m->buf);
		return NULL;
	}
	return m->buf;
}
