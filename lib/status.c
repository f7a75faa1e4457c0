// SPDX-License-Identifier: LGPL-2.1-or-later
/* What kvmtune manages on a host, who controls it and what the host had before. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "io.h"
#include "iosched.h"
#include "journal.h"
#include "ksm-tuning.h"
#include "pin-domain.h"
#include "restore.h"
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

static struct kt_status_controller *add_controller(struct kt_status *st, const char *area)
{
	struct kt_status_controller *cs, *c;

	cs = realloc(st->controllers, (st->n_controllers + 1) * sizeof(*cs));
	if (!cs)
		return NULL;
	st->controllers = cs;
	c = &cs[st->n_controllers++];
	memset(c, 0, sizeof(*c));
	snprintf(c->area, sizeof(c->area), "%s", area);
	return c;
}

/* The KSM controller's own record of its last decision. */
static int ksm_controller(const struct kt_ctx *ctx, struct kt_status *st)
{
	struct kt_status_controller *c;
	struct kt_ksmctl_statefile sf;
	int r = kt_ksmctl_statefile_read(ctx, &sf);

	if (r == -ENOENT)
		return 0;
	c = add_controller(st, KT_KSM_LOCK);
	if (!c)
		return -ENOMEM;
	if (r < 0) {
		c->error = r;
		c->stale = true;
		return 0;
	}
	c->have_state = true;
	c->state = sf;
	c->decided = sf.decided;
	c->stale = !kt_ksmctl_statefile_alive(ctx, &sf);
	snprintf(c->owner, sizeof(c->owner), "%s", sf.owner);
	return 0;
}

static int add_subject(struct kt_status_controller *c, const char *name, size_t len)
{
	struct kt_status_subject *ss;

	for (unsigned i = 0; i < c->n_subjects; i++)
		if (strlen(c->subjects[i].name) == len &&
		    strncmp(c->subjects[i].name, name, len) == 0)
			return (int)i;
	ss = realloc(c->subjects, (c->n_subjects + 1) * sizeof(*ss));
	if (!ss)
		return -ENOMEM;
	c->subjects = ss;
	memset(&ss[c->n_subjects], 0, sizeof(*ss));
	snprintf(ss[c->n_subjects].name, sizeof(ss->name), "%.*s", (int)len, name);
	return (int)c->n_subjects++;
}

static void add_item(struct kt_status_subject *s, const char *item)
{
	size_t len = strlen(s->items);

	if (len < sizeof(s->items))
		snprintf(s->items + len, sizeof(s->items) - len, "%s%s", len ? ", " : "", item);
}

/*
 * What an event-driven area's journal says it did. Its entries are "<subject>.<item>": a
 * domain's UUID and what kvm_pin replaced of it (with "<uuid>.name" its name; "<uuid>.id"
 * its libvirt id), a device and the queue knob kvm_iosched set; other entries ("uri",
 * "boot_id") describe the run.
 */
static int journal_controller(const struct kt_ctx *ctx, struct kt_status *st,
			      const struct kt_status_journal *j, const char *area)
{
	struct kt_status_controller *c = add_controller(st, area);
	char path[160];
	struct stat sb;

	if (!c)
		return -ENOMEM;
	snprintf(c->journal, sizeof(c->journal), "%s", j->name);
	snprintf(path, sizeof(path), KT_STATE_DIR "/%s.journal", j->name);
	if (kt_stat(ctx, path, &sb) == 0)
		c->decided = (int64_t)sb.st_mtime;
	c->stale = !j->area;
	if (j->area)
		snprintf(c->owner, sizeof(c->owner), "%.*s", (int)sizeof(c->owner) - 1,
			 j->area->info.holder);
	for (size_t k = 0; k < j->kv.n; k++) {
		const char *key = j->kv.items[k].key, *dot = strchr(key, '.');
		int i;

		if (!dot || dot == key || !dot[1])
			continue;
		i = add_subject(c, key, (size_t)(dot - key));
		if (i < 0)
			return i;
		if (strcmp(dot + 1, "name") == 0)
			continue;
		if (strcmp(dot + 1, "id") != 0)
			add_item(&c->subjects[i], dot + 1);
	}
	/* A subject's name entry names it: the UUID is the journal's key only. */
	for (size_t k = 0; k < j->kv.n; k++) {
		const char *key = j->kv.items[k].key, *dot = strchr(key, '.');

		if (!dot || strcmp(dot + 1, "name") != 0)
			continue;
		for (unsigned i = 0; i < c->n_subjects; i++)
			if (strlen(c->subjects[i].name) == (size_t)(dot - key) &&
			    strncmp(c->subjects[i].name, key, (size_t)(dot - key)) == 0)
				snprintf(c->subjects[i].name, sizeof(c->subjects[i].name), "%s",
					 j->kv.items[k].value);
	}
	return 0;
}

static int read_controllers(const struct kt_ctx *ctx, struct kt_status *st)
{
	int r = ksm_controller(ctx, st);

	for (unsigned i = 0; r >= 0 && i < st->n_journals; i++) {
		const struct kt_status_journal *j = &st->journals[i];
		const char *area = kt_restore_journal_area(j->name);

		if (!j->valid || !area ||
		    (strcmp(area, KT_PIN_LOCK) != 0 && strcmp(area, KT_IOSCHED_LOCK) != 0))
			continue;
		r = journal_controller(ctx, st, j, area);
	}
	return r;
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
	if (r >= 0)
		r = read_controllers(ctx, &st);
	if (r < 0) {
		kt_status_clear(&st);
		return r;
	}
	*ret = st;
	return 0;
}

int64_t kt_status_age(int64_t t)
{
	int64_t now = (int64_t)time(NULL);

	return t > 0 && t <= now ? now - t : -1;
}

void kt_status_clear(struct kt_status *st)
{
	for (unsigned i = 0; i < st->n_journals; i++)
		kt_kvlist_clear(&st->journals[i].kv);
	free(st->journals);
	for (unsigned i = 0; i < st->n_controllers; i++)
		free(st->controllers[i].subjects);
	free(st->controllers);
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
