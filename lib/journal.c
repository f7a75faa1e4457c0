// SPDX-License-Identifier: LGPL-2.1-or-later
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "io.h"
#include "journal.h"

#define JOURNAL_MAGIC  "kvmtune-journal 1"
#define JOURNAL_HEADER "# values replaced by kvmtune, restored on unapply\n" JOURNAL_MAGIC "\n"
#define JOURNAL_SUFFIX ".journal"

static uint32_t crc32_update(uint32_t crc, const char *p, size_t len)
{
	crc = ~crc;
	while (len--) {
		crc ^= (unsigned char)*p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
	}
	return ~crc;
}

static int journal_path(const char *name, char *buf, size_t size)
{
	int n;

	if (!kt_name_is_safe(name))
		return -EINVAL;
	n = snprintf(buf, size, "%s/%s" JOURNAL_SUFFIX, KT_STATE_DIR, name);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* "end <entries> <crc32 of the entry lines>", nothing more. */
static bool parse_end(const char *s, size_t *ret_n, uint32_t *ret_crc)
{
	unsigned long n, crc;
	int pos = -1;

	if (*s < '0' || *s > '9')
		return false;
	if (sscanf(s, "%lu %8lx%n", &n, &crc, &pos) != 2 || pos < 0 || s[pos] != '\0')
		return false;
	*ret_n = n;
	*ret_crc = (uint32_t)crc;
	return true;
}

static int bad(struct kt_kvlist *kv, const char **ret_why, const char *why)
{
	kt_kvlist_clear(kv);
	if (ret_why)
		*ret_why = why;
	return -EBADMSG;
}

int kt_journal_parse(const char *text, struct kt_kvlist *ret, const char **ret_why)
{
	struct kt_kvlist kv = KT_KVLIST_INIT;
	kt_cleanup_free char *buf = NULL;
	char *line, *save = NULL;
	bool magic = false, end = false;
	uint32_t crc = 0;

	buf = strdup(text);
	if (!buf)
		return -ENOMEM;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq;
		int r;

		if (line[0] == '#')
			continue;
		if (end)
			return bad(&kv, ret_why, "data after the end line");
		if (!magic) {
			if (strcmp(line, JOURNAL_MAGIC) != 0)
				return bad(&kv, ret_why, "unknown header");
			magic = true;
			continue;
		}
		if (strncmp(line, "end ", 4) == 0) {
			uint32_t want;
			size_t n;

			if (!parse_end(line + 4, &n, &want))
				return bad(&kv, ret_why, "a malformed end line");
			if (n != kv.n || want != crc)
				return bad(&kv, ret_why, "checksum or count mismatch");
			end = true;
			continue;
		}
		eq = strchr(line, '=');
		if (!eq)
			return bad(&kv, ret_why, "a line without '='");
		crc = crc32_update(crc, line, strlen(line));
		crc = crc32_update(crc, "\n", 1);
		*eq = '\0';
		if (!kt_name_is_safe(line))
			return bad(&kv, ret_why, "an invalid key");
		if (kt_kvlist_get(&kv, line))
			return bad(&kv, ret_why, "a key given twice");
		r = kt_kvlist_set(&kv, line, eq + 1);
		if (r < 0) {
			kt_kvlist_clear(&kv);
			return r;
		}
	}
	if (!end)
		return bad(&kv, ret_why, magic ? "truncated: no end line" : "empty");
	*ret = kv;
	return 0;
}

int kt_journal_format(const struct kt_kvlist *kv, char **ret, size_t *ret_len)
{
	size_t size = sizeof(JOURNAL_HEADER) + 64, len;
	uint32_t crc = 0;
	char *buf;
	int n;

	for (size_t i = 0; i < kv->n; i++) {
		if (!kt_name_is_safe(kv->items[i].key) || strchr(kv->items[i].value, '\n'))
			return -EINVAL;
		size += strlen(kv->items[i].key) + strlen(kv->items[i].value) + 2;
	}
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	len = strlen(JOURNAL_HEADER);
	memcpy(buf, JOURNAL_HEADER, len);
	for (size_t i = 0; i < kv->n; i++) {
		n = snprintf(buf + len, size - len, "%s=%s\n", kv->items[i].key,
			     kv->items[i].value);
		crc = crc32_update(crc, buf + len, (size_t)n);
		len += (size_t)n;
	}
	n = snprintf(buf + len, size - len, "end %zu %08x\n", kv->n, crc);
	len += (size_t)n;
	*ret = buf;
	if (ret_len)
		*ret_len = len;
	return 0;
}

int kt_journal_set_aside(const struct kt_ctx *ctx, const char *name, const char *why)
{
	char path[256], aside[300];
	long long now = (long long)time(NULL);
	int r;

	r = journal_path(name, path, sizeof(path));
	if (r < 0)
		return r;
	/* Never replace one set aside earlier: it may be the only record of the originals. */
	for (int i = 0; i < 100; i++) {
		if (i == 0)
			snprintf(aside, sizeof(aside), "%s.corrupt-%lld", path, now);
		else
			snprintf(aside, sizeof(aside), "%s.corrupt-%lld.%d", path, now, i);
		r = kt_rename(ctx, path, aside, RENAME_NOREPLACE);
		if (r != -EEXIST)
			break;
	}
	if (r < 0) {
		kt_warn(ctx, "journal /%s is corrupt (%s) and cannot be moved aside: %s; "
			     "ignoring it; check the host's values before trusting it",
			path, why, strerror(-r));
		return r;
	}
	kt_warn(ctx, "journal /%s is corrupt (%s): moved to /%s; check the host's values before "
		     "trusting it",
		path, why, aside);
	return 0;
}

int kt_journal_read(const struct kt_ctx *ctx, const char *name, struct kt_kvlist *ret)
{
	kt_cleanup_free char *buf = NULL;
	const char *why = NULL;
	char path[256];
	size_t len;
	int r;

	r = journal_path(name, path, sizeof(path));
	if (r < 0)
		return r;
	r = kt_read_file(ctx, path, &buf, &len);
	if (r < 0)
		return r;
	if (strlen(buf) != len) {
		why = "a NUL byte";
		r = -EBADMSG;
	} else {
		r = kt_journal_parse(buf, ret, &why);
	}
	if (r == -EBADMSG)
		kt_journal_set_aside(ctx, name, why);
	return r;
}

int kt_journal_write(const struct kt_ctx *ctx, const char *name, const struct kt_kvlist *kv)
{
	kt_cleanup_free char *text = NULL;
	char path[256];
	size_t len;
	int r;

	r = journal_path(name, path, sizeof(path));
	if (r < 0)
		return r;
	r = kt_journal_format(kv, &text, &len);
	if (r < 0)
		return r;
	r = kt_mkdir_p(ctx, KT_STATE_DIR, 0700);
	if (r < 0)
		return r;
	return kt_write_file_atomic(ctx, path, text, len, 0600);
}

int kt_journal_remove(const struct kt_ctx *ctx, const char *name)
{
	char path[256];
	int r;

	r = journal_path(name, path, sizeof(path));
	if (r < 0)
		return r;
	r = kt_unlink(ctx, path);
	return r == -ENOENT ? 0 : r;
}

struct names {
	char **v;
	size_t n, cap;
};

static int add_journal(void *data, const char *entry)
{
	struct names *names = data;
	size_t len = strlen(entry), slen = strlen(JOURNAL_SUFFIX);
	char *name;

	/* Temporary files start with '.', journals set aside do not end in the suffix. */
	if (len <= slen || strcmp(entry + len - slen, JOURNAL_SUFFIX) != 0)
		return 0;
	name = strndup(entry, len - slen);
	if (!name)
		return -ENOMEM;
	if (!kt_name_is_safe(name)) {
		free(name);
		return 0;
	}
	if (names->n == names->cap) {
		size_t cap = names->cap ? names->cap * 2 : 8;
		char **v = realloc(names->v, cap * sizeof(*v));

		if (!v) {
			free(name);
			return -ENOMEM;
		}
		names->v = v;
		names->cap = cap;
	}
	names->v[names->n++] = name;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int kt_journal_list(const struct kt_ctx *ctx, int (*fn)(void *data, const char *name),
		    void *data)
{
	struct names names = { NULL, 0, 0 };
	int r;

	r = kt_dir_for_each(ctx, KT_STATE_DIR, add_journal, &names);
	if (r == -ENOENT)
		r = 0;
	if (r == 0 && names.n)
		qsort(names.v, names.n, sizeof(*names.v), cmp_names);
	for (size_t i = 0; r == 0 && i < names.n; i++)
		r = fn(data, names.v[i]);
	for (size_t i = 0; i < names.n; i++)
		free(names.v[i]);
	free(names.v);
	return r;
}
