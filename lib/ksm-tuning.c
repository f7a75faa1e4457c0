// SPDX-License-Identifier: LGPL-2.1-or-later
#include <stdio.h>
#include <string.h>

#include "io.h"
#include "journal.h"
#include "ksm-tuning.h"
#include "lock.h"

struct kt_ksm_tuning {
	struct kt_ctx *ctx;
	char journal[80];
	enum kt_ksmctl_mode mode;
	struct kt_ksm_values orig;
	int lock_fd;
	struct kt_ksmctl_runner *controller;
};

bool kt_ksm_mode_owns(enum kt_ksmctl_mode mode, enum kt_ksm_knob knob)
{
	switch (mode) {
	case KT_KSMCTL_DYNAMIC:
		return knob == KT_KSM_RUN || knob == KT_KSM_PAGES_TO_SCAN ||
		       knob == KT_KSM_SLEEP_MILLISECS;
	case KT_KSMCTL_ADVISOR:
		return knob == KT_KSM_RUN || knob == KT_KSM_ADVISOR_MODE;
	case KT_KSMCTL_STATIC:
	default:
		return false;
	}
}

static const char *mode_name(enum kt_ksmctl_mode mode)
{
	return mode == KT_KSMCTL_DYNAMIC ? "dynamic" : mode == KT_KSMCTL_ADVISOR ? "advisor" : "static";
}

int kt_ksm_options_parse(const struct kt_ctx *ctx, const struct kt_kvlist *opts,
			 enum kt_ksmctl_mode default_mode, struct kt_ksm_values *ret_knobs,
			 struct kt_ksmctl_config *ret_cfg)
{
	struct kt_kvlist knobs = KT_KVLIST_INIT;
	struct kt_ksmctl_config cfg;
	struct kt_ksm_values vals;
	int r = 0;

	kt_ksmctl_config_default(&cfg);
	cfg.mode = default_mode;
	for (size_t i = 0; i < opts->n; i++) {
		const char *name = opts->items[i].key, *value = opts->items[i].value;
		int e;

		if (kt_ksmctl_option_known(name))
			e = kt_ksmctl_config_set(ctx, &cfg, name, value);
		else
			e = kt_kvlist_set(&knobs, name, value);
		if (e < 0 && r == 0)
			r = e;
	}
	/* The knobs are checked even after a bad controller option: one report names all. */
	if (r != -ENOMEM) {
		int e = kt_ksm_values_from_options(ctx, &knobs, &vals);

		if (e < 0 && r == 0)
			r = e;
	}
	kt_kvlist_clear(&knobs);
	if (r < 0)
		return r;
	*ret_knobs = vals;
	*ret_cfg = cfg;
	return 0;
}

/* What the section writes statically once the controller's knobs are taken out. */
static void plan(const struct kt_ctx *ctx, enum kt_ksmctl_mode mode, struct kt_ksm_values *knobs,
		 bool quiet)
{
	for (int k = 0; k < KT_KSM_KNOB_MAX; k++) {
		if (!knobs->set[k] || !kt_ksm_mode_owns(mode, k))
			continue;
		if (!quiet)
			kt_warn(ctx, "%s is decided by the controller with mode=%s, ignoring",
				kt_ksm_knob_name(k), mode_name(mode));
		knobs->set[k] = false;
	}
}

int kt_ksm_tuning_apply(struct kt_ctx *ctx, const char *journal, const char *holder,
			const struct kt_kvlist *opts, enum kt_ksmctl_mode default_mode,
			struct kt_ksm_tuning **ret)
{
	struct kt_ksmctl_config cfg;
	struct kt_ksm_values want;
	struct kt_ksm_tuning *t;
	char who[160];
	int r;

	if (!kt_name_is_safe(journal)) {
		kt_err(ctx, "journal name '%s' is invalid: expected 1..64 of [A-Za-z0-9_.-], not "
			    "starting with '.'",
		       journal ? journal : "");
		return -EINVAL;
	}
	r = kt_ksm_options_parse(ctx, opts, default_mode, &want, &cfg);
	if (r < 0)
		return r;
	if (cfg.mode != KT_KSMCTL_STATIC && !kt_ksm_available(ctx)) {
		kt_warn(ctx, "KSM is not available on this kernel (no /%s): no controller, ignoring",
			KT_KSM_DIR);
		cfg.mode = KT_KSMCTL_STATIC;
	}
	plan(ctx, cfg.mode, &want, false);
	/* The kernel advisor refuses pages_to_scan writes: the controller's rate needs it off. */
	if (cfg.mode == KT_KSMCTL_DYNAMIC && !want.set[KT_KSM_ADVISOR_MODE] &&
	    kt_ksm_knob_supported(ctx, KT_KSM_ADVISOR_MODE)) {
		want.set[KT_KSM_ADVISOR_MODE] = true;
		snprintf(want.value[KT_KSM_ADVISOR_MODE], KT_KSM_VALUE_MAX, "none");
	}
	/* The controller's knobs keep their values now, and so enter the journal. */
	for (int k = 0; k < KT_KSM_KNOB_MAX; k++)
		if (!want.set[k] && kt_ksm_mode_owns(cfg.mode, k) && kt_ksm_knob_supported(ctx, k) &&
		    kt_ksm_read(ctx, k, want.value[k]) == 0)
			want.set[k] = true;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->ctx = kt_ctx_ref(ctx);
	t->mode = cfg.mode;
	t->lock_fd = -1;
	snprintf(t->journal, sizeof(t->journal), "%s", journal);
	snprintf(who, sizeof(who), "%s, mode %s", holder ? holder : "kvmtune", mode_name(cfg.mode));
	r = kt_lock_take(ctx, KT_KSM_LOCK, who, journal, &t->lock_fd);
	if (r >= 0)
		r = kt_ksm_tune(ctx, journal, &want, &t->orig);
	if (r >= 0 && cfg.mode != KT_KSMCTL_STATIC) {
		r = kt_ksmctl_runner_new(ctx, &cfg, &t->controller);
		if (r < 0) {
			kt_err(ctx, "cannot set up the KSM controller: %s", strerror(-r));
			kt_ksm_untune(ctx, journal, &t->orig);
		}
	}
	if (r < 0) {
		t->lock_fd = kt_lock_release(t->lock_fd);
		kt_ctx_unref(t->ctx);
		free(t);
		return r;
	}
	*ret = t;
	return 0;
}

struct kt_ksmctl_runner *kt_ksm_tuning_controller(struct kt_ksm_tuning *t)
{
	return t->controller;
}

enum kt_ksmctl_mode kt_ksm_tuning_mode(const struct kt_ksm_tuning *t)
{
	return t->mode;
}

int kt_ksm_tuning_unapply(struct kt_ksm_tuning *t, bool restore)
{
	int r = 0;

	if (!t)
		return 0;
	/* The controller never outlives the tuning, and never writes after the restore. */
	t->controller = kt_ksmctl_runner_free(t->controller);
	if (restore) {
		r = kt_ksm_untune(t->ctx, t->journal, &t->orig);
		if (r < 0)
			kt_err(t->ctx, "cannot restore KSM: %s; the journal /%s/%s.journal keeps the "
				       "originals",
			       strerror(-r), KT_STATE_DIR, t->journal);
	}
	t->lock_fd = kt_lock_release(t->lock_fd);
	kt_ctx_unref(t->ctx);
	free(t);
	return r;
}

int kt_ksm_verify_options(const struct kt_ctx *ctx, const struct kt_kvlist *opts,
			  kt_ksm_verify_fn fn, void *data)
{
	struct kt_ksmctl_config cfg;
	struct kt_ksm_values want;
	int r;

	r = kt_ksm_options_parse(ctx, opts, KT_KSMCTL_STATIC, &want, &cfg);
	if (r < 0)
		return r;
	plan(ctx, cfg.mode, &want, true);
	return kt_ksm_verify(ctx, &want, fn, data);
}

struct name_list {
	char text[512];
};

static int add_name(void *data, const char *name)
{
	struct name_list *l = data;
	size_t len = strlen(l->text);

	snprintf(l->text + len, sizeof(l->text) - len, "%s%s", len ? ", " : "", name);
	return 0;
}

int kt_ksm_restore_journal(const struct kt_ctx *ctx, const char *journal, const char *holder)
{
	struct kt_kvlist kv = KT_KVLIST_INIT;
	struct name_list names = { "" };
	int fd = -1, r;

	if (!kt_name_is_safe(journal)) {
		kt_err(ctx, "journal name '%s' is invalid: expected 1..64 of [A-Za-z0-9_.-], not "
			    "starting with '.'",
		       journal ? journal : "");
		return -EINVAL;
	}
	/* Under the lock: a journal is looked at only by its one writer at a time. */
	r = kt_lock_take(ctx, KT_KSM_LOCK, holder, journal, &fd);
	if (r < 0)
		return r;
	r = kt_journal_read(ctx, journal, &kv);
	kt_kvlist_clear(&kv);
	if (r == -ENOENT) {
		kt_journal_list(ctx, add_name, &names);
		kt_err(ctx, "there is no journal '%s' in /%s; %s%s", journal, KT_STATE_DIR,
		       names.text[0] ? "journals present: " : "none is present",
		       names.text);
	}
	if (r < 0) {
		kt_lock_release(fd);
		return r;
	}
	r = kt_ksm_untune(ctx, journal, NULL);
	if (r < 0)
		kt_err(ctx, "cannot restore KSM from the journal %s: %s", journal, strerror(-r));
	else
		kt_info(ctx, "KSM restored from the journal %s", journal);
	kt_lock_release(fd);
	return r;
}
