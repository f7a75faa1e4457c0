// SPDX-License-Identifier: LGPL-2.1-or-later
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

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

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return kt_negerrno();
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int kt_journal_write(const struct kt_ctx *ctx, const char *name, const struct kt_kvlist *kv)
{
	kt_cleanup_close int fd = -1, dfd = -1;
	char path[256], tmp[256], line[512];
	uint32_t crc = 0;
	int r, n;

	r = journal_path(name, path, sizeof(path), false);
	if (r < 0)
		return r;
	r = journal_path(name, tmp, sizeof(tmp), true);
	if (r < 0)
		return r;
	r = kt_mkdir_p(ctx, KT_STATE_DIR, 0700);
	if (r < 0)
		return r;
	fd = openat(kt_ctx_root_fd(ctx), tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return kt_negerrno();
	n = snprintf(line, sizeof(line), "# values replaced by kvmtune, restored on unapply\n%s\n",
		     JOURNAL_MAGIC);
	r = write_all(fd, line, (size_t)n);
	for (size_t i = 0; r == 0 && i < kv->n; i++) {
		if (!kt_name_is_safe(kv->items[i].key) || strchr(kv->items[i].value, '\n')) {
			r = -EINVAL;
			break;
		}
		n = snprintf(line, sizeof(line), "%s=%s\n", kv->items[i].key, kv->items[i].value);
		if (n < 0 || (size_t)n >= sizeof(line)) {
			r = -E2BIG;
			break;
		}
		crc = crc32_update(crc, line, (size_t)n);
		r = write_all(fd, line, (size_t)n);
	}
	if (r == 0) {
		n = snprintf(line, sizeof(line), "end %zu %08x\n", kv->n, crc);
		r = write_all(fd, line, (size_t)n);
	}
	if (r == 0 && fsync(fd) < 0)
		r = kt_negerrno();
	if (r == 0 && renameat(kt_ctx_root_fd(ctx), tmp, kt_ctx_root_fd(ctx), path) < 0)
		r = kt_negerrno();
	if (r < 0) {
		unlinkat(kt_ctx_root_fd(ctx), tmp, 0);
		return r;
	}
	/* The rename is durable only once the directory is synced. */
	dfd = openat(kt_ctx_root_fd(ctx), KT_STATE_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		fsync(dfd);
	return 0;
}

int kt_journal_remove(const struct kt_ctx *ctx, const char *name)
{
	char path[256];
	int r;

	r = journal_path(name, path, sizeof(path), false);
	if (r < 0)
		return r;
	if (unlinkat(kt_ctx_root_fd(ctx), path, 0) < 0 && errno != ENOENT)
		return kt_negerrno();
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int kt_journal_list(const struct kt_ctx *ctx, int (*fn)(void *data, const char *name), void *data)
{
	struct dirent *de;
	char *names[256];
	size_t n = 0;
	DIR *d;
	int fd, r = 0;

	fd = openat(kt_ctx_root_fd(ctx), KT_STATE_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : kt_negerrno();
	d = fdopendir(fd);
	if (!d) {
		r = kt_negerrno();
		close(fd);
		return r;
	}
	while ((de = readdir(d)) && n < KT_ELEMENTSOF(names)) {
		size_t len = strlen(de->d_name);
		const char *suffix = ".journal";

		if (len <= strlen(suffix) || strcmp(de->d_name + len - strlen(suffix), suffix) != 0 ||
		    de->d_name[0] == '.')
			continue;
		names[n] = strndup(de->d_name, len - strlen(suffix));
		if (names[n])
			n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_names);
	for (size_t i = 0; i < n; i++) {
		if (r == 0 && kt_name_is_safe(names[i]))
			r = fn(data, names[i]);
		free(names[i]);
	}
	return r;
}
