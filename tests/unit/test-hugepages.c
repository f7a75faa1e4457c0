// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Hugepage pools: pages= and domain XML sizing as pure functions, then a kvm_hugepages
 * section on fixture trees (tests/fixtures/numa2-2m1g-6.18, numa4-6.18) under a fake kernel
 * that gives fewer pages than asked until compaction or dropped caches free more.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "io.h"
#include "hugepages-tuning.h"
#include "journal.h"
#include "lock.h"
#include "restore.h"

#define N0_2M "sys/devices/system/node/node0/hugepages/hugepages-2048kB/"
#define N1_2M "sys/devices/system/node/node1/hugepages/hugepages-2048kB/"
#define G_2M "sys/kernel/mm/hugepages/hugepages-2048kB/"
#define KB_1G 1048576

static struct kt_kvlist opts_of(const char *const *pairs)
{
	struct kt_kvlist opts = KT_KVLIST_INIT;

	for (; pairs[0]; pairs += 2)
		assert_int_equal(kt_kvlist_set(&opts, pairs[0], pairs[1]), 0);
	return opts;
}

static void test_pages_parse(void **state)
{
	static const struct {
		const char *text;
		int r;
		enum kt_hp_pages_kind kind;
		uint64_t value;
	} cases[] = {
		{ "auto", 0, KT_HP_PAGES_AUTO, 0 },
		{ " AUTO ", 0, KT_HP_PAGES_AUTO, 0 },
		{ "4096", 0, KT_HP_PAGES_COUNT, 4096 },
		{ "0", 0, KT_HP_PAGES_COUNT, 0 },
		{ "8G", 0, KT_HP_PAGES_SIZE, UINT64_C(8) << 30 },
		{ "512MiB", 0, KT_HP_PAGES_SIZE, UINT64_C(512) << 20 },
		{ "25%", 0, KT_HP_PAGES_PERCENT, 25 },
		{ "0:4G,1:2048", 0, KT_HP_PAGES_NODES, 2 },
		{ "-1", -EINVAL, 0, 0 },
		{ "", -EINVAL, 0, 0 },
		{ "lots", -EINVAL, 0, 0 },
		{ "101%", -ERANGE, 0, 0 },
		{ "0:", -EINVAL, 0, 0 },
		{ "0:1G,0:2G", -EINVAL, 0, 0 },
		{ "x:1G", -EINVAL, 0, 0 },
		{ "1024:1G", -EINVAL, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(cases); i++) {
		struct kt_hp_pages_spec spec;
		int r = kt_hp_pages_parse(cases[i].text, &spec);

		if (cases[i].r == 0) {
			assert_int_equal(r, 0);
			assert_int_equal(spec.kind, cases[i].kind);
			if (spec.kind == KT_HP_PAGES_NODES)
				assert_int_equal(spec.n, cases[i].value);
			else
				assert_int_equal(spec.value, cases[i].value);
		} else if (r == 0) {
			fail_msg("pages=%s was accepted", cases[i].text);
		}
	}
	{
		struct kt_hp_pages_spec spec;

		assert_int_equal(kt_hp_pages_parse("0:4G,1:2048", &spec), 0);
		assert_true(spec.nodes[0].bytes);
		assert_int_equal(spec.nodes[0].value, UINT64_C(4) << 30);
		assert_false(spec.nodes[1].bytes);
		assert_int_equal(spec.nodes[1].value, 2048);
	}
}

static char *slurp(const char *name, size_t *len)
{
	char path[256];
	FILE *f;
	char *buf = calloc(1, 65536);

	assert_non_null(buf);
	snprintf(path, sizeof(path), "tests/unit/domains/%s", name);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	*len = fread(buf, 1, 65535, f);
	fclose(f);
	return buf;
}

/* "node:pages;..." of a domain's needs, in their order. */
static void needs_text(const struct kt_hp_domain *d, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < d->n; i++)
		len += (size_t)snprintf(buf + len, size - len, "%d:%llu;", d->needs[i].node,
					(unsigned long long)d->needs[i].pages);
}

static void test_domain_needs(void **state)
{
	static const struct {
		const char *file;
		uint64_t page_kb;
		int r;
		const char *needs;
	} cases[] = {
		/* No <page>: the default size, no numatune: anywhere. */
		{ "plain.xml", 2048, 0, "-1:1024;" },
		{ "plain.xml", KB_1G, 0, "" },
		/* Cell 0 (2 GiB of 1G pages) on host node 1 by memnode; cell 1 by <memory>. */
		{ "cells-nodeset.xml", KB_1G, 0, "1:2;" },
		{ "cells-nodeset.xml", 2048, 0, "0:256;1:256;" },
		/* Cell 1's 1536 pages split over nodes 1 and 3. */
		{ "numatune-memnode.xml", 2048, 0, "2:512;1:768;3:768;" },
		{ "pages-1g.xml", KB_1G, 0, "0:3;" },
		{ "pages-1g.xml", 2048, 0, "" },
		{ "no-hugepages.xml", 2048, 0, "" },
		{ "bad-unit.xml", 2048, -EINVAL, "" },
	};

	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(cases); i++) {
		struct kt_hp_domain d;
		char got[256];
		size_t len;
		char *xml = slurp(cases[i].file, &len);
		int r = kt_hp_domain_parse(xml, len, cases[i].page_kb, 2048, &d);

		free(xml);
		if (r != cases[i].r)
			fail_msg("%s at %llukB: %d, expected %d", cases[i].file,
				 (unsigned long long)cases[i].page_kb, r, cases[i].r);
		if (r < 0)
			continue;
		needs_text(&d, got, sizeof(got));
		if (strcmp(got, cases[i].needs) != 0)
			fail_msg("%s at %llukB: needs %s, expected %s", cases[i].file,
				 (unsigned long long)cases[i].page_kb, got, cases[i].needs);
	}
	{
		struct kt_hp_domain d;

		assert_int_equal(kt_hp_domain_parse("<domain>", 8, 2048, 2048, &d), -EBADMSG);
	}
}

static void test_plan(void **state)
{
	static const struct kt_hp_host_node two[] = {
		{ 0, UINT64_C(12) << 30, 512, 256 },
		{ 1, UINT64_C(12) << 30, 0, 0 },
	};
	static const struct {
		const char *pages;
		unsigned headroom;
		bool with_domains;
		int r;
		uint64_t target0, target1;
		bool set1;
	} cases[] = {
		/* plain (1024 anywhere) + cells (256 + 256): spread evenly on top. */
		{ "auto", 0, true, 0, 768, 768, true },
		{ "auto", 3, true, 0, 770, 769, true },
		{ "auto", 0, false, 0, 256, 0, true },
		{ "1001", 0, false, 0, 501, 500, true },
		{ "1G", 0, false, 0, 256, 256, true },
		{ "10%", 0, false, 0, 614, 614, true },
		/* Node 0 keeps its 256 pages in use; node 1 is left alone. */
		{ "0:0", 0, false, 0, 256, 0, false },
		{ "1:1G", 0, false, 0, 512, 512, true },
		{ "2:1G", 0, false, -ENXIO, 0, 0, false },
	};

	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(cases); i++) {
		struct kt_hp_domain doms[2];
		struct kt_hp_pages_spec spec;
		struct kt_hp_plan plan;
		char why[128] = "";
		size_t len;
		char *xml;
		int r;

		xml = slurp("plain.xml", &len);
		assert_int_equal(kt_hp_domain_parse(xml, len, 2048, 2048, &doms[0]), 0);
		free(xml);
		xml = slurp("cells-nodeset.xml", &len);
		assert_int_equal(kt_hp_domain_parse(xml, len, 2048, 2048, &doms[1]), 0);
		free(xml);
		assert_int_equal(kt_hp_pages_parse(cases[i].pages, &spec), 0);
		{
			struct kt_hp_plan_input in = {
				.page_kb = 2048,
				.spec = &spec,
				.headroom = cases[i].headroom,
				.nodes = two,
				.n_nodes = 2,
				.doms = doms,
				.n_doms = cases[i].with_domains ? 2 : 0,
			};

			r = kt_hp_plan(&in, &plan, why, sizeof(why));
		}
		if (r != cases[i].r)
			fail_msg("pages=%s: %d (%s), expected %d", cases[i].pages, r, why, cases[i].r);
		if (r < 0) {
			assert_non_null(strstr(why, "node 2"));
			continue;
		}
		if (plan.nodes[0].target != cases[i].target0 ||
		    plan.nodes[1].target != cases[i].target1 || plan.nodes[1].set != cases[i].set1)
			fail_msg("pages=%s: %llu/%llu (set %d), expected %llu/%llu", cases[i].pages,
				 (unsigned long long)plan.nodes[0].target,
				 (unsigned long long)plan.nodes[1].target, plan.nodes[1].set,
				 (unsigned long long)cases[i].target0,
				 (unsigned long long)cases[i].target1);
	}
}

static uint64_t pool(struct fixture *f, const char *rel)
{
	return strtoull(fixture_read(f, rel), NULL, 10);
}

static void test_apply_journal_restore(void **state)
{
	static const char *const pairs[] = { "size", "2M", "pages", "0:1G,1:1G", "libvirt_uri",
					     "none", NULL };
	struct fixture *f = fixture_open("numa2-2m1g-6.18");
	struct kt_kvlist opts = opts_of(pairs);
	struct kt_hp_tuning *t = NULL;
	struct kt_kvlist kv = KT_KVLIST_INIT;

	(void)state;
	fake_kernel_reset(false);
	assert_int_equal(kt_hp_tuning_apply(f->ctx, "kvm_hugepages-hp2m", "test", &opts, &t), 0);
	assert_int_equal(pool(f, N0_2M "nr_hugepages"), 512);
	assert_int_equal(pool(f, N1_2M "nr_hugepages"), 512);
	assert_int_equal(pool(f, G_2M "nr_hugepages"), 1024);
	assert_int_equal(kt_hp_tuning_short(t), 0);
	assert_int_equal(f->errors, 0);
	/* The originals of both nodes are on disk before anything changed. */
	assert_int_equal(kt_journal_read(f->ctx, "kvm_hugepages-hp2m", &kv), 0);
	assert_string_equal(kt_kvlist_get(&kv, "size_kb"), "2048");
	assert_string_equal(kt_kvlist_get(&kv, "node0"), "512");
	assert_string_equal(kt_kvlist_get(&kv, "node1"), "0");
	kt_kvlist_clear(&kv);
	/* Node 0 already held 512: only node 1 was written, and a hugetlbfs mounted. */
	assert_int_equal(fake_kernel.n, 2);
	assert_int_equal(fake_kernel_find("mount=dev/hugepages"), 1);
	assert_int_equal(kt_hp_tuning_unapply(t, true), 0);
	assert_int_equal(pool(f, N0_2M "nr_hugepages"), 512);
	assert_int_equal(pool(f, N1_2M "nr_hugepages"), 0);
	assert_int_equal(kt_journal_read(f->ctx, "kvm_hugepages-hp2m", &kv), -ENOENT);
	kt_kvlist_clear(&opts);
	fixture_close(f);
}

/* A killed tuned comes back with another spec: the journal's originals stay, new nodes join. */
static void test_journal_of_an_earlier_run(void **state)
{
	static const char *const first[] = { "pages", "1:100", "libvirt_uri", "none", NULL };
	static const char *const second[] = { "pages", "0:600,1:50", "libvirt_uri", "none", NULL };
	struct fixture *f = fixture_open("numa2-2m1g-6.18");
	struct kt_kvlist o1 = opts_of(first), o2 = opts_of(second), kv = KT_KVLIST_INIT;
	struct kt_hp_tuning *t = NULL;

	(void)state;
	fake_kernel_reset(false);
	assert_int_equal(kt_hp_tuning_apply(f->ctx, "kvm_hugepages-x", "test", &o1, &t), 0);
	assert_int_equal(kt_hp_tuning_unapply(t, false), 0);
	assert_int_equal(kt_hp_tuning_apply(f->ctx, "kvm_hugepages-x", "test", &o2, &t), 0);
	assert_non_null(strstr(f->log, "journal kvm_hugepages-x from an earlier run holds the "
					"original pools"));
	assert_int_equal(kt_journal_read(f->ctx, "kvm_hugepages-x", &kv), 0);
	assert_string_equal(kt_kvlist_get(&kv, "node1"), "0");
	assert_string_equal(kt_kvlist_get(&kv, "node0"), "512");
	kt_kvlist_clear(&kv);
	assert_int_equal(kt_hp_tuning_unapply(t, true), 0);
	assert_int_equal(pool(f, N0_2M "nr_hugepages"), 512);
	assert_int_equal(pool(f, N1_2M "nr_hugepages"), 0);
	kt_kvlist_clear(&o1);
	kt_kvlist_clear(&o2);
	fixture_close(f);
}

static void test_in_use_is_never_taken(void **state)
{
	static const char *const pairs[] = { "pages", "0", "libvirt_uri", "none", NULL };
	struct fixture *f = fixture_open("numa2-2m1g-6.18");
	struct kt_kvlist opts = opts_of(pairs);
	struct kt_hp_tuning *t = NULL;

	(void)state;
	fake_kernel_reset(false);
	assert_int_equal(kt_hp_tuning_apply(f->ctx, "kvm_hugepages-x", "test", &opts, &t), 0);
	/* 256 of node 0's pages back a guest: they stay, and the log says why. */
	assert_int_equal(pool(f, N0_2M "nr_hugepages"), 256);
	assert_int_equal(pool(f, N0_2M "free_hugepages"), 0);
	assert_non_null(strstr(f->log, "node0.2M: 0 pages asked, 256 kept: they are in use"));
	assert_int_equal(kt_hp_tuning_unapply(t, true), 0);
	assert_int_equal(pool(f, N0_2M "nr_hugepages"), 512);
	kt_kvlist_clear(&opts);
	fixture_close(f);
}

/* A guest takes pages while the profile is applied: rollback leaves them and says so. */
static void test_rollback_keeps_pages_in_use(void **state)
{
	static const char *const pairs[] = { "pages", "1:100", "libvirt_uri", "none", NULL };
	struct fixture *f = fixture_open("numa2-2m1g-6.18");
	struct kt_kvlist opts = opts_of(pairs), kv = KT_KVLIST_INIT;
	struct kt_hp_tuning *t = NULL;

	(void)state;
	fake_kernel_reset(false);
	assert_int_equal(kt_hp_tuning_apply(f->ctx, "kvm_hugepages-x", "test", &opts, &t), 0);
	fixture_write(f, N1_2M "free_hugepages", "40");
	assert_int_equal(kt_hp_tuning_unapply(t, true), 0);
	assert_int_equal(pool(f, N1_2M "nr_hugepages"), 60);
	assert_non_null(strstr(f->log, "node1.2M: 60 pages stay instead of the original 0: 60 "
					"are in use"));
	/* The journal keeps the original for when the guest is gone. */
	assert_int_equal(kt_journal_read(f->ctx, "kvm_hugepages-x", &kv), 0);
	kt_kvlist_clear(&kv);
	fixture_write(f, N1_2M "free_hugepages", "60");
	assert_int_equal(kt_restore_orphans(f->ctx, "test"), 1);
	assert_int_equal(pool(f, N1_2M "nr_hugepages"), 0);
	assert_int_equal(kt_journal_read(f->ctx, "kvm_hugepages-x", &kv), -ENOENT);
	kt_kvlist_clear(&opts);
	fixture_close(f);
}

static void set_capacity(struct fixture *f, const char *node_dir, const char *cap,
			 const char *compact_gain, const char *drop_gain)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "%sfake_capacity", node_dir);
	fixture_write(f, rel, cap);
	snprintf(rel, sizeof(rel), "%sfake_compact_gain", node_dir);
	fixture_write(f, rel, compact_gain);
	snprintf(rel, sizeof(rel), "%sfake_drop_gain", node_dir);
	fixture_write(f, rel, drop_gain);
}

#define N2_2M "sys/devices/system/node/node2/hugepages/hugepages-2048kB/"

static void test_allocation_retries(void **state)
{
	static const struct {
		const char *reclaim;
		const char *shortfall;
		const char *compact_gain, *drop_gain;
		int r;
		uint64_t got;
		bool dropped;
		const char *message;
	} cases[] = {
		/* Compaction alone reaches it: no cache is dropped. */
		{ "compact", "keep", "50", "0", 0, 300, false, NULL },
		{ "drop-caches", "keep", "50", "0", 0, 300, false, NULL },
		{ "none", "keep", "50", "0", 0, 100, false,
		  "node2.2M 2048kB: asked 300, got 100 after a plain write; 400 MiB short; memory "
		  "is fragmented or in use, try reclaim=drop-caches or reserve at boot with "
		  "hugepagesz=2M hugepages=" },
		/* Compaction gains nothing; dropped caches free enough. */
		{ "compact", "keep", "0", "500", 0, 100, false,
		  "node2.2M 2048kB: asked 300, got 100 after compaction; 400 MiB short" },
		{ "drop-caches", "keep", "0", "500", 0, 300, true, NULL },
		{ "drop-caches", "keep", "0", "0", 0, 100, true,
		  "asked 300, got 100 after dropping clean caches and compaction" },
		/* release: what was obtained goes back, and the apply fails. */
		{ "compact", "release", "0", "0", -ENOMEM, 0, false, "shortfall=release" },
	};

	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(cases); i++) {
		const char *pairs[] = { "pages", "2:300", "libvirt_uri", "none", "reclaim",
					cases[i].reclaim, "shortfall", cases[i].shortfall, NULL };
		struct fixture *f = fixture_open("numa4-6.18");
		struct kt_kvlist opts = opts_of(pairs);
		struct kt_hp_tuning *t = NULL;
		int r;

		set_capacity(f, N2_2M, "100", cases[i].compact_gain, cases[i].drop_gain);
		fake_kernel_reset(false);
		r = kt_hp_tuning_apply(f->ctx, "kvm_hugepages-x", "test", &opts, &t);
		if (r != cases[i].r || pool(f, N2_2M "nr_hugepages") != cases[i].got ||
		    (fake_kernel_find("drop_caches=1") >= 0) != cases[i].dropped ||
		    (cases[i].message && !strstr(f->log, cases[i].message)))
			fail_msg("case %zu: r=%d, %s pages, log:\n%s", i, r,
				 fixture_read(f, N2_2M "nr_hugepages"), f->log);
		if (cases[i].got < 300 && cases[i].r == 0)
			assert_int_equal(kt_hp_tuning_short(t), 300 - cases[i].got);
		kt_hp_tuning_unapply(t, true);
		assert_int_equal(pool(f, N2_2M "nr_hugepages"), 0);
		kt_kvlist_clear(&opts);
		fixture_close(f);
	}
}

static void test_bad_input_changes_nothing(void **state)
{
	static const struct {
		const char *name, *value, *message;
	} cases[] = {
		{ "pages", "-1", "pages=-1 is invalid: expected auto, a count" },
		{ "size", "3M", "size=3M is invalid: this kernel has no pool of that page size; it "
				"has 2M, 1G" },
		{ "size", "huge", "size=huge is invalid: expected a page size" },
		{ "pages", "5:1G", "pages is invalid for this host: node 5 does not exist" },
		{ "min_available", "100T", "min_available=100T is invalid: it is not below the "
					   "host's memory (24.0 GiB)" },
		{ "reclaim", "always", "reclaim=always is invalid: expected none, compact or "
				       "drop-caches" },
		{ "timeout", "0", "timeout=0 is invalid" },
		{ "colour", "blue", "unknown option 'colour'" },
		/* 22.4 GiB more would leave less than the 1.2 GiB min_available. */
		{ "pages", "12000", "the 2M pools would take 22.4 GiB more, but MemAvailable is 23.5 "
				  "GiB and min_available=1.2 GiB must stay" },
	};

	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(cases); i++) {
		const char *pairs[] = { cases[i].name, cases[i].value, "libvirt_uri", "none", NULL };
		struct fixture *f = fixture_open("numa2-2m1g-6.18");
		struct kt_kvlist opts = opts_of(pairs), kv = KT_KVLIST_INIT;
		struct kt_hp_tuning *t = NULL;
		int r;

		fake_kernel_reset(false);
		r = kt_hp_tuning_apply(f->ctx, "kvm_hugepages-x", "test", &opts, &t);
		if (r >= 0 || f->errors != 1 || !strstr(f->log, cases[i].message))
			fail_msg("%s=%s: r=%d, %d errors, log:\n%s", cases[i].name, cases[i].value, r,
				 f->errors, f->log);
		assert_int_equal(fake_kernel.n, 0);
		assert_int_equal(kt_journal_read(f->ctx, "kvm_hugepages-x", &kv), -ENOENT);
		kt_kvlist_clear(&opts);
		fixture_close(f);
	}
}

static void check_verify(void *data, const char *name, const char *want, const char *current,
			 bool ok)
{
	char *buf = data;
	size_t len = strlen(buf);

	snprintf(buf + len, 512 - len, "%s=%s/%s/%d;", name, want, current, ok);
}

static void test_verify_and_sizes_side_by_side(void **state)
{
	static const char *const p2m[] = { "pages", "1000", "libvirt_uri", "none", NULL };
	static const char *const p1g[] = { "size", "1G", "pages", "1:2G", "libvirt_uri", "none",
					   NULL };
	struct fixture *f = fixture_open("numa2-2m1g-6.18");
	struct kt_kvlist o2 = opts_of(p2m), o1 = opts_of(p1g);
	struct kt_hp_tuning *t2 = NULL, *t1 = NULL, *again = NULL;
	char seen[512] = "";

	(void)state;
	fake_kernel_reset(false);
	assert_int_equal(kt_hp_tuning_apply(f->ctx, "kvm_hugepages-a", "test", &o2, &t2), 0);
	/* A 1G section has a lock of its own; a second 2M section does not get one. */
	assert_int_equal(kt_hp_tuning_apply(f->ctx, "kvm_hugepages-b", "test", &o1, &t1), 0);
	assert_int_equal(kt_hp_tuning_apply(f->ctx, "kvm_hugepages-c", "test", &o2, &again),
			 -EBUSY);
	assert_int_equal(kt_hp_verify_options(f->ctx, &o2, check_verify, seen), 0);
	assert_string_equal(seen, "node0.2M=500/500/1;node1.2M=500/500/1;");
	seen[0] = '\0';
	fixture_write(f, "sys/devices/system/node/node1/hugepages/hugepages-1048576kB/nr_hugepages",
		      "1");
	assert_int_equal(kt_hp_verify_options(f->ctx, &o1, check_verify, seen), 0);
	assert_string_equal(seen, "node1.1G=2/1/0;");
	/* Orphans: journals whose lock is held are left alone. */
	assert_int_equal(kt_restore_orphans(f->ctx, "test"), 0);
	assert_non_null(strstr(f->log, "journal kvm_hugepages-a is in use by test"));
	assert_int_equal(kt_hp_tuning_unapply(t1, false), 0);
	assert_int_equal(kt_hp_tuning_unapply(t2, true), 0);
	/* t1 was dropped without restoring (a killed tuned): orphans puts it back. */
	assert_int_equal(kt_restore_orphans(f->ctx, "test"), 1);
	assert_int_equal(pool(f, "sys/devices/system/node/node1/hugepages/hugepages-1048576kB/"
				 "nr_hugepages"),
			 0);
	assert_int_equal(pool(f, N0_2M "nr_hugepages"), 512);
	kt_kvlist_clear(&o2);
	kt_kvlist_clear(&o1);
	fixture_close(f);
}

static void test_sizes(void **state)
{
	struct fixture *f = fixture_open("numa2-2m1g-6.18");
	uint64_t sizes[KT_HP_SIZES_MAX], kb = 0;
	unsigned n = 0;
	char name[16];

	(void)state;
	assert_int_equal(kt_hp_sizes(f->ctx, sizes, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(sizes[0], 2048);
	assert_int_equal(sizes[1], KB_1G);
	assert_int_equal(kt_hp_default_kb(f->ctx, &kb), 0);
	assert_int_equal(kb, 2048);
	kt_hp_size_name(KB_1G, name, sizeof(name));
	assert_string_equal(name, "1G");
	assert_int_equal(kt_hp_size_parse("2048kB", &kb), 0);
	assert_int_equal(kb, 2048);
	assert_int_equal(kt_hp_size_parse("3000", &kb), -EINVAL);
	fixture_close(f);
}

/* pages=auto through a real libvirt connection: the test driver serves two domains. */
static void test_auto_from_libvirt(void **state)
{
	struct fixture *f = fixture_open("numa2-2m1g-6.18");
	struct kt_hp_tuning *t2 = NULL, *t1 = NULL;
	char cwd[512], uri[700];
	const char *p2m[] = { "libvirt_uri", uri, "mount", "no", NULL };
	const char *p1g[] = { "size", "1G", "libvirt_uri", uri, "mount", "no", NULL };
	struct kt_kvlist o2, o1;

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(uri, sizeof(uri), "test://%s/tests/unit/domains/libvirt-test-node.xml", cwd);
	o2 = opts_of(p2m);
	o1 = opts_of(p1g);
	fake_kernel_reset(false);
	/* hp-plain's 1024 pages are spread; hp-1g's three 1G pages go to node 1. */
	assert_int_equal(kt_hp_tuning_apply(f->ctx, "kvm_hugepages-a", "test", &o2, &t2), 0);
	assert_int_equal(pool(f, N0_2M "nr_hugepages"), 512);
	assert_int_equal(pool(f, N1_2M "nr_hugepages"), 512);
	assert_int_equal(kt_hp_tuning_apply(f->ctx, "kvm_hugepages-b", "test", &o1, &t1), 0);
	assert_int_equal(pool(f, "sys/devices/system/node/node1/hugepages/hugepages-1048576kB/"
				 "nr_hugepages"),
			 3);
	/* Node 0's 1G page is not needed by any domain: auto frees it. */
	assert_int_equal(pool(f, "sys/devices/system/node/node0/hugepages/hugepages-1048576kB/"
				 "nr_hugepages"),
			 0);
	assert_int_equal(f->errors, 0);
	kt_hp_tuning_unapply(t1, true);
	kt_hp_tuning_unapply(t2, true);
	assert_int_equal(pool(f, "sys/devices/system/node/node0/hugepages/hugepages-1048576kB/"
				 "nr_hugepages"),
			 1);
	/* libvirt unreachable: auto sizes without domains, and says so. */
	fixture_clear_log(f);
	kt_kvlist_clear(&o2);
	snprintf(uri, sizeof(uri), "qemu+unix:///system?socket=/nonexistent/kvmtune.sock");
	o2 = opts_of(p2m);
	assert_int_equal(kt_hp_tuning_apply(f->ctx, "kvm_hugepages-a", "test", &o2, &t2), 0);
	assert_non_null(strstr(f->log, "pages=auto cannot read the domains from qemu+unix:///system?socket=/nonexistent"));
	kt_hp_tuning_unapply(t2, true);
	kt_kvlist_clear(&o2);
	kt_kvlist_clear(&o1);
	fixture_close(f);
}

static void test_hugetlbfs_mount(void **state)
{
	static const char *const p2m[] = { "pages", "1:100", "libvirt_uri", "none", NULL };
	static const char *const p1g[] = { "size", "1G", "pages", "1:1", "libvirt_uri", "none",
					   NULL };
	struct fixture *f = fixture_open("numa2-2m1g-6.18");
	struct kt_kvlist o2 = opts_of(p2m), o1 = opts_of(p1g), kv = KT_KVLIST_INIT;
	struct kt_hp_tuning *t2 = NULL, *t1 = NULL;

	(void)state;
	fake_kernel_reset(false);
	/* A running libvirtd has to be told: it looks for mounts only when it starts. */
	assert_int_equal(kt_mkdir_p(f->ctx, "run", 0755), 0);
	assert_int_equal(kt_mkdir_p(f->ctx, "proc/4242", 0755), 0);
	fixture_write(f, "run/libvirtd.pid", "4242");
	assert_int_equal(kt_hp_tuning_apply(f->ctx, "kvm_hugepages-a", "test", &o2, &t2), 0);
	assert_true(fake_kernel_find("mount=dev/hugepages") >= 0);
	assert_non_null(strstr(f->log, "mounted a hugetlbfs of 2M pages at /dev/hugepages"));
	assert_non_null(strstr(f->log, "libvirt (pid 4242) looks for hugetlbfs mounts only when "
					"it starts: restart it before starting guests backed by 2M "
					"pages"));
	assert_int_equal(kt_journal_read(f->ctx, "kvm_hugepages-a", &kv), 0);
	assert_string_equal(kt_kvlist_get(&kv, "mounted"), "dev/hugepages");
	kt_kvlist_clear(&kv);
	/* 1G has a mount point of its own; an existing mount is used as it is. */
	fixture_clear_log(f);
	assert_int_equal(kt_hp_tuning_apply(f->ctx, "kvm_hugepages-b", "test", &o1, &t1), 0);
	assert_true(fake_kernel_find("mount=dev/hugepages1G") >= 0);
	assert_int_equal(kt_hp_tuning_unapply(t1, false), 0);
	fake_kernel_reset(false);
	assert_int_equal(kt_hp_tuning_apply(f->ctx, "kvm_hugepages-b", "test", &o1, &t1), 0);
	assert_int_equal(fake_kernel_find("mount=dev/hugepages1G"), -1);
	/* A guest maps it: the mount stays, and the journal with it. */
	fake_kernel.umount_busy = true;
	assert_int_equal(kt_hp_tuning_unapply(t2, true), 0);
	assert_non_null(strstr(f->log, "the hugetlbfs at /dev/hugepages stays mounted"));
	assert_int_equal(kt_journal_read(f->ctx, "kvm_hugepages-a", &kv), 0);
	kt_kvlist_clear(&kv);
	fake_kernel.umount_busy = false;
	assert_int_equal(kt_restore_orphans(f->ctx, "test"), 1);
	assert_true(fake_kernel_find("umount=dev/hugepages") >= 0);
	assert_int_equal(kt_journal_read(f->ctx, "kvm_hugepages-a", &kv), -ENOENT);
	/* Only what kvmtune mounted is unmounted. */
	assert_int_equal(kt_hp_tuning_unapply(t1, true), 0);
	assert_true(fake_kernel_find("umount=dev/hugepages1G") >= 0);
	assert_null(strstr(fixture_read(f, "proc/self/mounts"), "hugetlbfs"));
	kt_kvlist_clear(&o2);
	kt_kvlist_clear(&o1);
	fixture_close(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pages_parse),
		cmocka_unit_test(test_domain_needs),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_apply_journal_restore),
		cmocka_unit_test(test_journal_of_an_earlier_run),
		cmocka_unit_test(test_in_use_is_never_taken),
		cmocka_unit_test(test_rollback_keeps_pages_in_use),
		cmocka_unit_test(test_allocation_retries),
		cmocka_unit_test(test_bad_input_changes_nothing),
		cmocka_unit_test(test_verify_and_sizes_side_by_side),
		cmocka_unit_test(test_hugetlbfs_mount),
		cmocka_unit_test(test_auto_from_libvirt),
	};

	return cmocka_run_group_tests_name("hugepages", tests, host_guard_setup, host_guard_teardown);
}
