// SPDX-License-Identifier: LGPL-2.1-or-later
/* What kvmtune manages on a host, who controls it and what the host had before. */
#include <stdio.h>
#include <string.h>

#include "io.h"
#include "journal.h"
#include "ksm-tuning.h"
#include "status.h"

struct list_data {
	const struct kt_ctx *ctx;
	struct kt_status *st;
};

static int one_journal(void *data, const char *name)
{
	struct list_data *ld = data;
	struct kt_status *st = ld->st;
	struct kt_status_journal *j, *js;
	kt_cleanup_free char *text = NULL;
	char path[160];

	js = realloc(st->journals, (st->n_journals + 1) * sizeof(*js));
	if (!js)
		return -ENOMEM;
	st->journals = js;
	j = &js[st->n_journals++];
	memset(j, 0, sizeof(*j));
	snprintf(j->name, sizeof(j->name), "%s", name);
	/* Parsed, not kt_journal_read(): that would move a corrupt journal aside. */
	snprintf(path, sizeof(path), KT_STATE_DIR "/%s.journal", name);
	if (kt_read_file(ld->ctx, path, &text, NULL) < 0)
		j->why = "cannot be read";
	else
		j->valid = kt_journal_parse(text, &j->kv, &j->why) == 0;
	for (unsigned i = 0; i < st->h.n_areas; i++)
		if (st->h.areas[i].held && strcmp(st->h.areas[i].info.journal, name) == 0)
			j->area = &st->h.areas[i];
	return 0;
}

int kt_status_read(const struct kt_ctx *ctx, struct kt_status *ret)
{
	struct kt_status st = {0};
	struct list_data ld = {ctx, &st};
	int r;

	r = kt_host_facts_read(ctx, &st.h);
	if (r < 0)
		return r;
	r = kt_journal_list(ctx, one_journal, &ld);
	if (r < 0) {
		kt_status_clear(&st);
		return r;
	}
	*ret = st;
	return 0;
}

void kt_status_clear(struct kt_status *st)
{
	for (unsigned i = 0; i < st->n_journals; i++)
		kt_kvlist_clear(&st->journals[i].kv);
	free(st->journals);
	kt_host_facts_clear(&st->h);
	memset(st, 0, sizeof(*st));
}

const char *kt_status_current(const struct kt_status *st, const struct kt_status_journal *j,
			      const char *key)
{
	enum kt_ksm_knob k;

	if (!j->area || strcmp(j->area->area, KT_KSM_LOCK) != 0)
		return NULL;
	k = kt_ksm_knob_from_name(key);
	if (k < 0 || !st->h.ksm.knobs.set[k])
		return NULL;
	return st->h.ksm.knobs.value[k];
}

const char *kt_status_ksm_state(const struct kt_ksm_status *k)
{
	if (!k->available)
		return "unavailable";
	if (!k->knobs.set[KT_KSM_RUN])
		return "unknown";
	switch (k->knobs.value[KT_KSM_RUN][0]) {
	case '0':
		return "stopped";
	case '1':
		return "running";
	case '2':
		return "unmerged";
	default:
		return "unknown";
	}
}
