// SPDX-License-Identifier: LGPL-2.1-or-later
#include <stdio.h>
#include <string.h>

#include "io.h"
#include "journal.h"
#include "ksm.h"
#include "meminfo.h"

struct write_log {
	int n;
	enum kt_ksm_knob knob[KT_KSM_KNOB_MAX + 4];
	char old[KT_KSM_KNOB_MAX + 4][KT_KSM_VALUE_MAX];
};

uint64_t kt_ksm_unmerge_margin(uint64_t mem_total)
{
	/* Headroom for the page cache and the guests' own growth while unmerging runs. */
	uint64_t margin = mem_total / 20;

	return margin < (UINT64_C(256) << 20) ? UINT64_C(256) << 20 : margin;
}

int kt_ksm_unmerge_fits(const struct kt_ctx *ctx, uint64_t *ret_need, uint64_t *ret_avail)
{
	struct kt_meminfo mi;
	uint64_t sharing, need, avail, margin;
	int r;

	r = kt_read_u64(ctx, KT_KSM_DIR "/pages_sharing", &sharing);
	if (r < 0)
		return r;
	r = kt_meminfo_read(ctx, &mi);
	if (r < 0)
		return r;
	margin = kt_ksm_unmerge_margin(mi.mem_total);
	need = sharing * (uint64_t)sysconf(_SC_PAGESIZE) + margin;
	avail = mi.mem_available + mi.swap_free;
	if (ret_need)
		*ret_need = need;
	if (ret_avail)
		*ret_avail = avail;
	return avail >= need;
}

static void rollback(const struct kt_ctx *ctx, const struct write_log *log)
{
	for (int i = log->n - 1; i >= 0; i--) {
		/* run=2 cannot be undone; writing the old run value is all there is. */
		int r = kt_ksm_write(ctx, log->knob[i], log->old[i]);

		if (r < 0)
			kt_err(ctx, "cannot put back %s=%s: %s", kt_ksm_knob_name(log->knob[i]),
			       log->old[i], strerror(-r));
	}
}

static int do_write(const struct kt_ctx *ctx, struct write_log *log, enum kt_ksm_knob knob,
		    const char *value, char cur[KT_KSM_VALUE_MAX])
{
	int r;

	r = kt_ksm_write(ctx, knob, value);
	if (r < 0) {
		kt_err(ctx, "cannot write %s=%s to /%s/%s: %s", kt_ksm_knob_name(knob), value,
		       KT_KSM_DIR, kt_ksm_knob_name(knob), strerror(-r));
		return r;
	}
	kt_dbg(ctx, "%s: %s -> %s", kt_ksm_knob_name(knob), cur, value);
	log->knob[log->n] = knob;
	memcpy(log->old[log->n], cur, KT_KSM_VALUE_MAX);
	log->n++;
	snprintf(cur, KT_KSM_VALUE_MAX, "%s", value);
	return 0;
}

static bool needs_unmerged(enum kt_ksm_knob k)
{
	/* mm/ksm.c answers -EBUSY to these while any page is merged. */
	return k == KT_KSM_MERGE_ACROSS_NODES || k == KT_KSM_MAX_PAGE_SHARING;
}

/* Drops from eff what this kernel lacks or cannot take now; -EINVAL for a refused combination. */
static int check_feasible(const struct kt_ctx *ctx, struct kt_ksm_values *eff,
			  const struct kt_ksm_values *cur, unsigned flags)
{
	const char *final_advisor;

	for (int k = 0; k < KT_KSM_KNOB_MAX; k++) {
		if (!eff->set[k] || cur->set[k])
			continue;
		eff->set[k] = false;
		if (flags & KT_KSM_APPLY_RESTORE)
			kt_dbg(ctx, "%s is not offered by this kernel, skipping", kt_ksm_knob_name(k));
		else
			kt_warn(ctx, "%s is not supported by this kernel, ignoring", kt_ksm_knob_name(k));
	}
	if (!eff->set[KT_KSM_PAGES_TO_SCAN] || !cur->set[KT_KSM_ADVISOR_MODE])
		return 0;
	final_advisor = eff->set[KT_KSM_ADVISOR_MODE] ? eff->value[KT_KSM_ADVISOR_MODE]
						      : cur->value[KT_KSM_ADVISOR_MODE];
	if (strcmp(final_advisor, "scan-time") != 0)
		return 0;
	if (!eff->set[KT_KSM_ADVISOR_MODE]) {
		kt_err(ctx, "pages_to_scan=%s cannot be set while advisor_mode=scan-time: the kernel "
			    "advisor owns the scan rate; add advisor_mode=none or drop pages_to_scan",
		       eff->value[KT_KSM_PAGES_TO_SCAN]);
		return -EINVAL;
	}
	/* Switching to scan-time resets pages_to_scan to the advisor's own starting value. */
	eff->set[KT_KSM_PAGES_TO_SCAN] = false;
	if (!(flags & KT_KSM_APPLY_RESTORE))
		kt_warn(ctx, "pages_to_scan=%s has no effect with advisor_mode=scan-time, ignoring",
			eff->value[KT_KSM_PAGES_TO_SCAN]);
	return 0;
}

static bool differs(const struct kt_ksm_values *eff, const struct kt_ksm_values *cur, int k)
{
	return eff->set[k] && strcmp(eff->value[k], cur->value[k]) != 0;
}

/* Stops ksmd and unmerges when memory allows, so that the -EBUSY knobs can change. */
static int prepare_unmerged(const struct kt_ctx *ctx, struct write_log *log,
			    struct kt_ksm_values *eff, struct kt_ksm_values *cur, bool *stopped)
{
	uint64_t shared = 0, need = 0, avail = 0;
	int r;

	if (strcmp(cur->value[KT_KSM_RUN], "1") == 0) {
		r = do_write(ctx, log, KT_KSM_RUN, "0", cur->value[KT_KSM_RUN]);
		if (r < 0)
			return r;
		*stopped = true;
	}
	r = kt_read_u64(ctx, KT_KSM_DIR "/pages_shared", &shared);
	if (r < 0 || shared == 0)
		return r;
	r = kt_ksm_unmerge_fits(ctx, &need, &avail);
	if (r < 0)
		return r;
	if (r == 0) {
		for (int k = 0; k < KT_KSM_KNOB_MAX; k++)
			if (needs_unmerged(k) && differs(eff, cur, k)) {
				kt_warn(ctx, "%s=%s needs every page unmerged first, which needs %llu MiB "
					     "but only %llu MiB are available, ignoring",
					kt_ksm_knob_name(k), eff->value[k],
					(unsigned long long)(need >> 20),
					(unsigned long long)(avail >> 20));
				eff->set[k] = false;
			}
		return 0;
	}
	kt_info(ctx, "unmerging all KSM pages to change merge_across_nodes/max_page_sharing");
	return do_write(ctx, log, KT_KSM_RUN, "2", cur->value[KT_KSM_RUN]);
}

/*
 * run=2 copies every merged page back into each process that maps it: with less memory
 * than that (plus the margin) in MemAvailable + SwapFree the host would swap or kill
 * processes, the guests first. ksmd is then only stopped (run=0), merged pages staying
 * merged, as the controller's stop=unmerge does.
 */
static int unmerge_guard(const struct kt_ctx *ctx, const char **run, const char *cur)
{
	uint64_t shared = 0, need = 0, avail = 0;
	int r;

	if (strcmp(*run, "2") != 0 || strcmp(cur, "2") == 0)
		return 0;
	r = kt_read_u64(ctx, KT_KSM_DIR "/pages_shared", &shared);
	if (r < 0 || shared == 0)
		return r;
	r = kt_ksm_unmerge_fits(ctx, &need, &avail);
	if (r != 0)
		return r < 0 ? r : 0;
	kt_warn(ctx, "run=2 would unmerge every merged page, which needs %llu MiB but only %llu "
		     "MiB are available (MemAvailable + SwapFree): stopping ksmd with run=0 "
		     "instead, merged pages stay merged",
		(unsigned long long)(need >> 20), (unsigned long long)(avail >> 20));
	*run = "0";
	return 0;
}

int kt_ksm_apply(const struct kt_ctx *ctx, const struct kt_ksm_values *want, unsigned flags,
		 struct kt_ksm_values *ret_prev)
{
	struct kt_ksm_values cur, eff = *want, prev;
	struct write_log log = { 0 };
	char run_before[KT_KSM_VALUE_MAX];
	bool stopped = false;
	int r;

	memset(&prev, 0, sizeof(prev));
	if (!kt_ksm_available(ctx)) {
		for (int k = 0; k < KT_KSM_KNOB_MAX; k++)
			if (want->set[k]) {
				kt_warn(ctx, "KSM is not available on this kernel (no /%s), ignoring",
					KT_KSM_DIR);
				break;
			}
		if (ret_prev)
			*ret_prev = prev;
		return 0;
	}
	r = kt_ksm_read_all(ctx, &cur);
	if (r < 0) {
		kt_err(ctx, "cannot read /%s: %s", KT_KSM_DIR, strerror(-r));
		return r;
	}
	r = check_feasible(ctx, &eff, &cur, flags);
	if (r < 0)
		return r;
	for (int k = 0; k < KT_KSM_KNOB_MAX; k++)
		if (eff.set[k]) {
			prev.set[k] = true;
			memcpy(prev.value[k], cur.value[k], KT_KSM_VALUE_MAX);
		}
	memcpy(run_before, cur.value[KT_KSM_RUN], KT_KSM_VALUE_MAX);

	if (differs(&eff, &cur, KT_KSM_MERGE_ACROSS_NODES) ||
	    differs(&eff, &cur, KT_KSM_MAX_PAGE_SHARING)) {
		r = prepare_unmerged(ctx, &log, &eff, &cur, &stopped);
		if (r < 0)
			goto fail;
		for (int k = 0; k < KT_KSM_KNOB_MAX; k++)
			if (needs_unmerged(k) && differs(&eff, &cur, k)) {
				r = do_write(ctx, &log, k, eff.value[k], cur.value[k]);
				if (r < 0)
					goto fail;
			}
	}
	if (differs(&eff, &cur, KT_KSM_ADVISOR_MODE) &&
	    strcmp(eff.value[KT_KSM_ADVISOR_MODE], "none") == 0) {
		r = do_write(ctx, &log, KT_KSM_ADVISOR_MODE, "none", cur.value[KT_KSM_ADVISOR_MODE]);
		if (r < 0)
			goto fail;
		/* Leaving scan-time resets pages_to_scan to the kernel default: compare anew. */
		r = kt_ksm_read(ctx, KT_KSM_PAGES_TO_SCAN, cur.value[KT_KSM_PAGES_TO_SCAN]);
		if (r < 0)
			goto fail;
	}
	for (int k = 0; k < KT_KSM_KNOB_MAX; k++) {
		if (k == KT_KSM_RUN || k == KT_KSM_ADVISOR_MODE || needs_unmerged(k) ||
		    !differs(&eff, &cur, k))
			continue;
		r = do_write(ctx, &log, k, eff.value[k], cur.value[k]);
		if (r < 0)
			goto fail;
	}
	if (differs(&eff, &cur, KT_KSM_ADVISOR_MODE)) {
		r = do_write(ctx, &log, KT_KSM_ADVISOR_MODE, eff.value[KT_KSM_ADVISOR_MODE],
			     cur.value[KT_KSM_ADVISOR_MODE]);
		if (r < 0)
			goto fail;
	}
	if (eff.set[KT_KSM_RUN] || stopped) {
		const char *run = eff.set[KT_KSM_RUN] ? eff.value[KT_KSM_RUN] : run_before;

		r = unmerge_guard(ctx, &run, cur.value[KT_KSM_RUN]);
		if (r < 0)
			goto fail;
		if (strcmp(run, cur.value[KT_KSM_RUN]) != 0) {
			r = do_write(ctx, &log, KT_KSM_RUN, run, cur.value[KT_KSM_RUN]);
			if (r < 0)
				goto fail;
		}
	}
	if (ret_prev)
		*ret_prev = prev;
	return 0;
fail:
	rollback(ctx, &log);
	return r;
}

int kt_ksm_verify(const struct kt_ctx *ctx, const struct kt_ksm_values *want,
		  kt_ksm_verify_fn fn, void *data)
{
	char advisor[KT_KSM_VALUE_MAX] = "none";
	int bad = 0;

	if (kt_ksm_knob_supported(ctx, KT_KSM_ADVISOR_MODE))
		kt_ksm_read(ctx, KT_KSM_ADVISOR_MODE, advisor);
	for (int k = 0; k < KT_KSM_KNOB_MAX; k++) {
		char cur[KT_KSM_VALUE_MAX];
		bool ok;

		if (!want->set[k])
			continue;
		if (!kt_ksm_knob_supported(ctx, k)) {
			fn(data, k, want->value[k], NULL, true);
			continue;
		}
		/* Under the advisor the kernel moves pages_to_scan by itself. */
		if (k == KT_KSM_PAGES_TO_SCAN && strcmp(advisor, "scan-time") == 0) {
			fn(data, k, want->value[k], NULL, true);
			continue;
		}
		ok = kt_ksm_read(ctx, k, cur) == 0 && strcmp(cur, want->value[k]) == 0;
		if (!ok)
			bad++;
		fn(data, k, want->value[k], ok || cur[0] ? cur : "?", ok);
	}
	return bad;
}

static int values_from_journal(const struct kt_kvlist *kv, struct kt_ksm_values *vals)
{
	for (size_t i = 0; i < kv->n; i++) {
		enum kt_ksm_knob k = kt_ksm_knob_from_name(kv->items[i].key);

		if (k < 0 || kt_ksm_normalize(k, kv->items[i].value, vals->value[k]) < 0)
			return -EBADMSG;
		vals->set[k] = true;
	}
	return 0;
}

/* 1 and the values when a usable journal exists, 0 when none, -errno when it cannot be read. */
static int load_journal(const struct kt_ctx *ctx, const char *name, struct kt_ksm_values *ret)
{
	struct kt_kvlist kv = KT_KVLIST_INIT;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = kt_journal_read(ctx, name, &kv);
	if (r == -ENOENT || r == -EBADMSG)
		return 0;
	if (r < 0) {
		kt_err(ctx, "cannot read the journal %s: %s", name, strerror(-r));
		return r;
	}
	r = values_from_journal(&kv, ret);
	kt_kvlist_clear(&kv);
	if (r < 0) {
		/* Kept for whoever checks the host, as kt_journal_read() keeps corrupt ones. */
		kt_journal_set_aside(ctx, name, "an unknown knob or value");
		memset(ret, 0, sizeof(*ret));
		return 0;
	}
	return 1;
}

int kt_ksm_tune(const struct kt_ctx *ctx, const char *name, const struct kt_ksm_values *want,
		struct kt_ksm_values *ret_orig)
{
	struct kt_kvlist kv = KT_KVLIST_INIT;
	struct kt_ksm_values orig, cur;
	int have, r;

	if (!kt_ksm_available(ctx))
		return kt_ksm_apply(ctx, want, 0, ret_orig);
	have = load_journal(ctx, name, &orig);
	if (have < 0)
		return have;
	if (have)
		kt_info(ctx, "journal %s from an earlier run holds the original values: keeping them",
			name);
	r = kt_ksm_read_all(ctx, &cur);
	if (r < 0)
		return r;
	for (int k = 0; k < KT_KSM_KNOB_MAX; k++)
		if (want->set[k] && cur.set[k] && !orig.set[k]) {
			orig.set[k] = true;
			memcpy(orig.value[k], cur.value[k], KT_KSM_VALUE_MAX);
		}
	r = kt_ksm_values_to_kvlist(&orig, &kv);
	if (r >= 0)
		r = kt_journal_write(ctx, name, &kv);
	kt_kvlist_clear(&kv);
	if (r < 0) {
		kt_err(ctx, "cannot write the journal /%s/%s.journal: %s; nothing was changed",
		       KT_STATE_DIR, name, strerror(-r));
		return r;
	}
	r = kt_ksm_apply(ctx, want, 0, NULL);
	if (r < 0) {
		if (!have)
			kt_journal_remove(ctx, name);
		return r;
	}
	*ret_orig = orig;
	return 0;
}

int kt_ksm_untune(const struct kt_ctx *ctx, const char *name, const struct kt_ksm_values *orig)
{
	struct kt_ksm_values restore;
	int have, r;

	have = load_journal(ctx, name, &restore);
	if (have < 0)
		return have;
	for (int k = 0; k < KT_KSM_KNOB_MAX; k++)
		if (orig && orig->set[k] && !restore.set[k]) {
			restore.set[k] = true;
			memcpy(restore.value[k], orig->value[k], KT_KSM_VALUE_MAX);
		}
	r = kt_ksm_apply(ctx, &restore, KT_KSM_APPLY_RESTORE, NULL);
	if (r < 0)
		return r;
	return kt_journal_remove(ctx, name);
}
