// SPDX-License-Identifier: LGPL-2.1-or-later
#include <stdio.h>
#include <string.h>

#include "io.h"
#include "journal.h"

#define JOURNAL_MAGIC "kvmtune-journal 1"

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

static int journal_path(const char *name, char *buf, size_t size, bool tmp)
{
	int n;

	if (!kt_name_is_safe(name))
		return -EINVAL;
	n = snprintf(buf, size, "%s/%s%s.journal%s", KT_STATE_DIR, tmp ? "." : "", name,
		     tmp ? ".tmp" : "");
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int corrupt(const struct kt_ctx *ctx, const char *path, const char *why)
{
	kt_err(ctx, "journal /%s is corrupt (%s): ignoring it; remove it once the host is checked",
	       path, why);
	return -EBADMSG;
}

int kt_journal_read(const struct kt_ctx *ctx, const char *name, struct kt_kvlist *ret)
{
	struct kt_kvlist kv = KT_KVLIST_INIT;
	kt_cleanup_free char *buf = NULL;
	char path[256];
	uint32_t crc = 0;
	char *line, *save = NULL;
	bool magic = false, end = false;
	int r;

	r = journal_path(name, path, sizeof(path), false);
	if (r < 0)
		return r;
	r = kt_read_file(ctx, path, &buf, NULL);
	if (r < 0)
		return r;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq;

		if (line[0] == '#')
			continue;
		if (end) {
			kt_kvlist_clear(&kv);
			return corrupt(ctx, path, "data after the end line");
		}
		if (!magic) {
			if (strcmp(line, JOURNAL_MAGIC) != 0) {
				kt_kvlist_clear(&kv);
				return corrupt(ctx, path, "unknown header");
			}
			magic = true;
			continue;
		}
		if (strncmp(line, "end ", 4) == 0) {
			unsigned long n, want;

			if (sscanf(line + 4, "%lu %lx", &n, &want) != 2 || n != kv.n || want != crc) {
				kt_kvlist_clear(&kv);
				return corrupt(ctx, path, "checksum or count mismatch");
			}
			end = true;
			continue;
		}
		eq = strchr(line, '=');
		if (!eq) {
			kt_kvlist_clear(&kv);
			return corrupt(ctx, path, "a line without '='");
		}
		crc = crc32_update(crc, line, strlen(line));
		crc = crc32_update(crc, "\n", 1);
		*eq = '\0';
		if (!kt_name_is_safe(line)) {
			kt_kvlist_clear(&kv);
			return corrupt(ctx, path, "an invalid key");
		}
		r = kt_kvlist_set(&kv, line, eq + 1);
		if (r < 0) {
			kt_kvlist_clear(&kv);
			return r;
		}
	}
	if (!end) {
		kt_kvlist_clear(&kv);
		return corrupt(ctx, path, magic ? "truncated: no end line" : "empty");
	}
	*ret = kv;
	return 0;
}

int kt_journal_write(const struct kt_ctx *ctx, const char *name, const struct kt_kvlist *kv)
{
	kt_cleanup_free char *text = NULL;
	char path[256], line[512];
	size_t len = 0, size = 4096;
	uint32_t crc = 0;
	int r, n;

	r = journal_path(name, path, sizeof(path), false);
	if (r < 0)
		return r;
	r = kt_mkdir_p(ctx, KT_STATE_DIR, 0700);
	if (r < 0)
		return r;
	for (size_t i = 0; i < kv->n; i++)
		size += strlen(kv->items[i].key) + strlen(kv->items[i].value) + 2;
	text = malloc(size);
	if (!text)
		return -ENOMEM;
	n = snprintf(text, size, "# values replaced by kvmtune, restored on unapply\n%s\n",
		     JOURNAL_MAGIC);
	len = (size_t)n;
	for (size_t i = 0; i < kv->n; i++) {
		if (!kt_name_is_safe(kv->items[i].key) || strchr(kv->items[i].value, '\n'))
			return -EINVAL;
		n = snprintf(line, sizeof(line), "%s=%s\n", kv->items[i].key, kv->items[i].value);
		if (n < 0 || (size_t)n >= sizeof(line))
			return -E2BIG;
		crc = crc32_update(crc, line, (size_t)n);
		memcpy(text + len, line, (size_t)n);
		len += (size_t)n;
	}
	n = snprintf(text + len, size - len, "end %zu %08x\n", kv->n, crc);
	len += (size_t)n;
	return kt_write_file_atomic(ctx, path, text, len, 0600);
}

int kt_journal_remove(const struct kt_ctx *ctx, const char *name)
{
	char path[256];
	int r;

	r = journal_path(name, path, sizeof(path), false);
	if (r < 0)
		return r;
	r = kt_unlink(ctx, path);
	return r == -ENOENT ? 0 : r;
}
