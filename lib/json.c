// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct reader {
	const char *p, *end;
};

static void skip_ws(struct reader *r)
{
	while (r->p < r->end &&
	       (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static void clear(struct kt_json *v)
{
	for (size_t i = 0; i < v->n; i++) {
		clear(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->string);
	memset(v, 0, sizeof(*v));
}

static int hex4(struct reader *r, unsigned *ret)
{
	unsigned v = 0;

	if (r->end - r->p < 4)
		return -EBADMSG;
	for (int i = 0; i < 4; i++) {
		char c = *r->p++;

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -EBADMSG;
	}
	*ret = v;
	return 0;
}

static size_t utf8(unsigned cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A string after its opening quote; decoded, it is never longer than encoded. */
static int string(struct reader *r, char **ret)
{
	const char *start = r->p;
	char *out, *o;

	while (r->p < r->end && *r->p != '"') {
		if (*r->p == '\\')
			r->p++;
		r->p++;
	}
	if (r->p >= r->end)
		return -EBADMSG;
	out = malloc((size_t)(r->p - start) + 1);
	if (!out)
		return -ENOMEM;
	o = out;
	r->end = r->p;
	r->p = start;
	while (r->p < r->end) {
		unsigned char c = (unsigned char)*r->p++;
		unsigned cp, lo;

		if (c < 0x20)
			goto bad;
		if (c != '\\') {
			*o++ = (char)c;
			continue;
		}
		switch (*r->p++) {
		case '"':
			*o++ = '"';
			break;
		case '\\':
			*o++ = '\\';
			break;
		case '/':
			*o++ = '/';
			break;
		case 'b':
			*o++ = '\b';
			break;
		case 'f':
			*o++ = '\f';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'u':
			if (hex4(r, &cp) < 0)
				goto bad;
			/* A surrogate pair is two escapes that make one code point. */
			if (cp >= 0xd800 && cp < 0xdc00) {
				if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u')
					goto bad;
				r->p += 2;
				if (hex4(r, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
					goto bad;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp < 0xe000) {
				goto bad;
			}
			/* NUL would cut the string short for every C reader after us. */
			if (!cp)
				goto bad;
			o += utf8(cp, o);
			break;
		default:
			goto bad;
		}
	}
	*o = '\0';
	*ret = out;
	return 0;
bad:
	free(out);
	return -EBADMSG;
}

static int value(struct reader *r, struct kt_json *v, int depth);

static int add_item(struct kt_json *v, size_t *cap, bool keyed)
{
	if (v->n < *cap)
		return 0;
	size_t n = *cap ? *cap * 2 : 4;
	struct kt_json *items;

	items = realloc(v->items, n * sizeof(*items));
	if (!items)
		return -ENOMEM;
	v->items = items;
	if (keyed) {
		char **keys = realloc(v->keys, n * sizeof(*keys));

		if (!keys)
			return -ENOMEM;
		v->keys = keys;
	}
	*cap = n;
	return 0;
}

static int container(struct reader *r, struct kt_json *v, int depth, bool object)
{
	char close = object ? '}' : ']';
	size_t cap = 0;
	int e;

	v->type = object ? KT_JSON_OBJECT : KT_JSON_ARRAY;
	skip_ws(r);
	if (r->p < r->end && *r->p == close) {
		r->p++;
		return 0;
	}
	for (;;) {
		struct kt_json item = {0};
		char *key = NULL;

		skip_ws(r);
		if (object) {
			struct reader sr;

			if (r->p >= r->end || *r->p != '"')
				return -EBADMSG;
			r->p++;
			sr = *r;
			e = string(&sr, &key);
			if (e < 0)
				return e;
			r->p = sr.end + 1;
			skip_ws(r);
			if (r->p >= r->end || *r->p != ':') {
				free(key);
				return -EBADMSG;
			}
			r->p++;
		}
		e = value(r, &item, depth + 1);
		if (e >= 0)
			e = add_item(v, &cap, object);
		if (e < 0) {
			clear(&item);
			free(key);
			return e;
		}
		if (object)
			v->keys[v->n] = key;
		v->items[v->n++] = item;
		skip_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == close) {
			r->p++;
			return 0;
		}
		return -EBADMSG;
	}
}

static int number(struct reader *r, struct kt_json *v)
{
	const char *s = r->p;
	char buf[64], *end;

	if (r->p < r->end && *r->p == '-')
		r->p++;
	if (r->p >= r->end || *r->p < '0' || *r->p > '9')
		return -EBADMSG;
	/* No leading zeros: "012" is not JSON. */
	if (*r->p == '0' && r->p + 1 < r->end && r->p[1] >= '0' && r->p[1] <= '9')
		return -EBADMSG;
	while (r->p < r->end && ((*r->p >= '0' && *r->p <= '9') || *r->p == '.' ||
				 *r->p == 'e' || *r->p == 'E' || *r->p == '+' || *r->p == '-'))
		r->p++;
	if ((size_t)(r->p - s) >= sizeof(buf))
		return -EBADMSG;
	memcpy(buf, s, (size_t)(r->p - s));
	buf[r->p - s] = '\0';
	v->number = strtod(buf, &end);
	if (*end || end[-1] == '.' || end[-1] == 'e' || end[-1] == 'E')
		return -EBADMSG;
	v->type = KT_JSON_NUMBER;
	return 0;
}

static bool word(struct reader *r, const char *w)
{
	size_t len = strlen(w);

	if ((size_t)(r->end - r->p) < len || memcmp(r->p, w, len) != 0)
		return false;
	r->p += len;
	return true;
}

static int value(struct reader *r, struct kt_json *v, int depth)
{
	struct reader sr;
	int e;

	if (depth > KT_JSON_DEPTH_MAX)
		return -EBADMSG;
	skip_ws(r);
	if (r->p >= r->end)
		return -EBADMSG;
	switch (*r->p) {
	case '{':
	case '[':
		return container(r, v, depth, *r->p++ == '{');
	case '"':
		r->p++;
		sr = *r;
		e = string(&sr, &v->string);
		if (e < 0)
			return e;
		r->p = sr.end + 1;
		v->type = KT_JSON_STRING;
		return 0;
	case 't':
	case 'f':
		v->type = KT_JSON_BOOL;
		v->boolean = *r->p == 't';
		return word(r, v->boolean ? "true" : "false") ? 0 : -EBADMSG;
	case 'n':
		v->type = KT_JSON_NULL;
		return word(r, "null") ? 0 : -EBADMSG;
	default:
		return number(r, v);
	}
}

int kt_json_parse(const char *text, size_t len, struct kt_json **ret)
{
	struct reader r;
	struct kt_json *v;
	int e;

	if (!text)
		return -EINVAL;
	r.p = text;
	r.end = text + len;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	e = value(&r, v, 0);
	if (e >= 0) {
		skip_ws(&r);
		if (r.p != r.end)
			e = -EBADMSG;
	}
	if (e < 0) {
		kt_json_free(v);
		return e;
	}
	*ret = v;
	return 0;
}

struct kt_json *kt_json_free(struct kt_json *v)
{
	if (!v)
		return NULL;
	clear(v);
	free(v);
	return NULL;
}

const struct kt_json *kt_json_get(const struct kt_json *v, const char *key)
{
	if (!v || v->type != KT_JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->keys[i], key) == 0)
			return &v->items[i];
	return NULL;
}

const char *kt_json_get_string(const struct kt_json *v, const char *key)
{
	const struct kt_json *m = kt_json_get(v, key);

	return m && m->type == KT_JSON_STRING ? m->string : NULL;
}

bool kt_json_get_bool(const struct kt_json *v, const char *key, bool def)
{
	const struct kt_json *m = kt_json_get(v, key);

	return m && m->type == KT_JSON_BOOL ? m->boolean : def;
}
