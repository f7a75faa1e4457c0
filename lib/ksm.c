// SPDX-License-Identifier: LGPL-2.1-or-later
#include <stdio.h>
#include <string.h>

#include "io.h"
#include "ksm.h"
#include "parse.h"

enum knob_kind {
	KIND_INT,
	KIND_BOOL,
	KIND_RUN,
	KIND_ADVISOR,
};

struct knob_info {
	const char *name;
	enum knob_kind kind;
	long long min, max;
	const char *allowed;
};

/*
 * Ranges follow the kernel's stores (mm/ksm.c): max_page_sharing below 2 is -EINVAL,
 * advisor_target_scan_time below 1 is -EINVAL, advisor_max_cpu is a percentage. Upper bounds
 * the kernel leaves open are capped at values no sane host exceeds, so typos are caught.
 */
static const struct knob_info knobs[KT_KSM_KNOB_MAX] = {
	[KT_KSM_RUN] = { "run", KIND_RUN, 0, 2, "0 (stop), 1 (run) or 2 (stop and unmerge)" },
	[KT_KSM_PAGES_TO_SCAN] = { "pages_to_scan", KIND_INT, 0, 100000, "an integer 0..100000" },
	[KT_KSM_SLEEP_MILLISECS] = { "sleep_millisecs", KIND_INT, 0, 600000,
				     "an integer 0..600000 (milliseconds)" },
	[KT_KSM_MERGE_ACROSS_NODES] = { "merge_across_nodes", KIND_BOOL, 0, 1, "a boolean (0/1)" },
	[KT_KSM_USE_ZERO_PAGES] = { "use_zero_pages", KIND_BOOL, 0, 1, "a boolean (0/1)" },
	[KT_KSM_MAX_PAGE_SHARING] = { "max_page_sharing", KIND_INT, 2, 2147483647,
				      "an integer 2..2147483647" },
	[KT_KSM_STABLE_NODE_CHAINS_PRUNE_MILLISECS] = { "stable_node_chains_prune_millisecs",
							KIND_INT, 0, 3600000,
							"an integer 0..3600000 (milliseconds)" },
	[KT_KSM_SMART_SCAN] = { "smart_scan", KIND_BOOL, 0, 1, "a boolean (0/1)" },
	[KT_KSM_ADVISOR_MODE] = { "advisor_mode", KIND_ADVISOR, 0, 0, "none or scan-time" },
	[KT_KSM_ADVISOR_MAX_CPU] = { "advisor_max_cpu", KIND_INT, 1, 100,
				     "an integer 1..100 (percent of one CPU)" },
	[KT_KSM_ADVISOR_MIN_PAGES_TO_SCAN] = { "advisor_min_pages_to_scan", KIND_INT, 1, 10000000,
					       "an integer 1..10000000" },
	[KT_KSM_ADVISOR_MAX_PAGES_TO_SCAN] = { "advisor_max_pages_to_scan", KIND_INT, 1, 10000000,
					       "an integer 1..10000000" },
	[KT_KSM_ADVISOR_TARGET_SCAN_TIME] = { "advisor_target_scan_time", KIND_INT, 1, 86400,
					      "an integer 1..86400 (seconds)" },
};

const char *kt_ksm_knob_name(enum kt_ksm_knob knob)
{
	return knob >= 0 && knob < KT_KSM_KNOB_MAX ? knobs[knob].name : NULL;
}

enum kt_ksm_knob kt_ksm_knob_from_name(const char *name)
{
	for (int k = 0; k < KT_KSM_KNOB_MAX; k++)
		if (name && strcmp(name, knobs[k].name) == 0)
			return (enum kt_ksm_knob)k;
	return KT_KSM_KNOB_INVALID;
}

const char *kt_ksm_knob_allowed(enum kt_ksm_knob knob)
{
	return knob >= 0 && knob < KT_KSM_KNOB_MAX ? knobs[knob].allowed : NULL;
}

static int knob_path(enum kt_ksm_knob knob, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%s", KT_KSM_DIR, knobs[knob].name);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

bool kt_ksm_available(const struct kt_ctx *ctx)
{
	return kt_attr_exists(ctx, KT_KSM_DIR "/run");
}

bool kt_ksm_knob_supported(const struct kt_ctx *ctx, enum kt_ksm_knob knob)
{
	char path[128];

	if (knob < 0 || knob >= KT_KSM_KNOB_MAX || knob_path(knob, path, sizeof(path)) < 0)
		return false;
	return kt_attr_exists(ctx, path);
}

int kt_ksm_normalize(enum kt_ksm_knob knob, const char *value, char ret[KT_KSM_VALUE_MAX])
{
	const struct knob_info *info;
	long long v;
	bool b;
	int r;

	if (knob < 0 || knob >= KT_KSM_KNOB_MAX || !value)
		return -EINVAL;
	info = &knobs[knob];
	switch (info->kind) {
	case KIND_BOOL:
		r = kt_parse_bool(value, &b);
		if (r < 0)
			return r;
		v = b;
		break;
	case KIND_ADVISOR:
		while (*value == ' ')
			value++;
		if (strncmp(value, "none", 4) == 0 && strspn(value + 4, " \n") == strlen(value + 4)) {
			snprintf(ret, KT_KSM_VALUE_MAX, "none");
			return 0;
		}
		if (strncmp(value, "scan-time", 9) == 0 &&
		    strspn(value + 9, " \n") == strlen(value + 9)) {
			snprintf(ret, KT_KSM_VALUE_MAX, "scan-time");
			return 0;
		}
		return -EINVAL;
	case KIND_INT:
	case KIND_RUN:
	default:
		r = kt_parse_int(value, info->min, info->max, &v);
		if (r < 0)
			return r;
		break;
	}
	snprintf(ret, KT_KSM_VALUE_MAX, "%lld", v);
	return 0;
}

int kt_ksm_values_from_options(const struct kt_ctx *ctx, const struct kt_kvlist *opts,
			       struct kt_ksm_values *ret)
{
	struct kt_ksm_values vals;
	int bad = 0;

	memset(&vals, 0, sizeof(vals));
	for (size_t i = 0; i < opts->n; i++) {
		const char *name = opts->items[i].key, *value = opts->items[i].value;
		enum kt_ksm_knob k = kt_ksm_knob_from_name(name);

		if (k < 0) {
			char list[512] = "";

			for (int j = 0; j < KT_KSM_KNOB_MAX; j++) {
				strncat(list, j ? ", " : "", sizeof(list) - strlen(list) - 1);
				strncat(list, knobs[j].name, sizeof(list) - strlen(list) - 1);
			}
			kt_err(ctx, "unknown option '%s': expected one of %s", name, list);
			bad++;
			continue;
		}
		if (kt_ksm_normalize(k, value, vals.value[k]) < 0) {
			kt_err(ctx, "%s=%s is invalid: expected %s", name, value, knobs[k].allowed);
			bad++;
			continue;
		}
		vals.set[k] = true;
	}
	if (bad)
		return -EINVAL;
	*ret = vals;
	return 0;
}

int kt_ksm_values_to_kvlist(const struct kt_ksm_values *vals, struct kt_kvlist *ret)
{
	for (int k = 0; k < KT_KSM_KNOB_MAX; k++) {
		int r;

		if (!vals->set[k])
			continue;
		r = kt_kvlist_set(ret, knobs[k].name, vals->value[k]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* advisor_mode reads as "[none] scan-time": the bracketed word is the active mode. */
static int pick_bracketed(const char *s, char *ret, size_t size)
{
	const char *open = strchr(s, '['), *close;

	if (!open)
		return -EINVAL;
	close = strchr(open, ']');
	if (!close || (size_t)(close - open - 1) >= size)
		return -EINVAL;
	memcpy(ret, open + 1, (size_t)(close - open - 1));
	ret[close - open - 1] = '\0';
	return 0;
}

int kt_ksm_read(const struct kt_ctx *ctx, enum kt_ksm_knob knob, char ret[KT_KSM_VALUE_MAX])
{
	char path[128], buf[128], word[KT_KSM_VALUE_MAX];
	int r;

	if (knob < 0 || knob >= KT_KSM_KNOB_MAX)
		return -EINVAL;
	r = knob_path(knob, path, sizeof(path));
	if (r < 0)
		return r;
	r = kt_read_attr(ctx, path, buf, sizeof(buf));
	if (r < 0)
		return r;
	if (knobs[knob].kind == KIND_ADVISOR && strchr(buf, '[')) {
		r = pick_bracketed(buf, word, sizeof(word));
		if (r < 0)
			return r;
		return kt_ksm_normalize(knob, word, ret);
	}
	if (knobs[knob].kind == KIND_INT) {
		/* Report what the kernel holds even if it is outside the range we let people write. */
		long long v;

		r = kt_parse_int(buf, INT64_MIN, INT64_MAX, &v);
		if (r < 0)
			return r;
		snprintf(ret, KT_KSM_VALUE_MAX, "%lld", v);
		return 0;
	}
	return kt_ksm_normalize(knob, buf, ret);
}

int kt_ksm_read_all(const struct kt_ctx *ctx, struct kt_ksm_values *ret)
{
	struct kt_ksm_values vals;

	memset(&vals, 0, sizeof(vals));
	for (int k = 0; k < KT_KSM_KNOB_MAX; k++) {
		int r;

		if (!kt_ksm_knob_supported(ctx, (enum kt_ksm_knob)k))
			continue;
		r = kt_ksm_read(ctx, (enum kt_ksm_knob)k, vals.value[k]);
		if (r < 0)
			return r;
		vals.set[k] = true;
	}
	*ret = vals;
	return 0;
}

int kt_ksm_write(const struct kt_ctx *ctx, enum kt_ksm_knob knob, const char *value)
{
	char path[128];
	int r;

	if (knob < 0 || knob >= KT_KSM_KNOB_MAX)
		return -EINVAL;
	r = knob_path(knob, path, sizeof(path));
	if (r < 0)
		return r;
	return kt_write_attr(ctx, path, value);
}
