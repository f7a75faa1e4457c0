// SPDX-License-Identifier: LGPL-2.1-or-later
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hugepages-tuning.h"
#include "hugetlbfs.h"
#include "io.h"
#include "journal.h"
#include "lock.h"
#include "meminfo.h"
#include "parse.h"
#include "topology.h"
#include "virt.h"

#define GIB (UINT64_C(1) << 30)
#define TIMEOUT_DEFAULT 60

struct kt_hp_tuning {
	struct kt_ctx *ctx;
	char journal[80];
	uint64_t page_kb;
	int lock_fd;
	uint64_t short_pages;
	/* The hugetlbfs mount this tuning made (relative to the root), unmounted on restore. */
	char mounted[128];
	/* Every node's pool before the first change (from the journal when there was one). */
	unsigned n;
	int node[KT_HP_NODES_MAX];
	uint64_t orig[KT_HP_NODES_MAX];
};

const char *const kt_hp_option_names[] = {
	"size", "pages", "headroom", "min_available", "reclaim", "shortfall", "timeout",
	"libvirt_uri", "mount", NULL,
};

static const char *const reclaim_names[] = { "none", "compact", "drop-caches" };
static const char *const shortfall_names[] = { "keep", "release" };

uint64_t kt_hp_min_available_default(uint64_t mem_total)
{
	/* The host's own daemons, QEMU's memory beside guest RAM and some page cache. */
	uint64_t v = mem_total / 20;

	return v < GIB ? GIB : v;
}

static double monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void human(uint64_t bytes, char *buf, size_t size)
{
	if (bytes >= GIB)
		snprintf(buf, size, "%.1f GiB", (double)bytes / (double)GIB);
	else
		snprintf(buf, size, "%.0f MiB", (double)bytes / (1 << 20));
}

static int enum_parse(const char *value, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(value, names[i]) == 0)
			return i;
	return -EINVAL;
}

static int sizes_text(const struct kt_ctx *ctx, char *buf, size_t size)
{
	uint64_t sizes[KT_HP_SIZES_MAX];
	unsigned n;
	size_t len = 0;

	buf[0] = '\0';
	if (kt_hp_sizes(ctx, sizes, &n) < 0) {
		snprintf(buf, size, "none (no hugetlb in this kernel)");
		return 0;
	}
	for (unsigned i = 0; i < n && len < size; i++) {
		char name[16];

		kt_hp_size_name(sizes[i], name, sizeof(name));
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", name);
	}
	return 0;
}

int kt_hp_options_parse(const struct kt_ctx *ctx, const struct kt_kvlist *opts,
			struct kt_hp_options *ret)
{
	struct kt_hp_options o;
	struct kt_meminfo mi = { 0 };
	int r = 0;

	memset(&o, 0, sizeof(o));
	o.pages.kind = KT_HP_PAGES_AUTO;
	o.reclaim = KT_HP_RECLAIM_COMPACT;
	o.shortfall = KT_HP_SHORTFALL_KEEP;
	o.timeout = TIMEOUT_DEFAULT;
	o.mount = true;
	snprintf(o.libvirt_uri, sizeof(o.libvirt_uri), "%s", KT_VIRT_DEFAULT_URI);
	kt_meminfo_read(ctx, &mi);
	for (size_t i = 0; i < opts->n; i++) {
		const char *name = opts->items[i].key, *value = opts->items[i].value;
		const char *allowed = NULL;
		char sizes[128];
		long long v;
		int e = 0;

		if (strcmp(name, "size") == 0) {
			e = kt_hp_size_parse(value, &o.page_kb);
			if (e < 0) {
				allowed = "a page size such as 2M or 1G, or default";
			} else if (o.page_kb && !kt_hp_size_supported(ctx, o.page_kb)) {
				sizes_text(ctx, sizes, sizeof(sizes));
				kt_err(ctx, "size=%s is invalid: this kernel has no pool of that page "
					    "size; it has %s",
				       value, sizes);
				e = -EINVAL;
			}
		} else if (strcmp(name, "pages") == 0) {
			e = kt_hp_pages_parse(value, &o.pages);
			allowed = "auto, a count (4096), a size (8G), a percent of RAM (25%) or "
				  "per node (0:4G,1:4G)";
		} else if (strcmp(name, "headroom") == 0) {
			uint64_t bytes;

			if (kt_parse_int(value, 0, INT64_MAX, &v) == 0) {
				o.headroom = (uint64_t)v;
				o.headroom_bytes = false;
			} else if ((e = kt_parse_size(value, &bytes)) == 0) {
				o.headroom = bytes;
				o.headroom_bytes = true;
			}
			allowed = "a count of pages (512) or a size (1G)";
		} else if (strcmp(name, "min_available") == 0) {
			e = kt_parse_size(value, &o.min_available);
			allowed = "a size (2G)";
			if (e == 0 && mi.mem_total && o.min_available >= mi.mem_total) {
				char total[32];

				human(mi.mem_total, total, sizeof(total));
				kt_err(ctx, "min_available=%s is invalid: it is not below the host's "
					    "memory (%s)",
				       value, total);
				e = -EINVAL;
				allowed = NULL;
			}
			o.min_available_set = e == 0;
		} else if (strcmp(name, "reclaim") == 0) {
			e = enum_parse(value, reclaim_names, KT_HP_RECLAIM_MAX);
			if (e >= 0)
				o.reclaim = e;
			allowed = "none, compact or drop-caches";
		} else if (strcmp(name, "shortfall") == 0) {
			e = enum_parse(value, shortfall_names, KT_HP_SHORTFALL_MAX);
			if (e >= 0)
				o.shortfall = e;
			allowed = "keep or release";
		} else if (strcmp(name, "timeout") == 0) {
			e = kt_parse_int(value, 1, 3600, &v);
			if (e == 0)
				o.timeout = (unsigned)v;
			allowed = "seconds, 1..3600";
		} else if (strcmp(name, "mount") == 0) {
			e = kt_parse_bool(value, &o.mount);
			allowed = "a boolean";
		} else if (strcmp(name, "libvirt_uri") == 0) {
			if (!*value || strlen(value) >= sizeof(o.libvirt_uri))
				e = -EINVAL;
			else
				snprintf(o.libvirt_uri, sizeof(o.libvirt_uri), "%s", value);
			allowed = "a libvirt URI, or none";
		} else {
			kt_err(ctx, "unknown option '%s': expected one of size, pages, headroom, "
				    "min_available, reclaim, shortfall, timeout, libvirt_uri, mount",
			       name);
			e = -EINVAL;
		}
		if (e < 0 && allowed)
			kt_err(ctx, "%s=%s is invalid: expected %s", name, value, allowed);
		if (e < 0 && r == 0)
			r = -EINVAL;
	}
	if (r < 0)
		return r;
	if (!o.page_kb) {
		r = kt_hp_default_kb(ctx, &o.page_kb);
		if (r < 0) {
			kt_err(ctx, "this kernel has no hugepages (no /%s)", KT_HP_DIR);
			return r;
		}
	}
	if (!o.min_available_set)
		o.min_available = kt_hp_min_available_default(mi.mem_total);
	*ret = o;
	return 0;
}

struct dom_acc {
	const struct kt_ctx *ctx;
	uint64_t page_kb;
	uint64_t default_kb;
	struct kt_hp_host *h;
	int error;
};

static int add_domain(void *data, const char *name, const char *xml, bool running)
{
	struct dom_acc *a = data;
	struct kt_hp_domain d, *doms;
	int r;

	(void)running;
	r = kt_hp_domain_parse(xml, strlen(xml), a->page_kb, a->default_kb, &d);
	if (r < 0) {
		kt_err(a->ctx, "the XML of domain %s cannot be read: %s (%s)", name,
		       r == -EBADMSG ? "not well-formed" : "a size, unit or nodeset does not parse",
		       strerror(-r));
		a->error = r == -EBADMSG ? r : -EINVAL;
		return 0;
	}
	if (!d.n)
		return 0;
	doms = realloc(a->h->doms, (a->h->n_doms + 1) * sizeof(*doms));
	if (!doms) {
		a->error = -ENOMEM;
		return -ENOMEM;
	}
	a->h->doms = doms;
	doms[a->h->n_doms++] = d;
	return 0;
}

int kt_hp_host_read(const struct kt_ctx *ctx, uint64_t page_kb, const char *uri,
		    struct kt_hp_host *ret)
{
	struct kt_topology *topo = NULL;
	struct kt_meminfo mi;
	struct kt_hp_host *h = ret;
	int r;

	memset(h, 0, sizeof(*h));
	h->page_kb = page_kb;
	r = kt_hp_read(ctx, -1, page_kb, &h->global);
	if (r < 0)
		return r;
	if (kt_meminfo_read(ctx, &mi) == 0) {
		h->mem_total = mi.mem_total;
		h->mem_available = mi.mem_available;
	}
	r = kt_topology_read(ctx, &topo);
	if (r == 0) {
		for (unsigned i = 0; i < topo->n_nodes && h->n < KT_HP_NODES_MAX; i++) {
			const struct kt_topo_node *tn = &topo->nodes[i];

			if (!kt_hp_node_has_pools(ctx, tn->id))
				continue;
			r = kt_hp_read(ctx, tn->id, page_kb, &h->counts[h->n]);
			if (r < 0) {
				kt_topology_free(topo);
				return r;
			}
			h->nodes[h->n].node = tn->id;
			h->nodes[h->n].mem_total = tn->mem_total;
			h->n++;
		}
		kt_topology_free(topo);
	}
	if (!h->n) {
		/* No per-node pools: the global pool is the one node. */
		h->n = 1;
		h->nodes[0].node = -1;
		h->nodes[0].mem_total = h->mem_total;
		h->counts[0] = h->global;
	}
	for (unsigned i = 0; i < h->n; i++) {
		h->nodes[i].nr = h->counts[i].nr;
		h->nodes[i].in_use = kt_hp_in_use(&h->counts[i]);
	}
	if (uri && strcmp(uri, "none") != 0) {
		struct dom_acc acc = { ctx, page_kb, 0, h, 0 };
		struct kt_virt *v = NULL;
		char *err = NULL;

		if (kt_hp_default_kb(ctx, &acc.default_kb) < 0)
			acc.default_kb = page_kb;
		r = kt_virt_open(uri, &v, &err);
		if (r < 0) {
			snprintf(h->libvirt_error, sizeof(h->libvirt_error), "%s",
				 err ? err : strerror(-r));
			free(err);
			return 0;
		}
		r = kt_virt_each_domain(v, KT_VIRT_RUNNING_OR_AUTOSTART, add_domain, &acc);
		kt_virt_close(v);
		if (r < 0 && !acc.error)
			snprintf(h->libvirt_error, sizeof(h->libvirt_error),
				 "cannot list the domains: %s", strerror(-r));
		if (acc.error < 0) {
			kt_hp_host_clear(h);
			return acc.error;
		}
	}
	return 0;
}

void kt_hp_host_clear(struct kt_hp_host *h)
{
	free(h->doms);
	h->doms = NULL;
	h->n_doms = 0;
}

static void node_name(int node, uint64_t kb, char *buf, size_t size)
{
	char sz[16];

	kt_hp_size_name(kb, sz, sizeof(sz));
	if (node >= 0)
		snprintf(buf, size, "node%d.%s", node, sz);
	else
		snprintf(buf, size, "pool.%s", sz);
}

int kt_hp_host_plan(const struct kt_ctx *ctx, const struct kt_hp_options *opts,
		    const struct kt_hp_host *h, struct kt_hp_plan *ret)
{
	struct kt_hp_plan_input in = {
		.page_kb = h->page_kb,
		.spec = &opts->pages,
		.headroom = opts->headroom,
		.headroom_bytes = opts->headroom_bytes,
		.nodes = h->nodes,
		.n_nodes = h->n,
		.doms = h->doms,
		.n_doms = h->n_doms,
	};
	char why[160] = "";
	int r;

	/* Without NUMA pools a per-node spec may name node 0 only, which is the global pool. */
	struct kt_hp_pages_spec spec = opts->pages;
	struct kt_hp_host_node flat = h->nodes[0];

	if (h->n == 1 && h->nodes[0].node == -1) {
		flat.node = 0;
		in.nodes = &flat;
		if (spec.kind == KT_HP_PAGES_NODES)
			in.spec = &spec;
	}
	r = kt_hp_plan(&in, ret, why, sizeof(why));
	if (r < 0) {
		kt_err(ctx, "pages is invalid for this host: %s", why);
		return r == -ENXIO ? -EINVAL : r;
	}
	if (in.nodes == &flat)
		ret->nodes[0].node = -1;
	if (ret->misplaced)
		kt_warn(ctx, "%u domain(s) name host nodes this host lacks in <numatune>: their "
			     "pages were spread over every node, ignoring",
			ret->misplaced);
	return 0;
}

static int journal_load(const struct kt_ctx *ctx, const char *name, uint64_t kb,
			struct kt_hp_tuning *t)
{
	struct kt_kvlist kv = KT_KVLIST_INIT;
	uint64_t jkb = 0;
	int r;

	r = kt_journal_read(ctx, name, &kv);
	if (r == -ENOENT || r == -EBADMSG)
		return 0;
	if (r < 0)
		return r;
	t->n = 0;
	for (size_t i = 0; i < kv.n; i++) {
		const char *k = kv.items[i].key;
		long long v;
		int node = -1;

		if (strcmp(k, "mounted") == 0) {
			if (kt_path_is_safe(kv.items[i].value))
				snprintf(t->mounted, sizeof(t->mounted), "%s", kv.items[i].value);
			continue;
		}
		if (kt_parse_int(kv.items[i].value, 0, INT64_MAX, &v) < 0)
			continue;
		if (strcmp(k, "size_kb") == 0)
			jkb = (uint64_t)v;
		else if (t->n < KT_HP_NODES_MAX &&
			 (strcmp(k, "global") == 0 || sscanf(k, "node%d", &node) == 1)) {
			t->node[t->n] = strcmp(k, "global") == 0 ? -1 : node;
			t->orig[t->n++] = (uint64_t)v;
		}
	}
	kt_kvlist_clear(&kv);
	if (!jkb || (kb && jkb != kb) || !t->n) {
		kt_warn(ctx, "journal %s is not a hugepage journal of this size, ignoring", name);
		t->n = 0;
		return 0;
	}
	t->page_kb = jkb;
	return 1;
}

static int journal_save(const struct kt_ctx *ctx, const struct kt_hp_tuning *t)
{
	struct kt_kvlist kv = KT_KVLIST_INIT;
	char key[32], value[32];
	int r;

	snprintf(value, sizeof(value), "%llu", (unsigned long long)t->page_kb);
	r = kt_kvlist_set(&kv, "size_kb", value);
	for (unsigned i = 0; i < t->n && r >= 0; i++) {
		if (t->node[i] >= 0)
			snprintf(key, sizeof(key), "node%d", t->node[i]);
		else
			snprintf(key, sizeof(key), "global");
		snprintf(value, sizeof(value), "%llu", (unsigned long long)t->orig[i]);
		r = kt_kvlist_set(&kv, key, value);
	}
	if (r >= 0 && t->mounted[0])
		r = kt_kvlist_set(&kv, "mounted", t->mounted);
	if (r >= 0)
		r = kt_journal_write(ctx, t->journal, &kv);
	kt_kvlist_clear(&kv);
	return r;
}

static const char *lock_area(uint64_t kb, char *buf, size_t size)
{
	snprintf(buf, size, KT_HP_LOCK "-%llukB", (unsigned long long)kb);
	return buf;
}

/*
 * One node's pool to target. The kernel allocates what it can and says nothing: read back,
 * and on a shortfall compact that node and write again while that gains pages, then (when
 * allowed) drop clean page cache once and do the same. Returns the pages obtained.
 */
static uint64_t allocate(const struct kt_ctx *ctx, int node, uint64_t kb, uint64_t target,
			 enum kt_hp_reclaim reclaim, double start, double deadline,
			 const char **ret_how)
{
	struct kt_hp_counts c = { 0 };
	char name[32];
	uint64_t got;
	int r;

	node_name(node, kb, name, sizeof(name));
	*ret_how = "a plain write";
	r = kt_hp_write(ctx, node, kb, target);
	if (r < 0 && r != -ENOMEM)
		kt_dbg(ctx, "%s: writing %llu: %s", name, (unsigned long long)target, strerror(-r));
	got = kt_hp_read(ctx, node, kb, &c) == 0 ? c.nr : 0;
	for (int stage = KT_HP_RECLAIM_COMPACT; stage <= (int)reclaim && got < target; stage++) {
		int idle = 0;

		if (monotonic() >= deadline)
			break;
		if (stage == KT_HP_RECLAIM_DROP_CACHES) {
			struct kt_meminfo before = { 0 }, after = { 0 };

			kt_meminfo_read(ctx, &before);
			r = kt_hp_drop_caches(ctx);
			kt_meminfo_read(ctx, &after);
			kt_info(ctx, "%s: %llu of %llu pages; dropped %.0f MiB of clean page cache",
				name, (unsigned long long)got, (unsigned long long)target,
				before.cached > after.cached
					? (double)(before.cached - after.cached) / (1 << 20)
					: 0.0);
			if (r < 0)
				kt_warn(ctx, "cannot drop caches: %s, ignoring", strerror(-r));
			*ret_how = "dropping clean caches and compaction";
		} else {
			*ret_how = "compaction";
		}
		/* Two rounds in a row without a page gained: this stage has done what it can. */
		while (got < target && idle < 2 && monotonic() < deadline) {
			uint64_t now;

			r = kt_hp_compact(ctx, node);
			if (r < 0)
				kt_dbg(ctx, "%s: compacting: %s", name, strerror(-r));
			kt_hp_write(ctx, node, kb, target);
			now = kt_hp_read(ctx, node, kb, &c) == 0 ? c.nr : got;
			idle = now > got ? 0 : idle + 1;
			got = now;
			if (monotonic() - start > 1.0)
				kt_info(ctx, "%s: %llu of %llu pages after %s", name,
					(unsigned long long)got, (unsigned long long)target,
					*ret_how);
		}
	}
	return got;
}

static void shortfall_message(const struct kt_ctx *ctx, int node, uint64_t kb, uint64_t asked,
			      uint64_t got, const char *how, enum kt_hp_reclaim reclaim)
{
	uint64_t short_bytes = (asked - got) * (kb << 10);
	char name[32], sz[16], short_text[32];
	const char *advice;

	node_name(node, kb, name, sizeof(name));
	kt_hp_size_name(kb, sz, sizeof(sz));
	human(short_bytes, short_text, sizeof(short_text));
	if (reclaim != KT_HP_RECLAIM_DROP_CACHES)
		advice = "memory is fragmented or in use, try reclaim=drop-caches or reserve at "
			 "boot with";
	else
		advice = "the node's memory is in use or fragmented beyond what reclaim frees; "
			 "reserve at boot with";
	kt_err(ctx, "%s %llukB: asked %llu, got %llu after %s; %s short; %s hugepagesz=%s "
		    "hugepages=",
	       name, (unsigned long long)kb, (unsigned long long)asked, (unsigned long long)got,
	       how, short_text, advice, sz);
}

static int put_back(const struct kt_ctx *ctx, const struct kt_hp_tuning *t, bool *ret_exact)
{
	int r = 0;

	*ret_exact = true;
	if (t->mounted[0]) {
		int e = kt_hugetlbfs_umount(ctx, t->mounted);

		if (e == 0)
			kt_info(ctx, "unmounted the hugetlbfs at /%s it had mounted", t->mounted);
		else if (e == -EBUSY) {
			kt_warn(ctx, "the hugetlbfs at /%s stays mounted: running guests use it; the "
				     "journal keeps it to unmount later",
				t->mounted);
			*ret_exact = false;
		} else if (e != -EOPNOTSUPP && e != -EINVAL && e != -ENOENT)
			kt_warn(ctx, "cannot unmount /%s: %s, ignoring", t->mounted, strerror(-e));
	}
	for (unsigned i = 0; i < t->n; i++) {
		struct kt_hp_counts c;
		uint64_t keep, target = t->orig[i];
		char name[32];
		int e;

		node_name(t->node[i], t->page_kb, name, sizeof(name));
		e = kt_hp_read(ctx, t->node[i], t->page_kb, &c);
		if (e < 0) {
			kt_err(ctx, "%s: cannot read the pool: %s", name, strerror(-e));
			r = r ? r : e;
			*ret_exact = false;
			continue;
		}
		/* Pages backing a running guest stay; the kernel would make them surplus. */
		keep = kt_hp_in_use(&c);
		if (target < keep)
			target = keep;
		if (c.nr != target) {
			e = kt_hp_write(ctx, t->node[i], t->page_kb, target);
			if (e < 0 && e != -ENOMEM) {
				kt_err(ctx, "%s: cannot put back %llu pages: %s", name,
				       (unsigned long long)t->orig[i], strerror(-e));
				r = r ? r : e;
				*ret_exact = false;
				continue;
			}
		}
		if (kt_hp_read(ctx, t->node[i], t->page_kb, &c) == 0 && c.nr != t->orig[i]) {
			*ret_exact = false;
			kt_warn(ctx, "%s: %llu pages stay instead of the original %llu: %llu are in use "
				     "by running guests; the journal keeps the original until they are "
				     "freed",
				name, (unsigned long long)c.nr, (unsigned long long)t->orig[i],
				(unsigned long long)keep);
		}
	}
	return r;
}

/*
 * QEMU maps hugepage-backed guest RAM from a hugetlbfs of that page size: one is mounted
 * where none is and the pool holds pages, and journalled so that only kvmtune's own mount
 * is unmounted on restore.
 */
static void mount_if_needed(const struct kt_ctx *ctx, struct kt_hp_tuning *t, bool journalled)
{
	struct kt_hp_counts c;
	char path[128], sz[16];
	uint64_t dflt = t->page_kb;
	int pid, r;

	if (t->mounted[0] || kt_hp_read(ctx, -1, t->page_kb, &c) < 0 || c.nr == 0)
		return;
	kt_hp_default_kb(ctx, &dflt);
	if (kt_hugetlbfs_find(ctx, t->page_kb, dflt, path, sizeof(path)) != 0)
		return;
	kt_hugetlbfs_path(t->page_kb, dflt, path, sizeof(path));
	kt_hp_size_name(t->page_kb, sz, sizeof(sz));
	r = kt_hugetlbfs_mount(ctx, t->page_kb, path);
	if (r == -EOPNOTSUPP) {
		kt_dbg(ctx, "no hugetlbfs is mounted below %s, which is not /: not mounting",
		       kt_ctx_root(ctx));
		return;
	}
	if (r < 0) {
		kt_warn(ctx, "cannot mount a hugetlbfs of %s pages at /%s: %s; guests cannot map "
			     "these pages until one is mounted, ignoring",
			sz, path, strerror(-r));
		return;
	}
	snprintf(t->mounted, sizeof(t->mounted), "%s", path);
	if (journalled && journal_save(ctx, t) < 0)
		kt_warn(ctx, "cannot record the mount at /%s in the journal %s: unmount it by hand "
			     "after a crash, ignoring",
			path, t->journal);
	kt_info(ctx, "mounted a hugetlbfs of %s pages at /%s", sz, path);
	pid = kt_hugetlbfs_libvirt_pid(ctx);
	if (pid > 0)
		kt_warn(ctx, "libvirt (pid %d) looks for hugetlbfs mounts only when it starts: "
			     "restart it before starting guests backed by %s pages",
			pid, sz);
}

int kt_hp_tuning_apply(struct kt_ctx *ctx, const char *journal, const char *holder,
		       const struct kt_kvlist *opts, struct kt_hp_tuning **ret)
{
	struct kt_hp_options o;
	struct kt_hp_host h;
	struct kt_hp_plan plan;
	struct kt_hp_tuning *t;
	uint64_t grow = 0, page_bytes;
	char area[48], sz[16];
	double start, deadline;
	int have = 0, r;

	if (journal && !kt_name_is_safe(journal)) {
		kt_err(ctx, "journal name '%s' is invalid: expected 1..64 of [A-Za-z0-9_.-], not "
			    "starting with '.'",
		       journal);
		return -EINVAL;
	}
	r = kt_hp_options_parse(ctx, opts, &o);
	if (r < 0)
		return r;
	page_bytes = o.page_kb << 10;
	kt_hp_size_name(o.page_kb, sz, sizeof(sz));
	r = kt_hp_host_read(ctx, o.page_kb, o.pages.kind == KT_HP_PAGES_AUTO ? o.libvirt_uri : NULL,
			    &h);
	if (r < 0) {
		if (r != -EBADMSG && r != -EINVAL)
			kt_err(ctx, "cannot read the %s hugepage pools: %s", sz, strerror(-r));
		return r;
	}
	if (h.libvirt_error[0])
		kt_warn(ctx, "pages=auto cannot read the domains from %s: %s; sizing without "
			     "them, ignoring",
			o.libvirt_uri, h.libvirt_error);
	r = kt_hp_host_plan(ctx, &o, &h, &plan);
	if (r < 0) {
		kt_hp_host_clear(&h);
		return r;
	}
	for (unsigned i = 0; i < plan.n; i++)
		if (plan.nodes[i].set && plan.nodes[i].target > h.nodes[i].nr)
			grow += (plan.nodes[i].target - h.nodes[i].nr) * page_bytes;
	if (grow && (grow > h.mem_available || h.mem_available - grow < o.min_available)) {
		char g[32], a[32], m[32];

		human(grow, g, sizeof(g));
		human(h.mem_available, a, sizeof(a));
		human(o.min_available, m, sizeof(m));
		kt_err(ctx, "the %s pools would take %s more, but MemAvailable is %s and "
			    "min_available=%s must stay: lower pages or min_available; nothing "
			    "changed",
		       sz, g, a, m);
		kt_hp_host_clear(&h);
		return -ENOMEM;
	}

	t = calloc(1, sizeof(*t));
	if (!t) {
		kt_hp_host_clear(&h);
		return -ENOMEM;
	}
	t->ctx = kt_ctx_ref(ctx);
	t->lock_fd = -1;
	t->page_kb = o.page_kb;
	snprintf(t->journal, sizeof(t->journal), "%s", journal ? journal : "");
	r = kt_lock_take(ctx, lock_area(o.page_kb, area, sizeof(area)), holder ? holder : "kvmtune",
			 journal, &t->lock_fd);
	if (r >= 0 && journal) {
		have = journal_load(ctx, journal, o.page_kb, t);
		if (have > 0)
			kt_info(ctx, "journal %s from an earlier run holds the original pools: "
				     "keeping them",
				journal);
		r = have < 0 ? have : 0;
	}
	if (r >= 0 && have <= 0)
		t->n = 0;
	/* Nodes the journal of an earlier run does not name keep their values of now. */
	for (unsigned i = 0; r >= 0 && i < plan.n; i++) {
		bool known = false;

		for (unsigned j = 0; j < t->n; j++)
			known |= t->node[j] == plan.nodes[i].node;
		if (plan.nodes[i].set && !known && t->n < KT_HP_NODES_MAX) {
			t->node[t->n] = plan.nodes[i].node;
			t->orig[t->n++] = h.nodes[i].nr;
		}
	}
	if (r >= 0 && journal) {
		r = journal_save(ctx, t);
		if (r < 0)
			kt_err(ctx, "cannot write the journal /%s/%s.journal: %s; nothing was changed",
			       KT_STATE_DIR, journal, strerror(-r));
	}
	if (r < 0) {
		t->lock_fd = kt_lock_release(t->lock_fd);
		kt_ctx_unref(t->ctx);
		free(t);
		kt_hp_host_clear(&h);
		return r;
	}

	start = monotonic();
	deadline = start + o.timeout;
	for (unsigned i = 0; i < plan.n; i++) {
		const struct kt_hp_plan_node *n = &plan.nodes[i];
		const char *how;
		uint64_t got;

		if (!n->set || n->target == h.nodes[i].nr)
			continue;
		if (n->want < n->target) {
			char name[32];

			node_name(n->node, o.page_kb, name, sizeof(name));
			kt_info(ctx, "%s: %llu pages asked, %llu kept: they are in use by running "
				     "guests",
				name, (unsigned long long)n->want, (unsigned long long)n->target);
		}
		got = allocate(ctx, n->node, o.page_kb, n->target, o.reclaim, start, deadline, &how);
		if (got < n->target) {
			if (monotonic() >= deadline)
				how = "the timeout";
			shortfall_message(ctx, n->node, o.page_kb, n->target, got, how, o.reclaim);
			t->short_pages += n->target - got;
		}
	}
	kt_hp_host_clear(&h);
	if (o.mount && !(t->short_pages && o.shortfall == KT_HP_SHORTFALL_RELEASE))
		mount_if_needed(ctx, t, journal != NULL);
	if (t->short_pages && o.shortfall == KT_HP_SHORTFALL_RELEASE) {
		bool exact;

		kt_err(ctx, "shortfall=release: the %s pools are put back as they were", sz);
		put_back(ctx, t, &exact);
		if (journal && exact)
			kt_journal_remove(ctx, journal);
		t->lock_fd = kt_lock_release(t->lock_fd);
		kt_ctx_unref(t->ctx);
		free(t);
		return -ENOMEM;
	}
	if (t->short_pages)
		kt_err(ctx, "the %s pages obtained are kept (shortfall=keep): guests that fit can "
			    "start; the next apply tries again",
		       sz);
	*ret = t;
	return 0;
}

uint64_t kt_hp_tuning_short(const struct kt_hp_tuning *t)
{
	return t->short_pages;
}

int kt_hp_tuning_unapply(struct kt_hp_tuning *t, bool restore)
{
	bool exact = true;
	int r = 0;

	if (!t)
		return 0;
	if (restore && t->journal[0]) {
		r = put_back(t->ctx, t, &exact);
		if (r == 0 && exact)
			kt_journal_remove(t->ctx, t->journal);
		else if (r < 0)
			kt_err(t->ctx, "cannot restore the hugepage pools: %s; the journal "
				       "/%s/%s.journal keeps the originals",
			       strerror(-r), KT_STATE_DIR, t->journal);
	}
	t->lock_fd = kt_lock_release(t->lock_fd);
	kt_ctx_unref(t->ctx);
	free(t);
	return r;
}

int kt_hp_verify_options(const struct kt_ctx *ctx, const struct kt_kvlist *opts,
			 kt_hp_verify_fn fn, void *data)
{
	struct kt_hp_options o;
	struct kt_hp_host h;
	struct kt_hp_plan plan;
	int r;

	r = kt_hp_options_parse(ctx, opts, &o);
	if (r < 0)
		return r;
	r = kt_hp_host_read(ctx, o.page_kb, o.pages.kind == KT_HP_PAGES_AUTO ? o.libvirt_uri : NULL,
			    &h);
	if (r < 0)
		return r;
	r = kt_hp_host_plan(ctx, &o, &h, &plan);
	for (unsigned i = 0; r == 0 && i < plan.n; i++) {
		char name[32], want[32], cur[32];

		if (!plan.nodes[i].set)
			continue;
		node_name(plan.nodes[i].node, o.page_kb, name, sizeof(name));
		snprintf(want, sizeof(want), "%llu", (unsigned long long)plan.nodes[i].target);
		snprintf(cur, sizeof(cur), "%llu", (unsigned long long)h.nodes[i].nr);
		fn(data, name, want, cur, plan.nodes[i].target == h.nodes[i].nr);
	}
	kt_hp_host_clear(&h);
	return r;
}

int kt_hp_restore_journal(const struct kt_ctx *ctx, const char *journal, const char *holder)
{
	struct kt_hp_tuning t;
	struct kt_lock_info info;
	char area[48];
	bool exact;
	int have, fd = -1, r;

	if (!kt_name_is_safe(journal)) {
		kt_err(ctx, "journal name '%s' is invalid: expected 1..64 of [A-Za-z0-9_.-], not "
			    "starting with '.'",
		       journal ? journal : "");
		return -EINVAL;
	}
	memset(&t, 0, sizeof(t));
	have = journal_load(ctx, journal, 0, &t);
	if (have < 0)
		return have;
	if (!have) {
		kt_err(ctx, "there is no hugepage journal '%s' in /%s", journal, KT_STATE_DIR);
		return -ENOENT;
	}
	lock_area(t.page_kb, area, sizeof(area));
	/* The lock is per page size, so the journal says which one to look at. */
	if (kt_lock_holder(ctx, area, &info) > 0 && strcmp(info.journal, journal) == 0) {
		kt_info(ctx, "journal %s is in use by %s (pid %d): left alone", journal, info.holder,
			(int)info.pid);
		return -EBUSY;
	}
	r = kt_lock_take(ctx, area, holder, journal, &fd);
	if (r < 0)
		return r;
	r = put_back(ctx, &t, &exact);
	if (r == 0 && exact) {
		kt_journal_remove(ctx, journal);
		kt_info(ctx, "hugepage pools restored from the journal %s", journal);
	}
	kt_lock_release(fd);
	return r;
}

int kt_hp_status_read(const struct kt_ctx *ctx, uint64_t page_kb, const char *uri,
		      struct kt_hp_host *ret_host, struct kt_hp_plan *ret_auto)
{
	struct kt_hp_options o;
	struct kt_kvlist none = KT_KVLIST_INIT;
	int r;

	r = kt_hp_options_parse(ctx, &none, &o);
	if (r < 0)
		return r;
	r = kt_hp_host_read(ctx, page_kb, uri, ret_host);
	if (r < 0)
		return r;
	r = kt_hp_host_plan(ctx, &o, ret_host, ret_auto);
	if (r < 0)
		kt_hp_host_clear(ret_host);
	return r;
}
