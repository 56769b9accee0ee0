/* Unit tests: the streaming JSON writer (lib/out/json.c) — the three layouts as the tools print
 * them, nesting, escaping and number formats. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmdelay/out/json.h"

struct capture {
	char *buf;
	size_t len;
	FILE *f;
	struct vd_json j;
};

static struct vd_json *capture_open(struct capture *c)
{
	c->buf = NULL;
	c->f = open_memstream(&c->buf, &c->len);
	assert_non_null(c->f);
	vd_json_init(&c->j, c->f);
	return &c->j;
}

static char *capture_close(struct capture *c)
{
	fclose(c->f);
	return c->buf;
}

static void compact_line_with_nesting(void **state)
{
	struct capture c;
	struct vd_json *j = capture_open(&c);
	vd_json_begin_object(j, VD_JSON_COMPACT);
	vd_json_key(j, "type");
	vd_json_str(j, "flow");
	vd_json_key(j, "notes");
	vd_json_begin_array(j, VD_JSON_COMPACT);
	vd_json_str(j, "mid-stream");
	vd_json_str(j, "one-sided");
	vd_json_end_array(j);
	vd_json_key(j, "empty");
	vd_json_begin_array(j, VD_JSON_COMPACT);
	vd_json_end_array(j);
	vd_json_key(j, "inner");
	vd_json_begin_object(j, VD_JSON_COMPACT);
	vd_json_key(j, "n");
	vd_json_int(j, -3);
	vd_json_key(j, "u");
	vd_json_uint(j, UINT64_MAX);
	vd_json_end_object(j);
	vd_json_key(j, "none");
	vd_json_null(j);
	vd_json_end_object(j);
	vd_json_newline(j);
	char *s = capture_close(&c);
	assert_string_equal(s, "{\"type\":\"flow\",\"notes\":[\"mid-stream\",\"one-sided\"],"
			       "\"empty\":[],\"inner\":{\"n\":-3,\"u\":18446744073709551615},"
			       "\"none\":null}\n");
	free(s);
}

/* The delay report's layout: members on their own lines, arrays of one-line objects. */
static void lines_and_spaced_document(void **state)
{
	struct capture c;
	struct vd_json *j = capture_open(&c);
	vd_json_begin_object(j, VD_JSON_LINES);
	vd_json_key(j, "tool");
	vd_json_str(j, "vmdelay-analyze");
	vd_json_key(j, "points");
	vd_json_begin_array(j, VD_JSON_LINES);
	for (int i = 0; i < 2; i++) {
		vd_json_begin_object(j, VD_JSON_SPACED);
		vd_json_key(j, "name");
		vd_json_str(j, i ? "b" : "a");
		vd_json_key(j, "aligned");
		vd_json_bool(j, i);
		vd_json_end_object(j);
	}
	vd_json_end_array(j);
	vd_json_key(j, "align");
	vd_json_begin_array(j, VD_JSON_LINES);
	vd_json_end_array(j);
	vd_json_end_object(j);
	vd_json_newline(j);
	char *s = capture_close(&c);
	assert_string_equal(s, "{\n"
			       "  \"tool\": \"vmdelay-analyze\",\n"
			       "  \"points\": [\n"
			       "    {\"name\": \"a\", \"aligned\": false},\n"
			       "    {\"name\": \"b\", \"aligned\": true}\n"
			       "  ],\n"
			       "  \"align\": []\n"
			       "}\n");
	free(s);
}

static void strings_are_escaped(void **state)
{
	struct capture c;
	struct vd_json *j = capture_open(&c);
	vd_json_begin_array(j, VD_JSON_COMPACT);
	vd_json_str(j, "q\"b\\n\nt\tc\x01 é");
	vd_json_str(j, NULL);
	vd_json_end_array(j);
	char *s = capture_close(&c);
	assert_string_equal(s, "[\"q\\\"b\\\\n\\nt\\tc\\u0001 é\",null]");
	free(s);
}

static void doubles_keep_the_tools_formats(void **state)
{
	struct capture c;
	struct vd_json *j = capture_open(&c);
	vd_json_begin_array(j, VD_JSON_SPACED);
	vd_json_dbl(j, 2.0 / 3, 4);
	vd_json_dbl(j, 1234.5, 0);
	vd_json_dbl(j, 1.5, -1);
	vd_json_dbl(j, NAN, 1);
	vd_json_dbl(j, INFINITY, -1);
	vd_json_dbl(j, -0.25, 1);
	vd_json_end_array(j);
	char *s = capture_close(&c);
	assert_string_equal(s, "[0.6667, 1234, 1.5, null, null, -0.2]");
	free(s);
}

/* Doubles with a fixed number of decimals are the bytes printf's "%.*f" writes, and with
 * decimals < 0 those of "%g", whatever the path the writer takes for them: integers (around
 * %g's switch to an exponent at a million too), ties (0.5, 2.5, -1.5), negatives that round to
 * zero (-0), huge values, and values with decimals to expand. */
static void fixed_decimals_are_printfs(void **state)
{
	(void)state;
	double vals[2000];
	size_t n = 0;
	static const double edge[] = {
	    0.0,	  -0.0,	     0.5,	1.5,	 2.5,	 -0.5,	   -1.5,
	    -0.3,	  0.3,	     1e-7,	-1e-7,	 1e15,	 1e16,	   0x1p53,
	    0x1p62,	  0x1p63,    -0x1p63,	0x1p64,	 1e300,	 123456.5, 7.0000005,
	    4294967296.5, 0.0000005, 0.9999995, 2.0,	 1000.0, 999999,   -999999,
	    999999.5,	  1e6,	     -1e6,	1000001, 100000, 1e-5,	   0x1p-1074};
	for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++)
		vals[n++] = edge[i];
	srand(7);
	while (n < sizeof(vals) / sizeof(vals[0])) {
		double r = (double)rand() / RAND_MAX, v;
		switch (n % 4) {
		case 0: /* integers, as rates in bit/s */
			v = floor(r * 1e12) * (n % 8 ? 1 : -1);
			break;
		case 1: /* halves and quarters: exact ties */
			v = floor(r * 1e6) / 4;
			break;
		case 2:
			v = r;
			break;
		default:
			v = (r - 0.5) * pow(10, rand() % 30);
		}
		vals[n++] = v;
	}
	for (int decimals = -1; decimals <= 6; decimals += decimals < 0 ? 1 : 2)
		for (size_t i = 0; i < n; i++) {
			struct capture c;
			struct vd_json *j = capture_open(&c);
			vd_json_dbl(j, vals[i], decimals);
			char *s = capture_close(&c);
			char want[400];
			if (decimals < 0)
				snprintf(want, sizeof(want), "%g", vals[i]);
			else
				snprintf(want, sizeof(want), "%.*f", decimals, vals[i]);
			if (strcmp(s, want))
				fail_msg("%.17g with %d decimals: wrote %s, printf %s", vals[i],
					 decimals, s, want);
			free(s);
		}
}

static void key_value_members(void **state)
{
	struct capture c;
	struct vd_json *j = capture_open(&c);
	vd_json_begin_object(j, VD_JSON_SPACED);
	vd_json_kv_str(j, "s", "x");
	vd_json_kv_int(j, "i", -1);
	vd_json_kv_uint(j, "u", 2);
	vd_json_kv_dbl(j, "d", 0.125, 2);
	vd_json_kv_bool(j, "b", 1);
	vd_json_kv_ns(j, "t_ns", 1500);
	vd_json_kv_ns(j, "none_ns", VD_NS_NONE);
	vd_json_end_object(j);
	char *s = capture_close(&c);
	assert_string_equal(s, "{\"s\": \"x\", \"i\": -1, \"u\": 2, \"d\": 0.12, \"b\": true, "
			       "\"t_ns\": 1500, \"none_ns\": null}");
	free(s);
}

/* Nesting deeper than the writer tracks still closes every bracket it opened. */
static void deep_nesting_stays_balanced(void **state)
{
	struct capture c;
	struct vd_json *j = capture_open(&c);
	for (int i = 0; i < VD_JSON_MAX_DEPTH + 3; i++)
		vd_json_begin_array(j, VD_JSON_COMPACT);
	for (int i = 0; i < VD_JSON_MAX_DEPTH + 3; i++)
		vd_json_end_array(j);
	vd_json_end_array(j); /* one too many: ignored */
	char *s = capture_close(&c);
	size_t open = 0, close = 0;
	for (const char *p = s; *p; p++) {
		open += *p == '[';
		close += *p == ']';
	}
	assert_int_equal(open, VD_JSON_MAX_DEPTH + 3);
	assert_int_equal(close, VD_JSON_MAX_DEPTH + 3);
	assert_true(c.j.overflow);
	free(s);
}

/* An object written into memory keeps the layout and grows past any fixed buffer (analyze's
 * stored parameters once went through a 128-byte one, cut short without a word). */
static void object_in_memory(void **state)
{
	(void)state;
	struct vd_json_mem m;
	assert_int_equal(vd_json_mem_begin(&m, VD_JSON_SPACED), 0);
	vd_json_kv_str(&m.j, "align", "hull");
	vd_json_kv_uint(&m.j, "rest", 20);
	char *text = vd_json_mem_end(&m);
	assert_non_null(text);
	assert_string_equal(text, "{\"align\": \"hull\", \"rest\": 20}");
	free(text);

	char big[300];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	assert_int_equal(vd_json_mem_begin(&m, VD_JSON_COMPACT), 0);
	vd_json_kv_str(&m.j, "s", big);
	text = vd_json_mem_end(&m);
	assert_non_null(text);
	assert_int_equal(strlen(text), strlen(big) + 8); /* {"s":"…"} */
	free(text);
}

/* Integers straight into the stream's buffer: the bytes of printf, at every digit count (each
 * power of ten and its neighbours), the extremes and pseudo-random values; then the same on an
 * unbuffered stream (the fallback copy). */
static void integers_are_printfs(void **state)
{
	(void)state;
	for (int unbuffered = 0; unbuffered < 2; unbuffered++) {
		/* (glibc's memory streams cannot be unbuffered: a temporary file then) */
		struct capture c = {0};
		struct vd_json *j = &c.j;
		if (unbuffered) {
			c.f = tmpfile();
			assert_non_null(c.f);
			setvbuf(c.f, NULL, _IONBF, 0);
			vd_json_init(j, c.f);
		} else {
			capture_open(&c);
		}
		struct capture expected; /* what printf writes, as a reference */
		capture_open(&expected);
		FILE *w = expected.f;
		vd_json_begin_array(j, VD_JSON_COMPACT);
		fputc('[', w);
		const char *sep = "";
		uint64_t p = 1;
		for (int i = 0; i < 20; i++, p *= 10)
			for (uint64_t v = p - 1; v <= p + 1; v++) {
				vd_json_uint(j, v);
				fprintf(w, "%s%llu", sep, (unsigned long long)v);
				sep = ",";
			}
		uint64_t x = 88172645463325252ULL;
		for (int i = 0; i < 2000; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			int64_t s = (int64_t)(x >> (i % 63 + 1)) * (i % 2 ? -1 : 1);
			vd_json_int(j, s);
			fprintf(w, ",%lld", (long long)s);
		}
		vd_json_uint(j, UINT64_MAX);
		vd_json_int(j, INT64_MIN);
		fprintf(w, ",%llu,%lld]", (unsigned long long)UINT64_MAX, (long long)INT64_MIN);
		vd_json_end_array(j);
		char *want = capture_close(&expected);
		if (unbuffered) {
			c.buf = calloc(1, expected.len + 2);
			assert_non_null(c.buf);
			rewind(c.f);
			assert_int_equal(fread(c.buf, 1, expected.len + 1, c.f), expected.len);
			fclose(c.f);
		} else {
			capture_close(&c);
		}
		assert_string_equal(c.buf, want);
		free(c.buf);
		free(want);
	}
}

/* A string escaped as RFC 8259 wants, one character at a time: the reference for the writer's
 * eight-at-a-time scan. */
static void escape_slowly(FILE *w, const char *s)
{
	fputc('"', w);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p == '"' || *p == '\\')
			fprintf(w, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", w);
		else if (*p == '\r')
			fputs("\\r", w);
		else if (*p == '\t')
			fputs("\\t", w);
		else if (*p < 0x20)
			fprintf(w, "\\u%04x", *p);
		else
			fputc(*p, w);
	fputc('"', w);
}

/* Strings of every length up to 20 with a character that needs an escape (or a byte from 0x80,
 * which needs none) at every position: as a key and as a value, the same as escaping one
 * character at a time. */
static void strings_escaped_at_every_position(void **state)
{
	(void)state;
	static const char specials[] = {'"',	'\\',	    '\n',	'\x01',
					'\x1f', (char)0x80, (char)0xff, ' '};
	struct capture c;
	struct vd_json *j = capture_open(&c);
	struct capture expected; /* escaped one character at a time, as a reference */
	capture_open(&expected);
	FILE *w = expected.f;
	vd_json_begin_object(j, VD_JSON_COMPACT);
	fputc('{', w);
	char s[24];
	int first = 1;
	for (size_t len = 1; len <= 20; len++)
		for (size_t at = 0; at < len; at++)
			for (size_t k = 0; k < sizeof(specials); k++) {
				for (size_t i = 0; i < len; i++)
					s[i] = (char)('a' + i);
				s[at] = specials[k];
				s[len] = 0;
				vd_json_kv_str(j, s, s);
				if (!first)
					fputc(',', w);
				first = 0;
				escape_slowly(w, s);
				fputc(':', w);
				escape_slowly(w, s);
			}
	vd_json_end_object(j);
	fputc('}', w);
	char *want = capture_close(&expected);
	assert_string_equal(capture_close(&c), want);
	free(c.buf);
	free(want);
}

/* A key fixed when compiling writes the same bytes as the same key given at run time, in
 * every layout. */
static void literal_keys_are_keys(void **state)
{
	(void)state;
	enum vd_json_layout layouts[] = {VD_JSON_COMPACT, VD_JSON_SPACED, VD_JSON_LINES};
	for (size_t l = 0; l < 3; l++) {
		struct capture a, b;
		struct vd_json *ja = capture_open(&a), *jb = capture_open(&b);
		vd_json_begin_object(ja, layouts[l]);
		vd_json_begin_object(jb, layouts[l]);
		vd_json_kv_uint(ja, "bytes", 7);
		vd_json_kvl_uint(jb, VD_JSON_LIT("bytes"), 7);
		vd_json_kv_int(ja, "delta_ns", -3);
		vd_json_kvl_int(jb, VD_JSON_LIT("delta_ns"), -3);
		vd_json_kv_dbl(ja, "rate", 0.5, 4);
		vd_json_kvl_dbl(jb, VD_JSON_LIT("rate"), 0.5, 4);
		vd_json_kv_str(ja, "label", "a>b");
		vd_json_kvl_str(jb, VD_JSON_LIT("label"), "a>b");
		vd_json_kv_ns(ja, "rtt_ns", VD_NS_NONE);
		vd_json_kvl_ns(jb, VD_JSON_LIT("rtt_ns"), VD_NS_NONE);
		vd_json_key(ja, "empty");
		vd_json_key_lit(jb, VD_JSON_LIT("empty"));
		vd_json_null(ja);
		vd_json_null(jb);
		vd_json_end_object(ja);
		vd_json_end_object(jb);
		assert_string_equal(capture_close(&b), capture_close(&a));
		free(a.buf);
		free(b.buf);
	}
}

/* Literal keys of every length from 1 to 40 characters with integer, string (plain, escaped,
 * null, and known plain with its length), and double values, in one-line and multi-line
 * objects, thousands of members so that many of them meet the end of the stream's buffer: the
 * same bytes as the same members through runtime keys. */
static void literal_members_of_every_length(void **state)
{
	(void)state;
	enum vd_json_layout layouts[] = {VD_JSON_COMPACT, VD_JSON_SPACED, VD_JSON_LINES};
	char quoted[64];
	for (size_t l = 0; l < 3; l++) {
		struct capture a, b;
		struct vd_json *ja = capture_open(&a), *jb = capture_open(&b);
		vd_json_begin_object(ja, layouts[l]);
		vd_json_begin_object(jb, layouts[l]);
		for (int i = 0; i < 3000; i++) {
			size_t n = 1 + (size_t)i % 40;
			quoted[0] = '"';
			for (size_t k = 1; k <= n; k++)
				quoted[k] = (char)('a' + (i + k) % 26);
			quoted[n + 1] = '"';
			quoted[n + 2] = 0;
			struct vd_json_lit key = {quoted, n + 2};
			quoted[n + 1] = 0; /* the runtime key: the characters between the quotes */
			char plain[64];
			memcpy(plain, quoted + 1, n + 1);
			quoted[n + 1] = '"';
			int64_t v = (int64_t)((uint64_t)i * 7919 << (i % 40)) * (i % 3 ? 1 : -1);
			char text[300];
			size_t tn = (size_t)(i * 37) % 260;
			for (size_t k = 0; k < tn; k++)
				text[k] =
				    (char)(' ' + (i + k) % 90 + (i % 5 == 0 && k == 3 ? 2 : 0));
			text[tn] = 0;
			double d = (double)v / (i % 3 ? 1 : 8) * (i % 11 ? 1 : 0.001);
			switch (i % 7) {
			case 0:
				vd_json_kv_uint(ja, plain, (uint64_t)v);
				vd_json_kvl_uint(jb, key, (uint64_t)v);
				break;
			case 1:
				vd_json_kv_int(ja, plain, v);
				vd_json_kvl_int(jb, key, v);
				break;
			case 2:
				vd_json_kv_ns(ja, plain, i % 8 == 2 ? VD_NS_NONE : v);
				vd_json_kvl_ns(jb, key, i % 8 == 2 ? VD_NS_NONE : v);
				break;
			case 3: /* strings, some with a '"' or '\\' to escape, some null */
				vd_json_kv_str(ja, plain, i % 13 ? text : NULL);
				vd_json_kvl_str(jb, key, i % 13 ? text : NULL);
				break;
			case 4: /* the same, known plain (letters only) */
				vd_json_kv_str(ja, plain, plain);
				vd_json_kvl_plain(jb, key, plain, n);
				break;
			case 5: /* doubles, whole and not, fixed, %g and null */
				vd_json_kv_dbl(ja, plain, i % 17 ? d : NAN, i % 9 - 1);
				vd_json_kvl_dbl(jb, key, i % 17 ? d : NAN, i % 9 - 1);
				break;
			default:
				vd_json_key(ja, plain);
				vd_json_key_lit(jb, key);
				vd_json_str(ja, plain);
				vd_json_str(jb, plain);
			}
		}
		vd_json_end_object(ja);
		vd_json_end_object(jb);
		assert_string_equal(capture_close(&b), capture_close(&a));
		free(a.buf);
		free(b.buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(compact_line_with_nesting),
	    cmocka_unit_test(lines_and_spaced_document),
	    cmocka_unit_test(strings_are_escaped),
	    cmocka_unit_test(doubles_keep_the_tools_formats),
	    cmocka_unit_test(fixed_decimals_are_printfs),
	    cmocka_unit_test(key_value_members),
	    cmocka_unit_test(deep_nesting_stays_balanced),
	    cmocka_unit_test(object_in_memory),
	    cmocka_unit_test(integers_are_printfs),
	    cmocka_unit_test(strings_escaped_at_every_position),
	    cmocka_unit_test(literal_keys_are_keys),
	    cmocka_unit_test(literal_members_of_every_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
