// SPDX-License-Identifier: LGPL-2.1-or-later
/* The one place that knows every area's journals: base files know none of them. */
#include <string.h>

#include "hugepages-tuning.h"
#include "iosched.h"
#include "journal.h"
#include "ksm-tuning.h"
#include "lock.h"
#include "pin-tuning.h"
#include "restore.h"

struct area {
	/* Journal names of the area start so: "<plugin type>-<instance>". */
	const char *prefix;
	/* NULL when the lock depends on the journal (one per page size): restore checks it. */
	const char *lock;
	int (*restore)(const struct kt_ctx *ctx, const char *journal, const char *holder);
};

static const struct area areas[] = {
	{ "kvm_ksm-", KT_KSM_LOCK, kt_ksm_restore_journal },
	{ "ksm-watch", KT_KSM_LOCK, kt_ksm_restore_journal },
	{ "kvm_hugepages-", NULL, kt_hp_restore_journal },
	{ KT_PIN_JOURNAL_PREFIX, KT_PIN_LOCK, kt_pin_restore_journal },
	{ KT_PIN_CMD_JOURNAL, KT_PIN_LOCK, kt_pin_restore_journal },
	{ "kvm_iosched-", KT_IOSCHED_LOCK, kt_iosched_restore_journal },
};

static const struct area *area_of(const char *journal)
{
	const struct area *a = NULL;

	for (size_t i = 0; i < KT_ELEMENTSOF(areas); i++)
		if (strncmp(journal, areas[i].prefix, strlen(areas[i].prefix)) == 0)
			a = &areas[i];
	return a;
}

const char *kt_restore_journal_area(const char *journal)
{
	const struct area *a = area_of(journal);

	return a ? a->lock : NULL;
}

struct orphans {
	const struct kt_ctx *ctx;
	const char *holder;
	int restored;
	int error;
};

static int restore_one(void *data, const char *name)
{
	struct orphans *o = data;
	const struct area *a = area_of(name);
	struct kt_lock_info info;
	int r;

	if (!a) {
		kt_warn(o->ctx, "journal %s belongs to nothing this kvmtune tunes, ignoring", name);
		return 0;
	}
	r = a->lock ? kt_lock_holder(o->ctx, a->lock, &info) : 0;
	if (r > 0 && strcmp(info.journal, name) == 0) {
		kt_info(o->ctx, "journal %s is in use by %s (pid %d): left alone", name, info.holder,
			(int)info.pid);
		return 0;
	}
	if (r > 0) {
		kt_warn(o->ctx, "journal %s is not applied, but %s (pid %d) holds %s now: run "
				"'kvmtune restore --orphans' again once that is undone, ignoring",
			name, info.holder, (int)info.pid, a->lock);
		return 0;
	}
	r = a->restore(o->ctx, name, o->holder);
	/* An area that checks its own lock says -EBUSY for a journal in use, logged. */
	if (r == -EBUSY && !a->lock)
		return 0;
	if (r < 0) {
		if (o->error == 0)
			o->error = r;
		return 0;
	}
	o->restored++;
	return 0;
}

int kt_restore_orphans(const struct kt_ctx *ctx, const char *holder)
{
	struct orphans o = { ctx, holder, 0, 0 };
	int r;

	r = kt_journal_list(ctx, restore_one, &o);
	if (r < 0) {
		kt_err(ctx, "cannot list the journals in /%s: %s", KT_STATE_DIR, strerror(-r));
		return r;
	}
	return o.error < 0 ? o.error : o.restored;
}
