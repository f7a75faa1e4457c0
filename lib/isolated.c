// SPDX-License-Identifier: LGPL-2.1-or-later
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"
#include "isolated.h"

int kt_isolated_default(const struct kt_topology *t, struct kt_cpuset *ret)
{
	struct kt_cpuset housekeeping, siblings;
	bool seen;

	kt_cpuset_clear(&housekeeping);
	for (unsigned c = 0; c < t->n_cpus; c++) {
		if (!t->cpus[c].online)
			continue;
		/* The first online CPU met of a package (CPUs ascend) names its first core. */
		seen = false;
		for (unsigned p = 0; p < c && !seen; p++)
			seen = t->cpus[p].online && t->cpus[p].package == t->cpus[c].package;
		if (seen)
			continue;
		kt_topology_siblings(t, c, &siblings);
		for (unsigned s = 0; s < t->n_cpus; s++)
			if (kt_cpuset_has(&siblings, s))
				kt_cpuset_add(&housekeeping, s);
	}
	kt_cpuset_clear(ret);
	for (unsigned c = 0; c < t->n_cpus; c++)
		if (t->cpus[c].online && !kt_cpuset_has(&housekeeping, c))
			kt_cpuset_add(ret, c);
	return kt_cpuset_count(ret) > 0 ? 0 : -ERANGE;
}

/* Whether line (len bytes, no newline) assigns isolated_cores, as tuned's parser reads it. */
static bool assigns_isolated(const char *line, size_t len)
{
	static const char key[] = "isolated_cores";
	size_t i = 0;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (len - i < sizeof(key) - 1 || memcmp(line + i, key, sizeof(key) - 1) != 0)
		return false;
	i += sizeof(key) - 1;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	return i < len && line[i] == '=';
}

int kt_isolated_vars_set(const char *text, size_t len, const char *comment, const char *value,
			 char **ret)
{
	/* Each line keeps at most its own newline; the last may gain one. */
	size_t cap = len + 1 + strlen(comment) + strlen(value) + 32, n = 0;
	char *out;

	/* tuned reads text: a NUL would cut the file short when written back. */
	if (text && memchr(text, '\0', len))
		return -EINVAL;
	out = malloc(cap);
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; text && i < len;) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t l = nl ? (size_t)(nl - (text + i)) : len - i;
		bool ours = l == strlen(comment) + 2 && memcmp(text + i, "# ", 2) == 0 &&
			    memcmp(text + i + 2, comment, l - 2) == 0;

		if (!assigns_isolated(text + i, l) && !ours) {
			memcpy(out + n, text + i, l);
			n += l;
			out[n++] = '\n';
		}
		i += l + (nl ? 1 : 0);
	}
	snprintf(out + n, cap - n, "# %s\nisolated_cores=%s\n", comment, value);
	*ret = out;
	return 0;
}

static bool blank(const char *s)
{
	for (; s && *s; s++)
		if (!isspace((unsigned char)*s))
			return false;
	return true;
}

/* value as a set of online CPUs that leaves housekeeping CPUs; logs what is wrong. */
static int check_value(const struct kt_ctx *ctx, const struct kt_topology *t,
		       const char *varfile, const char *value, struct kt_cpuset *ret)
{
	char online[256], offline[256];
	struct kt_cpuset bad;
	unsigned left = 0;

	if (kt_cpulist_parse(value, ret) < 0 || kt_cpuset_count(ret) == 0) {
		kt_err(ctx, "isolated_cores=%s in /%s is invalid: expected a CPU list such as "
			    "2-7,10 (tuned's syntax)", value, varfile);
		return -EINVAL;
	}
	if (kt_cpulist_format(&t->online, online, sizeof(online)) < 0)
		snprintf(online, sizeof(online), "...");
	kt_cpuset_clear(&bad);
	for (unsigned c = 0; c < KT_CPU_MAX; c++) {
		bool on = c < t->n_cpus && t->cpus[c].online;

		if (kt_cpuset_has(ret, c) && !on)
			kt_cpuset_add(&bad, c);
		if (on && !kt_cpuset_has(ret, c))
			left++;
	}
	if (kt_cpuset_count(&bad) > 0) {
		if (kt_cpulist_format(&bad, offline, sizeof(offline)) < 0)
			snprintf(offline, sizeof(offline), "...");
		kt_err(ctx, "isolated_cores=%s in /%s is invalid: CPUs %s are not online; "
			    "expected online CPUs (%s)", value, varfile, offline, online);
		return -EINVAL;
	}
	if (left == 0) {
		kt_err(ctx, "isolated_cores=%s in /%s is invalid: it leaves no CPU for the host's "
			    "own work; expected a part of the online CPUs (%s)", value, varfile,
		       online);
		return -EINVAL;
	}
	return 0;
}

#define KT_ISOLATED_COMMENT                                                                  \
	"Written by kvmtune, which found no isolated_cores here: every CPU but the first core " \
	"of each socket (and its SMT siblings)."

/* Writes isolated_cores=list into varfile, keeping its other lines. */
static int write_default(const struct kt_ctx *ctx, const char *varfile, const char *list)
{
	kt_cleanup_free char *old = NULL, *text = NULL;
	size_t len = 0;
	int r;

	r = kt_read_file(ctx, varfile, &old, &len);
	if (r < 0 && r != -ENOENT)
		return r;
	r = kt_isolated_vars_set(old, r < 0 ? 0 : len, KT_ISOLATED_COMMENT, list, &text);
	if (r == -EINVAL)
		kt_err(ctx, "/%s holds NUL bytes: it is not a text file; left as it is", varfile);
	if (r < 0)
		return r;
	return kt_write_file_atomic(ctx, varfile, text, strlen(text), 0644);
}

int kt_isolated_cores_resolve(const struct kt_ctx *ctx, const char *varfile, const char *value,
			      char **ret)
{
	struct kt_topology *t = NULL;
	struct kt_cpuset set;
	/* The longest list: every other CPU of KT_CPU_MAX, "0,2,4,...". */
	const size_t list_size = (size_t)KT_CPU_MAX * 3;
	kt_cleanup_free char *list = malloc(list_size);
	int r;

	if (!list)
		return -ENOMEM;

	while (varfile && *varfile == '/')
		varfile++;
	if (!varfile || !kt_path_is_safe(varfile)) {
		kt_err(ctx, "variables file '%s' is invalid: expected an absolute path without "
			    "'..'", varfile ? varfile : "(null)");
		return -EINVAL;
	}
	r = kt_topology_read(ctx, &t);
	if (r < 0) {
		kt_err(ctx, "cannot read the CPU topology: %s", strerror(-r));
		return r;
	}
	if (!blank(value)) {
		r = check_value(ctx, t, varfile, value, &set);
		if (r < 0)
			goto out;
	} else {
		r = kt_isolated_default(t, &set);
		if (r < 0) {
			kt_err(ctx, "isolated_cores is not set in /%s, and this host has no CPU to "
				    "isolate by default (one core per socket stays for the host's "
				    "own work): set it there", varfile);
			r = -EINVAL;
			goto out;
		}
	}
	r = kt_cpulist_format(&set, list, list_size);
	if (r < 0)
		goto out;
	if (blank(value)) {
		r = write_default(ctx, varfile, list);
		if (r < 0 && r != -EINVAL) {
			kt_err(ctx, "cannot write isolated_cores=%s to /%s: %s", list, varfile,
			       strerror(-r));
			goto out;
		}
		kt_warn(ctx, "isolated_cores was not set: wrote isolated_cores=%s to /%s (all but "
			     "the first core of each socket); edit that file to change it",
			list, varfile);
	}
	*ret = list;
	list = NULL;
	r = 0;
out:
	kt_topology_free(t);
	return r;
}
