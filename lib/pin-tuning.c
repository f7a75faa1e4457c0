// SPDX-License-Identifier: LGPL-2.1-or-later
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "io.h"
#include "journal.h"
#include "lock.h"
#include "parse.h"
#include "pin-tuning.h"
#include "virt-pin.h"

struct pin_dom {
	char uuid[KT_VIRT_UUID_LEN];
	char name[KT_PIN_NAME_MAX];
	int id;
	/* persist=config writes only definitions there are: a transient domain has none. */
	bool persistent;
	struct kt_pin_request req;
	/* Heap: a placement is a few KiB. */
	struct kt_pin_placement *pl;
	bool valid;
	bool pinned;
	/* Why it is left as it is (logged once per reason), or "". */
	char error[1024];
	/* The values pinning replaced, as kt_virt_pin_save gives them. */
	struct kt_kvlist saved;
};

struct kt_pin_tuning {
	struct kt_ctx *ctx;
	char journal[80];
	int lock_fd;
	struct kt_pin_options o;
	struct kt_topology *topo;
	pthread_mutex_t lock;
	struct pin_dom *doms;
	size_t n, cap;
	/* A killed predecessor's journal: its originals win over what the domains have now. */
	struct kt_kvlist inherited;
	bool synced;
};

static void dom_clear(struct pin_dom *d)
{
	free(d->pl);
	d->pl = NULL;
	kt_kvlist_clear(&d->saved);
}

static void dom_remove(struct kt_pin_tuning *t, size_t i)
{
	dom_clear(&t->doms[i]);
	memmove(&t->doms[i], &t->doms[i + 1], (t->n - i - 1) * sizeof(t->doms[0]));
	t->n--;
}

static struct pin_dom *dom_find(struct kt_pin_tuning *t, const char *uuid)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->doms[i].uuid, uuid) == 0)
			return &t->doms[i];
	return NULL;
}

static int key_of(char *buf, size_t size, const char *uuid, const char *item)
{
	int n = snprintf(buf, size, "%s.%s", uuid, item);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* The journal: every pinned domain's originals, and what a predecessor left unclaimed. */
static int journal_write(struct kt_pin_tuning *t)
{
	struct kt_kvlist kv = KT_KVLIST_INIT;
	char key[128], id[16];
	int r;

	r = kt_kvlist_set(&kv, "uri", t->o.libvirt_uri);
	if (r == 0)
		r = kt_kvlist_set(&kv, "persist", t->o.cfg.persist_config ? "config" : "live");
	for (size_t i = 0; r == 0 && i < t->inherited.n; i++) {
		const char *k = t->inherited.items[i].key;

		if (strcmp(k, "uri") != 0 && strcmp(k, "persist") != 0)
			r = kt_kvlist_set(&kv, k, t->inherited.items[i].value);
	}
	for (size_t i = 0; r == 0 && i < t->n; i++) {
		const struct pin_dom *d = &t->doms[i];

		if (!d->pinned && d->saved.n == 0)
			continue;
		snprintf(id, sizeof(id), "%d", d->id);
		r = key_of(key, sizeof(key), d->uuid, "id");
		if (r == 0)
			r = kt_kvlist_set(&kv, key, id);
		if (r == 0)
			r = key_of(key, sizeof(key), d->uuid, "name");
		if (r == 0)
			r = kt_kvlist_set(&kv, key, d->name);
		for (size_t k = 0; r == 0 && k < d->saved.n; k++) {
			r = key_of(key, sizeof(key), d->uuid, d->saved.items[k].key);
			if (r == 0)
				r = kt_kvlist_set(&kv, key, d->saved.items[k].value);
		}
	}
	if (r == 0)
		r = kt_journal_write(t->ctx, t->journal, &kv);
	kt_kvlist_clear(&kv);
	if (r < 0)
		kt_err(t->ctx, "cannot write the journal /%s/%s.journal: %s", KT_STATE_DIR,
		       t->journal, strerror(-r));
	return r;
}

/* Entries of the list that belong to uuid, without the "<uuid>." prefix. */
static int entries_of(const struct kt_kvlist *kv, const char *uuid, struct kt_kvlist *ret)
{
	size_t len = strlen(uuid);

	for (size_t i = 0; i < kv->n; i++) {
		const char *k = kv->items[i].key;

		if (strncmp(k, uuid, len) != 0 || k[len] != '.')
			continue;
		if (strcmp(k + len + 1, "id") == 0 || strcmp(k + len + 1, "name") == 0)
			continue;
		if (kt_kvlist_set(ret, k + len + 1, kv->items[i].value) < 0)
			return -ENOMEM;
	}
	return 0;
}

static void drop_entries(struct kt_kvlist *kv, const char *uuid)
{
	struct kt_kvlist keep = KT_KVLIST_INIT;
	size_t len = strlen(uuid);

	for (size_t i = 0; i < kv->n; i++)
		if (strncmp(kv->items[i].key, uuid, len) != 0 || kv->items[i].key[len] != '.')
			kt_kvlist_set(&keep, kv->items[i].key, kv->items[i].value);
	kt_kvlist_clear(kv);
	*kv = keep;
}

int kt_pin_options_read(const struct kt_ctx *ctx, const struct kt_kvlist *opts,
			struct kt_topology **ret_topology, struct kt_pin_options *ret)
{
	int r = kt_topology_read(ctx, ret_topology);

	if (r < 0) {
		kt_err(ctx, "cannot read the CPU topology below %s: %s", kt_ctx_root(ctx),
		       strerror(-r));
		*ret_topology = NULL;
		return r;
	}
	return kt_pin_options_parse(ctx, *ret_topology, opts, ret);
}

int kt_pin_tuning_new(struct kt_ctx *ctx, const char *journal, const char *holder,
		      const struct kt_kvlist *opts, struct kt_pin_tuning **ret)
{
	struct kt_pin_tuning *t;
	int r;

	if (!kt_name_is_safe(journal)) {
		kt_err(ctx, "journal name '%s' is invalid: expected 1..64 of [A-Za-z0-9_.-], not "
			    "starting with '.'",
		       journal ? journal : "");
		return -EINVAL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->ctx = kt_ctx_ref(ctx);
	t->lock_fd = -1;
	pthread_mutex_init(&t->lock, NULL);
	snprintf(t->journal, sizeof(t->journal), "%s", journal);
	r = kt_pin_options_read(ctx, opts, &t->topo, &t->o);
	if (r == 0)
		r = kt_lock_take(ctx, KT_PIN_LOCK, holder ? holder : "kvmtune", journal, &t->lock_fd);
	if (r == 0) {
		int e = kt_journal_read(ctx, journal, &t->inherited);

		/* A corrupt journal is reported by the reader and ignored. */
		if (e < 0)
			kt_kvlist_clear(&t->inherited);
		else
			kt_info(ctx, "the journal %s of an earlier run keeps the domains' "
				     "originals: they stay the originals",
				journal);
	}
	if (r < 0) {
		kt_pin_tuning_unapply(t, NULL, false);
		return r;
	}
	*ret = t;
	return 0;
}

const struct kt_pin_options *kt_pin_tuning_options(const struct kt_pin_tuning *t)
{
	return &t->o;
}

const struct kt_topology *kt_pin_tuning_topology(const struct kt_pin_tuning *t)
{
	return t->topo;
}

static void describe(const struct kt_pin_request *req, const struct kt_pin_placement *pl,
		     const struct kt_kvlist *saved, char *buf, size_t size)
{
	char cpus[256], emu[256];
	size_t len = 0;

	if (kt_cpulist_format(&pl->emulator_cpus, emu, sizeof(emu)) < 0)
		snprintf(emu, sizeof(emu), "?");
	if (pl->policy == KT_PIN_SHARED) {
		if (kt_cpulist_format(&pl->shared, cpus, sizeof(cpus)) < 0)
			snprintf(cpus, sizeof(cpus), "?");
		snprintf(buf, size, "shared: %u vCPU%s over CPUs %s, emulator on %s", pl->vcpus,
			 pl->vcpus == 1 ? "" : "s", cpus, emu);
		/* Only what was set: a driver that cannot read cpu_shares does not get them. */
		if (kt_kvlist_get(saved, "cpu_shares"))
			snprintf(buf + strlen(buf), size - strlen(buf), ", cpu_shares %u",
				 req->cpu_shares);
		return;
	}
	len = (size_t)snprintf(buf, size, "dedicated: vCPU");
	for (unsigned v = 0; v < pl->vcpus && len < size; v++)
		len += (size_t)snprintf(buf + len, size - len, " %u->%u", v, pl->vcpu_cpu[v]);
	if (len < size)
		len += (size_t)snprintf(buf + len, size - len, ", emulator%s on %s",
					req->iothreads ? " and iothreads" : "", emu);
	if (pl->mem_move && len < size) {
		char nodes[64];

		if (kt_pin_nodeset_format(&pl->nodes, nodes, sizeof(nodes)) > 0)
			snprintf(buf + len, size - len, ", memory on node %s", nodes);
	}
}

static bool same_placement(const struct kt_pin_placement *a, const struct kt_pin_placement *b)
{
	return a->policy == b->policy && a->vcpus == b->vcpus &&
	       memcmp(a->vcpu_cpu, b->vcpu_cpu, a->vcpus * sizeof(a->vcpu_cpu[0])) == 0 &&
	       memcmp(&a->shared, &b->shared, sizeof(a->shared)) == 0 &&
	       memcmp(&a->emulator_cpus, &b->emulator_cpus, sizeof(a->emulator_cpus)) == 0 &&
	       a->mem_move == b->mem_move && memcmp(&a->nodes, &b->nodes, sizeof(a->nodes)) == 0;
}

static void refuse(struct kt_pin_tuning *t, struct pin_dom *d, const char *why)
{
	/* Each reason once: a guest that cannot fit is not reported at every event. */
	if (strcmp(d->error, why) != 0)
		kt_warn(t->ctx, "domain %s: %s; left as it is", d->name, why);
	snprintf(d->error, sizeof(d->error), "%s", why);
}

/* Whether the predecessor's journal speaks of this run of the domain (not an earlier one). */
static bool inherited_run(struct kt_pin_tuning *t, const struct pin_dom *d)
{
	char key[128], id[16];
	const char *want;

	if (key_of(key, sizeof(key), d->uuid, "id") < 0)
		return false;
	want = kt_kvlist_get(&t->inherited, key);
	snprintf(id, sizeof(id), "%d", d->id);
	return want && strcmp(want, id) == 0;
}

/* Saves the originals (journal first), then pins; anything failing puts them back. */
static int pin_one(struct kt_pin_tuning *t, struct kt_virt *v, struct pin_dom *d,
		   const struct kt_pin_placement *pl)
{
	char skipped[128], text[1024], *err = NULL;
	struct kt_kvlist saved = KT_KVLIST_INIT, before = KT_KVLIST_INIT;
	int r;

	r = kt_virt_pin_save(v, d->uuid, &d->req, pl, &saved, skipped, sizeof(skipped), &err);
	if (r < 0) {
		snprintf(text, sizeof(text), "cannot read its pinning: %s",
			 err ? err : strerror(-r));
		free(err);
		refuse(t, d, text);
		return r;
	}
	if (skipped[0] && !d->pinned)
		kt_warn(t->ctx, "domain %s: this libvirt driver cannot read %s, ignoring", d->name,
			skipped);
	/* What this domain had before anyone pinned it: the saved values of this tuning or of
	 * a killed predecessor, over what it has now. */
	if (d->pinned) {
		before = d->saved;
		d->saved = (struct kt_kvlist)KT_KVLIST_INIT;
	} else if (inherited_run(t, d)) {
		entries_of(&t->inherited, d->uuid, &before);
	}
	for (size_t i = 0; i < before.n; i++)
		kt_kvlist_set(&saved, before.items[i].key, before.items[i].value);
	kt_kvlist_clear(&before);
	kt_kvlist_clear(&d->saved);
	d->saved = saved;
	drop_entries(&t->inherited, d->uuid);
	/* On disk before anything changes: a tuned killed now still restores these. */
	r = journal_write(t);
	if (r == 0)
		r = kt_virt_pin_set(v, d->uuid, &d->req, pl, &d->saved,
				    t->o.cfg.persist_config && d->persistent, &err);
	if (r < 0) {
		char *rerr = NULL;

		snprintf(text, sizeof(text), "cannot pin: %s; put back as it was",
			 err ? err : strerror(-r));
		free(err);
		if (kt_virt_pin_restore(v, d->uuid, &d->saved,
					t->o.cfg.persist_config && d->persistent, &rerr) < 0)
			kt_err(t->ctx, "domain %s: cannot put its pinning back: %s", d->name,
			       rerr ? rerr : "unknown error");
		free(rerr);
		kt_kvlist_clear(&d->saved);
		d->pinned = false;
		journal_write(t);
		refuse(t, d, text);
		return r;
	}
	if (err) {
		kt_warn(t->ctx, "domain %s: its memory stays where it is (%s), ignoring", d->name,
			err);
		free(err);
		err = NULL;
	}
	if (!d->pl)
		d->pl = malloc(sizeof(*d->pl));
	if (!d->pl)
		return -ENOMEM;
	*d->pl = *pl;
	d->pinned = true;
	d->error[0] = '\0';
	describe(&d->req, pl, &d->saved, text, sizeof(text));
	kt_info(t->ctx, "domain %s pinned, %s", d->name, text);
	return 0;
}

/* Plans every known domain (the pinned ones keep their place) and pins what changed. */
static int place_all(struct kt_pin_tuning *t, struct kt_virt *v)
{
	struct kt_pin_request *reqs;
	struct kt_pin_placement *pls;
	size_t *which, n = 0;
	int pinned = 0;

	reqs = calloc(t->n ? t->n : 1, sizeof(*reqs));
	pls = calloc(t->n ? t->n : 1, sizeof(*pls));
	which = calloc(t->n ? t->n : 1, sizeof(*which));
	if (!reqs || !pls || !which) {
		free(reqs);
		free(pls);
		free(which);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->n; i++) {
		if (!t->doms[i].valid)
			continue;
		reqs[n] = t->doms[i].req;
		reqs[n].current = t->doms[i].pinned ? t->doms[i].pl : NULL;
		which[n++] = i;
	}
	kt_pin_plan(t->topo, &t->o.cfg, reqs, n, pls);
	for (size_t k = 0; k < n; k++) {
		struct pin_dom *d = &t->doms[which[k]];

		if (!pls[k].placed) {
			char why[1024];

			snprintf(why, sizeof(why), "cannot be placed: %s", pls[k].reason);
			refuse(t, d, why);
			continue;
		}
		if (d->pinned && same_placement(d->pl, &pls[k])) {
			pinned++;
			continue;
		}
		if (pin_one(t, v, d, &pls[k]) == 0)
			pinned++;
	}
	free(reqs);
	free(pls);
	free(which);
	return pinned;
}

static int add_domain(struct kt_pin_tuning *t, const struct kt_virt_domain *vd)
{
	struct pin_dom *d;
	int r;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct pin_dom *doms = realloc(t->doms, cap * sizeof(*doms));

		if (!doms)
			return -ENOMEM;
		t->doms = doms;
		t->cap = cap;
	}
	d = &t->doms[t->n++];
	memset(d, 0, sizeof(*d));
	snprintf(d->uuid, sizeof(d->uuid), "%s", vd->uuid);
	snprintf(d->name, sizeof(d->name), "%s", vd->name);
	d->id = vd->id;
	d->persistent = vd->persistent;
	/* Bad metadata is logged by the parser, once: the domain is left as it is. */
	r = kt_pin_request_from_xml(t->ctx, &t->o, vd->xml, strlen(vd->xml), &d->req);
	d->valid = r == 0;
	if (r < 0)
		snprintf(d->error, sizeof(d->error), "invalid metadata");
	return r == -ENOMEM ? r : 0;
}

/* A predecessor's entries for domains that no longer run as that run are stale. */
static void drop_stale_inherited(struct kt_pin_tuning *t, const struct kt_virt_domain *doms,
				 size_t n)
{
	struct kt_kvlist keep = KT_KVLIST_INIT;

	for (size_t i = 0; i < t->inherited.n; i++) {
		const char *k = t->inherited.items[i].key, *dot = strchr(k, '.');
		bool live = !dot;

		for (size_t j = 0; dot && j < n && !live; j++) {
			char key[128], id[16];
			const char *want;

			if (strncmp(k, doms[j].uuid, (size_t)(dot - k)) != 0 ||
			    strlen(doms[j].uuid) != (size_t)(dot - k))
				continue;
			key_of(key, sizeof(key), doms[j].uuid, "id");
			want = kt_kvlist_get(&t->inherited, key);
			snprintf(id, sizeof(id), "%d", doms[j].id);
			live = want && strcmp(want, id) == 0;
		}
		if (live)
			kt_kvlist_set(&keep, k, t->inherited.items[i].value);
	}
	kt_kvlist_clear(&t->inherited);
	t->inherited = keep;
}

int kt_pin_tuning_sync(struct kt_pin_tuning *t, struct kt_virt *v)
{
	struct kt_virt_domain *doms = NULL;
	char *err = NULL;
	size_t n = 0;
	int r;

	r = kt_virt_running(v, &doms, &n, &err);
	if (r < 0) {
		kt_err(t->ctx, "cannot list the domains of %s: %s", t->o.libvirt_uri,
		       err ? err : strerror(-r));
		free(err);
		return r;
	}
	pthread_mutex_lock(&t->lock);
	/* Gone, or started again since (another id): its saved values are of a past run. */
	for (size_t i = t->n; i-- > 0;) {
		bool running = false;

		for (size_t j = 0; j < n && !running; j++)
			running = strcmp(doms[j].uuid, t->doms[i].uuid) == 0 &&
				  doms[j].id == t->doms[i].id;
		if (!running)
			dom_remove(t, i);
	}
	for (size_t j = 0; j < n && r == 0; j++)
		if (!dom_find(t, doms[j].uuid))
			r = add_domain(t, &doms[j]);
	drop_stale_inherited(t, doms, n);
	t->synced = true;
	if (r == 0)
		r = place_all(t, v);
	journal_write(t);
	pthread_mutex_unlock(&t->lock);
	kt_virt_domains_free(doms, n);
	return r;
}

int kt_pin_tuning_started(struct kt_pin_tuning *t, struct kt_virt *v, const char *uuid)
{
	struct kt_virt_domain vd;
	struct pin_dom *d;
	char *err = NULL;
	int r;

	r = kt_virt_domain_get(v, uuid, &vd, &err);
	if (r == -ENOENT) {
		free(err);
		return 0;
	}
	if (r < 0) {
		kt_err(t->ctx, "cannot read the domain %s that started: %s", uuid,
		       err ? err : strerror(-r));
		free(err);
		return r;
	}
	pthread_mutex_lock(&t->lock);
	d = dom_find(t, uuid);
	if (d && d->id != vd.id) {
		dom_remove(t, (size_t)(d - t->doms));
		d = NULL;
	}
	r = d ? 0 : add_domain(t, &vd);
	if (r == 0)
		r = place_all(t, v);
	pthread_mutex_unlock(&t->lock);
	kt_virt_domain_clear(&vd);
	return r;
}

void kt_pin_tuning_stopped(struct kt_pin_tuning *t, const char *uuid)
{
	struct pin_dom *d;

	pthread_mutex_lock(&t->lock);
	d = dom_find(t, uuid);
	if (d) {
		bool had = d->pinned;

		if (had)
			kt_info(t->ctx, "domain %s stopped: its CPUs are free", d->name);
		dom_remove(t, (size_t)(d - t->doms));
		drop_entries(&t->inherited, uuid);
		if (had)
			journal_write(t);
	}
	pthread_mutex_unlock(&t->lock);
}

void kt_pin_tuning_on_event(void *data, struct kt_virt *v, enum kt_virt_event ev,
			    const char *uuid)
{
	struct kt_pin_tuning *t = data;

	switch (ev) {
	case KT_VIRT_CONNECTED:
		kt_pin_tuning_sync(t, v);
		break;
	case KT_VIRT_STARTED:
		kt_pin_tuning_started(t, v, uuid);
		break;
	case KT_VIRT_STOPPED:
		kt_pin_tuning_stopped(t, uuid);
		break;
	case KT_VIRT_DISCONNECTED:
	default:
		break;
	}
}

int kt_pin_tuning_verify(struct kt_pin_tuning *t, struct kt_virt *v, kt_pin_verify_fn fn,
			 void *data)
{
	struct kt_cpuset *live = calloc(KT_PIN_VCPU_MAX, sizeof(*live));
	int differ = 0;

	if (!live)
		return -ENOMEM;
	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < t->n; i++) {
		const struct pin_dom *d = &t->doms[i];
		struct kt_cpuset emu, want;
		char what[160], w[512], c[512];
		unsigned n = 0;

		if (!d->pinned || kt_virt_pin_read(v, d->uuid, live, d->pl->vcpus, &n, &emu, NULL) < 0)
			continue;
		for (unsigned k = 0; k < n; k++) {
			if (d->pl->policy == KT_PIN_SHARED) {
				want = d->pl->shared;
			} else {
				kt_cpuset_clear(&want);
				kt_cpuset_add(&want, d->pl->vcpu_cpu[k]);
			}
			kt_cpulist_format(&want, w, sizeof(w));
			kt_cpulist_format(&live[k], c, sizeof(c));
			snprintf(what, sizeof(what), "%s.vcpu%u", d->name, k);
			differ += strcmp(w, c) != 0;
			fn(data, what, w, c, strcmp(w, c) == 0);
		}
		kt_cpulist_format(&d->pl->emulator_cpus, w, sizeof(w));
		kt_cpulist_format(&emu, c, sizeof(c));
		snprintf(what, sizeof(what), "%s.emulator", d->name);
		differ += strcmp(w, c) != 0;
		fn(data, what, w, c, strcmp(w, c) == 0);
	}
	pthread_mutex_unlock(&t->lock);
	free(live);
	return differ;
}

unsigned kt_pin_tuning_pinned(struct kt_pin_tuning *t)
{
	unsigned n = 0;

	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < t->n; i++)
		n += t->doms[i].pinned;
	pthread_mutex_unlock(&t->lock);
	return n;
}

void kt_pin_tuning_each(struct kt_pin_tuning *t, kt_pin_view_fn fn, void *data)
{
	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < t->n; i++) {
		const struct pin_dom *d = &t->doms[i];
		struct kt_pin_domain_view view = { d->name,	    d->uuid,
						   d->pinned,	    d->error[0] ? d->error : NULL,
						   &d->req,	    d->pinned ? d->pl : NULL };

		fn(data, &view);
	}
	pthread_mutex_unlock(&t->lock);
}

/* Whether a journal names any domain: one that names none needs no libvirt to undo. */
static bool names_domains(const struct kt_kvlist *kv)
{
	for (size_t i = 0; i < kv->n; i++) {
		const char *dot = strchr(kv->items[i].key, '.');

		if (dot && strcmp(dot, ".id") == 0)
			return true;
	}
	return false;
}

/* Puts back every domain of a journal's list that still runs as the run it names. */
static int restore_list(const struct kt_ctx *ctx, struct kt_virt *v, const struct kt_kvlist *kv)
{
	bool config = kt_kvlist_get(kv, "persist") && strcmp(kt_kvlist_get(kv, "persist"), "config") == 0;
	int first = 0;

	for (size_t i = 0; i < kv->n; i++) {
		const char *k = kv->items[i].key, *dot = strchr(k, '.');
		struct kt_kvlist saved = KT_KVLIST_INIT;
		struct kt_virt_domain vd;
		char uuid[KT_VIRT_UUID_LEN], *err = NULL;
		const char *name;
		char key[128];
		long long id;
		int r;

		/* One pass per domain: its "<uuid>.id" entry. */
		if (!dot || strcmp(dot, ".id") != 0 || (size_t)(dot - k) >= sizeof(uuid))
			continue;
		snprintf(uuid, sizeof(uuid), "%.*s", (int)(dot - k), k);
		key_of(key, sizeof(key), uuid, "name");
		name = kt_kvlist_get(kv, key) ? kt_kvlist_get(kv, key) : uuid;
		if (kt_parse_int(kv->items[i].value, -1, INT32_MAX, &id) < 0)
			continue;
		r = kt_virt_domain_get(v, uuid, &vd, &err);
		if (r == -ENOENT || (r == 0 && vd.id != (int)id)) {
			kt_info(ctx, "domain %s no longer runs as the run kvmtune pinned: nothing "
				     "to put back",
				name);
			if (r == 0)
				kt_virt_domain_clear(&vd);
			free(err);
			continue;
		}
		if (r < 0) {
			kt_err(ctx, "domain %s: cannot look it up: %s", name, err ? err : strerror(-r));
			free(err);
			if (first == 0)
				first = r;
			continue;
		}
		kt_virt_domain_clear(&vd);
		r = entries_of(kv, uuid, &saved);
		if (r == 0)
			r = kt_virt_pin_restore(v, uuid, &saved, config && vd.persistent, &err);
		kt_kvlist_clear(&saved);
		if (r < 0) {
			kt_err(ctx, "domain %s: cannot put its pinning back: %s", name,
			       err ? err : strerror(-r));
			if (first == 0)
				first = r;
		} else {
			kt_info(ctx, "domain %s: pinning and QoS put back as they were", name);
		}
		free(err);
	}
	return first;
}

static int connect_for(const struct kt_ctx *ctx, const char *uri, struct kt_virt **ret)
{
	char *err = NULL;
	int r = kt_virt_connect(uri, false, ret, &err);

	if (r < 0)
		kt_err(ctx, "cannot connect to %s: %s", uri, err ? err : strerror(-r));
	free(err);
	return r;
}

int kt_pin_tuning_unapply(struct kt_pin_tuning *t, struct kt_virt *v, bool restore)
{
	struct kt_virt *own = NULL;
	int r = 0;

	if (!t)
		return 0;
	pthread_mutex_lock(&t->lock);
	if (restore && t->lock_fd >= 0) {
		struct kt_kvlist kv = KT_KVLIST_INIT;

		/* What the journal says is what goes back, the predecessor's part included. */
		r = journal_write(t);
		if (r == 0)
			r = kt_journal_read(t->ctx, t->journal, &kv);
		if (r == 0 && !v && names_domains(&kv))
			r = connect_for(t->ctx, t->o.libvirt_uri, &own);
		if (r == 0 && names_domains(&kv))
			r = restore_list(t->ctx, v ? v : own, &kv);
		kt_kvlist_clear(&kv);
		if (r == 0)
			kt_journal_remove(t->ctx, t->journal);
		else
			kt_err(t->ctx, "the journal /%s/%s.journal keeps the originals: run "
				       "'kvmtune restore --orphans' once libvirt answers",
			       KT_STATE_DIR, t->journal);
		kt_virt_close(own);
	} else if (t->lock_fd >= 0 && t->synced) {
		journal_write(t);
	}
	for (size_t i = 0; i < t->n; i++)
		dom_clear(&t->doms[i]);
	free(t->doms);
	kt_kvlist_clear(&t->inherited);
	t->lock_fd = kt_lock_release(t->lock_fd);
	pthread_mutex_unlock(&t->lock);
	pthread_mutex_destroy(&t->lock);
	kt_topology_free(t->topo);
	kt_ctx_unref(t->ctx);
	free(t);
	return r;
}

int kt_pin_plan_only(struct kt_ctx *ctx, struct kt_virt *v, const struct kt_kvlist *opts,
		     kt_pin_view_fn fn, void *data, struct kt_topology **ret_topology)
{
	struct kt_pin_tuning t;
	struct kt_virt_domain *doms = NULL;
	struct kt_pin_request *reqs = NULL;
	struct kt_pin_placement *pls = NULL;
	size_t *which = NULL, n = 0, k = 0;
	char *err = NULL;
	int r;

	memset(&t, 0, sizeof(t));
	t.ctx = ctx;
	r = kt_pin_options_read(ctx, opts, &t.topo, &t.o);
	if (r < 0 && !t.topo)
		return r;
	if (r == 0) {
		r = kt_virt_running(v, &doms, &n, &err);
		if (r < 0)
			kt_err(ctx, "cannot list the domains: %s", err ? err : strerror(-r));
		free(err);
	}
	if (r == 0) {
		reqs = calloc(n ? n : 1, sizeof(*reqs));
		pls = calloc(n ? n : 1, sizeof(*pls));
		which = calloc(n ? n : 1, sizeof(*which));
		if (!reqs || !pls || !which)
			r = -ENOMEM;
	}
	for (size_t i = 0; r == 0 && i < n; i++)
		if (kt_pin_request_from_xml(ctx, &t.o, doms[i].xml, strlen(doms[i].xml),
					    &reqs[k]) == 0)
			which[k++] = i;
		else
			fn(data, &(struct kt_pin_domain_view){ doms[i].name, doms[i].uuid, false,
							       "invalid metadata", NULL, NULL });
	if (r == 0) {
		kt_pin_plan(t.topo, &t.o.cfg, reqs, k, pls);
		for (size_t i = 0; i < k; i++) {
			struct kt_pin_domain_view view = {
				doms[which[i]].name, doms[which[i]].uuid, pls[i].placed,
				pls[i].placed ? NULL : pls[i].reason, &reqs[i], &pls[i],
			};

			fn(data, &view);
		}
	}
	free(reqs);
	free(pls);
	free(which);
	kt_virt_domains_free(doms, n);
	if (r == 0 && ret_topology)
		*ret_topology = t.topo;
	else
		kt_topology_free(t.topo);
	return r;
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

int kt_pin_restore_journal(const struct kt_ctx *ctx, const char *journal, const char *holder)
{
	struct kt_kvlist kv = KT_KVLIST_INIT;
	struct name_list names = { "" };
	struct kt_virt *v = NULL;
	int fd = -1, r;

	if (!kt_name_is_safe(journal)) {
		kt_err(ctx, "journal name '%s' is invalid: expected 1..64 of [A-Za-z0-9_.-], not "
			    "starting with '.'",
		       journal ? journal : "");
		return -EINVAL;
	}
	r = kt_journal_read(ctx, journal, &kv);
	if (r == -ENOENT) {
		kt_journal_list(ctx, add_name, &names);
		kt_err(ctx, "there is no journal '%s' in /%s; %s%s", journal, KT_STATE_DIR,
		       names.text[0] ? "journals present: " : "none is present", names.text);
		return r;
	}
	if (r < 0)
		return r;
	r = kt_lock_take(ctx, KT_PIN_LOCK, holder, journal, &fd);
	if (r == 0 && names_domains(&kv))
		r = connect_for(ctx, kt_kvlist_get(&kv, "uri") ? kt_kvlist_get(&kv, "uri")
							       : "qemu:///system",
				&v);
	if (r == 0 && v)
		r = restore_list(ctx, v, &kv);
	if (r == 0) {
		kt_journal_remove(ctx, journal);
		kt_info(ctx, "pinning restored from the journal %s", journal);
	}
	kt_virt_close(v);
	kt_kvlist_clear(&kv);
	kt_lock_release(fd);
	return r;
}
