// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * kvm_iosched on tests/fixtures/iosched-6.18 (made by make-iosched.sh): parsers, the chain
 * from each guest disk down to the devices beneath it, the policy by class, and apply with
 * lock, journal and an exact rollback. The guests come from libvirt's test driver.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "iosched.h"
#include "journal.h"
#include "lock.h"
#include "restore.h"

#define FIXTURE "iosched-6.18"
#define Q(dev, knob) "sys/class/block/" dev "/queue/" knob

static void test_list_parse(void **state)
{
	static const struct {
		const char *text;
		int r;
		unsigned n;
		const char *current;
	} cases[] = {
		{ "mq-deadline [none] bfq", 0, 3, "none" },
		{ "[none] mq-deadline kyber bfq \n", 0, 4, "none" },
		{ "none", 0, 1, "none" },
		{ "mq-deadline none", 0, 2, NULL },
		{ "[none]", 0, 1, "none" },
		{ "none [mq-deadline] kyber bfq", 0, 4, "mq-deadline" },
		{ "", -EINVAL, 0, NULL },
		{ "   ", -EINVAL, 0, NULL },
		{ "[none] [bfq]", -EINVAL, 0, NULL },
		{ "[] none", -EINVAL, 0, NULL },
		{ "[none", -EINVAL, 0, NULL },
		{ "none none", -EINVAL, 0, NULL },
		{ "../x", -EINVAL, 0, NULL },
		{ "None", -EINVAL, 0, NULL },
		{ "a b c d e f g h i", -EINVAL, 0, NULL },
		{ "abcdefghijklmnopqrstuvwxyz0123456789", -EINVAL, 0, NULL },
	};

	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(cases); i++) {
		struct kt_iosched_list l;
		int r = kt_iosched_list_parse(cases[i].text, &l);

		if (r != cases[i].r)
			fail_msg("'%s': %d, expected %d", cases[i].text, r, cases[i].r);
		if (r < 0)
			continue;
		assert_int_equal(l.n, cases[i].n);
		if (cases[i].current)
			assert_string_equal(l.name[l.current], cases[i].current);
		else
			assert_int_equal(l.current, -1);
	}
}

static void test_names(void **state)
{
	static const struct {
		const char *name;
		bool valid;
	} cases[] = {
		{ "sda", true },	 { "nvme0n1p2", true }, { "dm-0", true },
		{ "cciss!c0d0", true },	 { "", false },		{ ".", false },
		{ "..", false },	 { "../sda", false },	{ "sda/queue", false },
		{ "sd a", false },	 { "sda\n", false },	{ "sd\x01", false },
		{ "\xc3\xa9", false }, { "0123456789012345678901234567890123", false },
	};

	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(cases); i++)
		if (kt_iosched_dev_name_valid(cases[i].name) != cases[i].valid)
			fail_msg("'%s' should be %s", cases[i].name, cases[i].valid ? "valid" : "invalid");
}

static void test_overrides_parse(void **state)
{
	static const struct {
		const char *text;
		int r;
		const char *first;
	} cases[] = {
		{ "sdb:bfq", 0, "sdb=bfq" },
		{ "  /dev/sdb:bfq, nvme0n1:keep", 0, "sdb=bfq" },
		{ "sdb:bfq,sdc:none sdd:kyber", 0, "sdb=bfq" },
		{ "", 0, NULL },
		{ "sdb", -EINVAL, NULL },
		{ "sdb:", -EINVAL, NULL },
		{ ":bfq", -EINVAL, NULL },
		{ "../sda:none", -EINVAL, NULL },
		{ "/dev/../sda:none", -EINVAL, NULL },
		{ "/dev/mapper/x:none", -EINVAL, NULL },
		{ "sdb:BFQ", -EINVAL, NULL },
		{ "sdb:bfq sdb:none", -EINVAL, NULL },
	};

	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(cases); i++) {
		struct kt_iosched_override o[4];
		unsigned n = 99;
		int r = kt_iosched_overrides_parse(cases[i].text, o, 4, &n);
		char first[80];

		if (r != cases[i].r)
			fail_msg("'%s': %d, expected %d", cases[i].text, r, cases[i].r);
		if (r < 0 || !cases[i].first)
			continue;
		snprintf(first, sizeof(first), "%s=%s", o[0].device, o[0].scheduler);
		assert_string_equal(first, cases[i].first);
	}
}

static void test_bad_options(void **state)
{
	static const struct {
		const char *name, *value, *message;
	} cases[] = {
		{ "hdd_scheduler", "../x", "hdd_scheduler=../x is invalid: expected a scheduler name" },
		{ "ssd_scheduler", "auto", "ssd_scheduler=auto is invalid" },
		{ "nr_requests", "2", "nr_requests=2 is invalid: expected an integer 4..65536" },
		{ "read_ahead_kb", "-1", "read_ahead_kb=-1 is invalid" },
		{ "rq_affinity", "3", "rq_affinity=3 is invalid: expected 0 (complete anywhere)" },
		{ "bfq_guests", "0", "bfq_guests=0 is invalid" },
		{ "overrides", "sdb", "overrides=sdb is invalid: expected DEVICE:SCHEDULER" },
		{ "include_defined", "maybe", "include_defined=maybe is invalid: expected a boolean" },
		{ "libvirt_uri", "", "libvirt_uri= is invalid" },
		{ "elevator", "bfq", "unknown option 'elevator' (value bfq)" },
	};
	struct fixture *f = fixture_open(FIXTURE);

	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(cases); i++) {
		struct kt_kvlist opts = KT_KVLIST_INIT;
		struct kt_iosched_config cfg;

		fixture_clear_log(f);
		assert_int_equal(kt_kvlist_set(&opts, cases[i].name, cases[i].value), 0);
		assert_int_equal(kt_iosched_options_parse(f->ctx, &opts, &cfg), -EINVAL);
		if (!strstr(f->log, cases[i].message))
			fail_msg("%s=%s logged '%s'", cases[i].name, cases[i].value, f->log);
		assert_int_equal(f->errors, 1);
		kt_kvlist_clear(&opts);
	}
	fixture_close(f);
}

struct sources {
	char text[1024];
};

static int add_source(void *data, const struct kt_iosched_source *src)
{
	static const char *const types[] = { "file", "block", "dir", "other" };
	struct sources *s = data;
	size_t len = strlen(s->text);

	snprintf(s->text + len, sizeof(s->text) - len, "%s%s:%s:%s:%u", len ? " " : "", src->target,
		 types[src->type], src->path, src->backing);
	return 0;
}

static void test_domain_sources(void **state)
{
	static const struct {
		const char *xml;
		int r;
		const char *sources;
	} cases[] = {
		{ "<domain><name>a</name><devices>"
		  "<disk type='file'><source file='/i/a.qcow2'/><target dev='vda'/>"
		  "<backingStore type='block'><source dev='/dev/sdb'/><backingStore type='file'>"
		  "<source file='/i/base'/></backingStore></backingStore></disk>"
		  "<disk type='block'><source dev='/dev/sdc'/><target dev='vdb'/></disk>"
		  "<disk type='network'><source protocol='rbd' name='p/x'/><target dev='vdc'/></disk>"
		  "<disk type='volume'><source pool='default' volume='v'/><target dev='vdd'/></disk>"
		  "<disk type='file' device='cdrom'><target dev='hdc'/></disk>"
		  "<disk type='dir'><source dir='/srv/fat'/><target dev='hdd'/></disk>"
		  "</devices></domain>",
		  0,
		  "vda:file:/i/a.qcow2:0 vda:block:/dev/sdb:1 vda:file:/i/base:2 "
		  "vdb:block:/dev/sdc:0 vdc:other:network rbd:0 vdd:other:volume:0 hdd:dir:/srv/fat:0" },
		{ "<domain><name>b</name></domain>", 0, "" },
		{ "<domain><name>c</name><devices><disk type='file'><source file=''/>"
		  "<target dev='vda'/></disk></devices></domain>",
		  0, "" },
		{ "<network><name>x</name></network>", -EBADMSG, "" },
		{ "<domain><name>d", -EBADMSG, "" },
		{ "", -EINVAL, "" },
	};

	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(cases); i++) {
		struct sources s = { "" };
		char *name = NULL;
		int r = kt_iosched_domain_sources(cases[i].xml, strlen(cases[i].xml), &name,
						  add_source, &s);

		if (r != cases[i].r && !(cases[i].r == -EINVAL && r == -EBADMSG))
			fail_msg("case %zu: %d, expected %d", i, r, cases[i].r);
		assert_string_equal(s.text, cases[i].sources);
		free(name);
	}
}

/* Every domain of the fixture's libvirt-node.xml, through libvirt's test driver. */
static void fixture_opts(struct fixture *f, struct kt_kvlist *opts, const char *const *pairs)
{
	char uri[600];

	snprintf(uri, sizeof(uri), "test://%s/libvirt-node.xml", f->root);
	assert_int_equal(kt_kvlist_set(opts, "libvirt_uri", uri), 0);
	for (; pairs && pairs[0]; pairs += 2)
		assert_int_equal(kt_kvlist_set(opts, pairs[0], pairs[1]), 0);
}

static const struct kt_iosched_device *find(const struct kt_iosched_plan *p, const char *name)
{
	for (size_t i = 0; i < p->n_devices; i++)
		if (strcmp(p->devices[i].name, name) == 0)
			return &p->devices[i];
	return NULL;
}

/* "web1/vdb: dm-0 >md0 >>sdb1 >>>sdb >>sdc1 >>>sdc" */
static void chain_of(const struct kt_iosched_plan *p, const char *domain, const char *target,
		     unsigned backing, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < p->n_disks; i++) {
		const struct kt_iosched_disk *d = &p->disks[i];

		if (strcmp(d->domain, domain) != 0 || strcmp(d->target, target) != 0 ||
		    d->backing != backing)
			continue;
		for (size_t n = d->first_node; n < d->first_node + d->n_nodes; n++) {
			len += (size_t)snprintf(buf + len, size - len, "%s%.*s%s", len ? " " : "",
						(int)p->nodes[n].depth, ">>>>>>>>>>>>",
						p->devices[p->nodes[n].device].name);
		}
		if (d->note[0])
			snprintf(buf + len, size - len, "%s(%s)", len ? " " : "", d->note);
		return;
	}
	snprintf(buf, size, "(no such disk)");
}

static void test_chains(void **state)
{
	static const struct {
		const char *domain, *target;
		unsigned backing;
		const char *chain;
	} cases[] = {
		{ "web1", "vda", 0, "nvme0n1p1 >nvme0n1" },
		{ "web1", "vda", 1, "nvme0n1p1 >nvme0n1" },
		{ "web1", "vdb", 0, "dm-0 >md0 >>sdb1 >>>sdb >>sdc1 >>>sdc" },
		{ "web1", "vdc", 0, "loop0 >sdd1 >>sdd" },
		{ "web1", "vdd", 0,
		  "(/var/lib/libvirt/images/onbtrfs.qcow2 is on device 0:45, which is no block "
		  "device (btrfs, tmpfs, NFS or another filesystem without one of its own))" },
		{ "web1", "vde", 0, "(network rbd disk: no host block device to tune, skipped)" },
		{ "db1", "vda", 0, "sda" },
		{ "db1", "vdb", 0, "dm-1 >nvme0n1p2 >>nvme0n1" },
		{ "batch2", "vda", 0, "sdd1 >sdd" },
		{ "off1", "vda", 0, "sde" },
	};
	static const char *const pairs[] = { "include_defined", "yes", NULL };
	struct fixture *f = fixture_open(FIXTURE);
	struct kt_kvlist opts = KT_KVLIST_INIT;
	struct kt_iosched_config cfg;
	struct kt_iosched_plan plan;
	char chain[512];

	(void)state;
	fixture_opts(f, &opts, pairs);
	assert_int_equal(kt_iosched_options_parse(f->ctx, &opts, &cfg), 0);
	assert_int_equal(kt_iosched_plan_load(f->ctx, &cfg, 0, &plan), 0);
	for (size_t i = 0; i < KT_ELEMENTSOF(cases); i++) {
		chain_of(&plan, cases[i].domain, cases[i].target, cases[i].backing, chain,
			 sizeof(chain));
		if (strcmp(chain, cases[i].chain) != 0)
			fail_msg("%s/%s: '%s', expected '%s'", cases[i].domain, cases[i].target, chain,
				 cases[i].chain);
	}
	/* The empty CD-ROM is no disk to resolve; the loop device says what it holds. */
	chain_of(&plan, "web1", "sda", 0, chain, sizeof(chain));
	assert_string_equal(chain, "(no such disk)");
	assert_int_equal(f->errors, 0);
	kt_iosched_plan_clear(&plan);
	kt_kvlist_clear(&opts);
	fixture_close(f);
}

struct want {
	const char *device;
	enum kt_iosched_class cls;
	unsigned guests;
	const char *want;
};

static void check_plan(struct fixture *f, const char *const *pairs, const struct want *wants,
		       size_t n, const char *const *absent)
{
	struct kt_kvlist opts = KT_KVLIST_INIT;
	struct kt_iosched_config cfg;
	struct kt_iosched_plan plan;

	fixture_opts(f, &opts, pairs);
	assert_int_equal(kt_iosched_options_parse(f->ctx, &opts, &cfg), 0);
	if (kt_iosched_plan_load(f->ctx, &cfg, 0, &plan) != 0)
		fail_msg("plan refused: %s", f->log);
	for (size_t i = 0; i < n; i++) {
		const struct kt_iosched_device *d = find(&plan, wants[i].device);

		if (!d)
			fail_msg("%s is not in the plan", wants[i].device);
		if (d->cls != wants[i].cls || d->guests != wants[i].guests ||
		    strcmp(d->want, wants[i].want) != 0)
			fail_msg("%s: %s, %u guests, wants '%s' (%s); expected %s, %u, '%s'", d->name,
				 kt_iosched_class_name(d->cls), d->guests, d->want, d->why,
				 kt_iosched_class_name(wants[i].cls), wants[i].guests, wants[i].want);
	}
	for (; absent && *absent; absent++)
		if (find(&plan, *absent))
			fail_msg("%s backs no guest but is in the plan", *absent);
	kt_iosched_plan_clear(&plan);
	kt_kvlist_clear(&opts);
}

static void test_policy(void **state)
{
	static const struct want defaults[] = {
		{ "nvme0n1", KT_IOSCHED_NVME, 2, "none" },
		{ "nvme0n1p1", KT_IOSCHED_PARTITION, 1, "" },
		{ "sda", KT_IOSCHED_SSD, 1, "none" },
		{ "dm-0", KT_IOSCHED_DM, 1, "" },
		{ "md0", KT_IOSCHED_MD, 1, "" },
		{ "sdb", KT_IOSCHED_HDD, 1, "mq-deadline" },
		{ "sdc", KT_IOSCHED_HDD, 1, "mq-deadline" },
		{ "loop0", KT_IOSCHED_LOOP, 1, "none" },
		/* web1 through loop0, and batch1-3: four guests share it. */
		{ "sdd", KT_IOSCHED_HDD, 4, "bfq" },
	};
	static const char *const unused[] = { "sde", "sdf", "loop1", NULL };
	static const char *const explicit[] = { "hdd_scheduler", "kyber", "bfq_guests", "2",
						"overrides", "sda:keep /dev/sdf:kyber loop0:bfq",
						"include_defined", "1", NULL };
	static const struct want explicit_wants[] = {
		{ "sda", KT_IOSCHED_SSD, 1, "" },
		{ "sdb", KT_IOSCHED_HDD, 1, "kyber" },
		{ "sdd", KT_IOSCHED_HDD, 4, "kyber" },
		{ "sde", KT_IOSCHED_HDD, 1, "kyber" },
		/* An override tunes a device that backs no guest. */
		{ "sdf", KT_IOSCHED_HDD, 0, "kyber" },
		{ "loop0", KT_IOSCHED_LOOP, 1, "bfq" },
	};
	static const char *const few[] = { "bfq_guests", "5", NULL };
	static const struct want few_wants[] = { { "sdd", KT_IOSCHED_HDD, 4, "mq-deadline" } };
	struct fixture *f = fixture_open(FIXTURE);

	(void)state;
	check_plan(f, NULL, defaults, KT_ELEMENTSOF(defaults), unused);
	check_plan(f, explicit, explicit_wants, KT_ELEMENTSOF(explicit_wants), NULL);
	check_plan(f, few, few_wants, KT_ELEMENTSOF(few_wants), NULL);
	assert_int_equal(f->errors, 0);
	fixture_close(f);
}

/* Every queue file of the fixture, to compare before and after. */
static void snapshot(struct fixture *f, char *buf, size_t size)
{
	static const char *const devs[] = { "nvme0n1", "sda", "sdb", "sdc", "sdd",  "sde",
					    "sdf",     "md0", "dm-0", "dm-1", "loop0", "loop1" };
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < KT_ELEMENTSOF(devs); i++)
		for (int k = 0; k < KT_IOSCHED_KNOB_MAX; k++) {
			char path[128];

			snprintf(path, sizeof(path), "sys/class/block/%s/queue/%s", devs[i],
				 kt_iosched_knob_name(k));
			len += (size_t)snprintf(buf + len, size - len, "%s=%s\n", path,
						fixture_read(f, path));
		}
}

static void test_apply_and_rollback(void **state)
{
	static const char *const pairs[] = { "nr_requests", "32", "read_ahead_kb", "1024", NULL };
	struct fixture *f = fixture_open(FIXTURE);
	struct kt_kvlist opts = KT_KVLIST_INIT, journal = KT_KVLIST_INIT;
	struct kt_iosched_tuning *t = NULL;
	struct kt_lock_info info;
	char before[8192], after[8192];

	(void)state;
	fixture_opts(f, &opts, pairs);
	snapshot(f, before, sizeof(before));
	fake_kernel_reset(true);
	assert_int_equal(kt_iosched_tuning_apply(f->ctx, "kvm_iosched-a", "tuned instance a", &opts,
						 &t),
			 0);
	assert_int_equal(f->errors, 0);
	assert_string_equal(fixture_read(f, Q("sda", "scheduler")), "mq-deadline kyber bfq [none]");
	assert_string_equal(fixture_read(f, Q("sdd", "scheduler")), "mq-deadline kyber [bfq] none");
	assert_string_equal(fixture_read(f, Q("sdb", "scheduler")), "[mq-deadline] kyber bfq none");
	assert_string_equal(fixture_read(f, Q("nvme0n1", "scheduler")),
			    "[none] mq-deadline kyber bfq");
	assert_string_equal(fixture_read(f, Q("loop0", "scheduler")), "[none] mq-deadline kyber bfq");
	/* nr_requests after the scheduler, which resets it. */
	assert_string_equal(fixture_read(f, Q("sda", "nr_requests")), "32");
	for (int i = 0; i < fake_kernel.n; i++)
		if (strncmp(fake_kernel.writes[i], "scheduler=", 10) == 0)
			assert_string_equal(fake_kernel.writes[i + 1], "nr_requests=32");
	assert_string_equal(fixture_read(f, Q("sdd", "read_ahead_kb")), "1024");
	/* Stacked devices and devices that back no guest are left alone. */
	assert_string_equal(fixture_read(f, Q("dm-0", "read_ahead_kb")), "128");
	assert_string_equal(fixture_read(f, Q("sde", "scheduler")), "mq-deadline kyber bfq [none]");
	assert_string_equal(fixture_read(f, Q("sdf", "nr_requests")), "64");
	assert_int_equal(kt_iosched_tuning_devices(t), 6);

	assert_int_equal(kt_journal_read(f->ctx, "kvm_iosched-a", &journal), 0);
	assert_string_equal(kt_kvlist_get(&journal, "sda.scheduler"), "mq-deadline");
	assert_string_equal(kt_kvlist_get(&journal, "sda.nr_requests"), "64");
	assert_string_equal(kt_kvlist_get(&journal, "nvme0n1.nr_requests"), "1023");
	assert_string_equal(kt_kvlist_get(&journal, "sdd.read_ahead_kb"), "128");
	assert_null(kt_kvlist_get(&journal, "dm-0.scheduler"));
	assert_string_equal(kt_kvlist_get(&journal, "boot_id"),
			    "3c1f6b0e-8a52-4d5e-9f1b-2a7c9e4d6b10");
	kt_kvlist_clear(&journal);
	assert_int_equal(kt_lock_holder(f->ctx, KT_IOSCHED_LOCK, &info), 1);
	assert_string_equal(info.journal, "kvm_iosched-a");

	assert_int_equal(kt_iosched_tuning_unapply(t, true), 0);
	snapshot(f, after, sizeof(after));
	assert_string_equal(after, before);
	assert_false(fixture_exists(f, "var/lib/kvmtune/kvm_iosched-a.journal"));
	assert_int_equal(kt_lock_holder(f->ctx, KT_IOSCHED_LOCK, &info), 0);
	kt_kvlist_clear(&opts);
	fixture_close(f);
}

/* Bad input: one line naming the option, the device and what it offers; nothing written. */
static void test_refused_before_writing(void **state)
{
	static const struct {
		const char *name, *value, *message;
	} cases[] = {
		{ "overrides", "sdf:bfq",
		  "overrides=sdf:bfq is invalid for sdf (hdd): it offers mq-deadline, kyber, none" },
		{ "overrides", "sdz:bfq", "overrides=sdz:bfq is invalid: sdz is not a block device" },
		{ "overrides", "sdb1:bfq", "overrides=sdb1:bfq is invalid: sdb1 is a partition" },
		{ "ssd_scheduler", "cfq",
		  "ssd_scheduler=cfq is invalid for sda (ssd): it offers mq-deadline, kyber, bfq, "
		  "none" },
		{ "nr_requests", "1", "nr_requests=1 is invalid" },
	};
	struct fixture *f = fixture_open(FIXTURE);
	char before[8192], after[8192];

	(void)state;
	snapshot(f, before, sizeof(before));
	for (size_t i = 0; i < KT_ELEMENTSOF(cases); i++) {
		const char *pairs[] = { cases[i].name, cases[i].value, NULL };
		struct kt_kvlist opts = KT_KVLIST_INIT;
		struct kt_iosched_tuning *t = NULL;

		fixture_clear_log(f);
		fake_kernel_reset(true);
		fixture_opts(f, &opts, pairs);
		assert_int_equal(kt_iosched_tuning_apply(f->ctx, "kvm_iosched-a", "test", &opts, &t),
				 -EINVAL);
		assert_null(t);
		assert_int_equal(fake_kernel.n, 0);
		if (f->errors != 1 || !strstr(f->log, cases[i].message))
			fail_msg("%s=%s logged '%s'", cases[i].name, cases[i].value, f->log);
		assert_false(fixture_exists(f, "var/lib/kvmtune/kvm_iosched-a.journal"));
		kt_kvlist_clear(&opts);
	}
	snapshot(f, after, sizeof(after));
	assert_string_equal(after, before);
	fixture_close(f);
}

/* A write the kernel refuses half-way: what was written is put back, the journal goes. */
static void test_failed_write_rolls_back(void **state)
{
	static const char *const pairs[] = { "nr_requests", "32", NULL };
	struct fixture *f = fixture_open(FIXTURE);
	struct kt_kvlist opts = KT_KVLIST_INIT;
	struct kt_iosched_tuning *t = NULL;
	char before[8192], after[8192];

	(void)state;
	fixture_opts(f, &opts, pairs);
	snapshot(f, before, sizeof(before));
	for (int n = 1; n <= 8; n++) {
		fake_kernel_reset(true);
		fake_kernel.fail_at = n;
		assert_int_equal(kt_iosched_tuning_apply(f->ctx, "kvm_iosched-a", "test", &opts, &t),
				 -EIO);
		snapshot(f, after, sizeof(after));
		if (strcmp(after, before) != 0)
			fail_msg("write %d failed: not rolled back:\n%s", n, after);
		assert_false(fixture_exists(f, "var/lib/kvmtune/kvm_iosched-a.journal"));
	}
	kt_kvlist_clear(&opts);
	fixture_close(f);
}

/* tuned killed: the journal keeps the true originals for the next run and for orphans. */
static void test_journal_survives(void **state)
{
	struct fixture *f = fixture_open(FIXTURE);
	struct kt_kvlist opts = KT_KVLIST_INIT;
	struct kt_iosched_tuning *t = NULL;
	char before[8192], after[8192];

	(void)state;
	fixture_opts(f, &opts, NULL);
	snapshot(f, before, sizeof(before));
	fake_kernel_reset(true);
	assert_int_equal(kt_iosched_tuning_apply(f->ctx, "kvm_iosched-a", "test", &opts, &t), 0);
	assert_int_equal(kt_iosched_tuning_unapply(t, false), 0);
	assert_true(fixture_exists(f, "var/lib/kvmtune/kvm_iosched-a.journal"));

	/* Applied again over its own values: the journal's originals are kept. */
	fixture_clear_log(f);
	assert_int_equal(kt_iosched_tuning_apply(f->ctx, "kvm_iosched-a", "test", &opts, &t), 0);
	assert_non_null(strstr(f->log, "holds the original values: keeping them"));
	assert_int_equal(kt_iosched_tuning_devices(t), 0);
	assert_int_equal(kt_iosched_tuning_unapply(t, false), 0);

	/* Nobody holds it now: restore --orphans puts everything back. */
	assert_int_equal(kt_restore_orphans(f->ctx, "test"), 1);
	snapshot(f, after, sizeof(after));
	assert_string_equal(after, before);
	assert_false(fixture_exists(f, "var/lib/kvmtune/kvm_iosched-a.journal"));
	kt_kvlist_clear(&opts);
	fixture_close(f);
}

/* After a reboot the kernel chose every scheduler anew: an old journal restores nothing. */
static void test_journal_of_earlier_boot(void **state)
{
	struct fixture *f = fixture_open(FIXTURE);
	struct kt_kvlist kv = KT_KVLIST_INIT;

	(void)state;
	assert_int_equal(kt_kvlist_set(&kv, "sda.scheduler", "bfq"), 0);
	assert_int_equal(kt_kvlist_set(&kv, "boot_id", "00000000-0000-0000-0000-000000000000"), 0);
	assert_int_equal(kt_journal_write(f->ctx, "kvm_iosched-a", &kv), 0);
	fake_kernel_reset(true);
	assert_int_equal(kt_iosched_restore_journal(f->ctx, "kvm_iosched-a", "test"), 0);
	assert_int_equal(fake_kernel.n, 0);
	assert_non_null(strstr(f->log, "is of an earlier boot"));
	assert_false(fixture_exists(f, "var/lib/kvmtune/kvm_iosched-a.journal"));
	assert_int_equal(kt_iosched_restore_journal(f->ctx, "kvm_iosched-a", "test"), -ENOENT);
	assert_int_equal(kt_iosched_restore_journal(f->ctx, "../x", "test"), -EINVAL);
	kt_kvlist_clear(&kv);
	fixture_close(f);
}

/*
 * libvirt not answering: `iosched show` fails, a profile applied before libvirtd (at boot)
 * plans no guests with one warning, and nothing is written.
 */
static void test_libvirt_unreachable(void **state)
{
	struct fixture *f = fixture_open(FIXTURE);
	struct kt_kvlist opts = KT_KVLIST_INIT;
	struct kt_iosched_config cfg;
	struct kt_iosched_plan plan;
	char uri[600];

	(void)state;
	snprintf(uri, sizeof(uri), "test://%s/no-such-node.xml", f->root);
	assert_int_equal(kt_kvlist_set(&opts, "libvirt_uri", uri), 0);
	assert_int_equal(kt_iosched_options_parse(f->ctx, &opts, &cfg), 0);
	assert_true(kt_iosched_plan_load(f->ctx, &cfg, 0, &plan) < 0);
	kt_iosched_plan_clear(&plan);
	assert_int_equal(f->errors, 1);
	assert_non_null(strstr(f->log, "cannot reach libvirt at"));
	fixture_clear_log(f);
	f->errors = f->warnings = 0;
	fake_kernel_reset(true);
	assert_int_equal(kt_iosched_plan_load(f->ctx, &cfg, KT_IOSCHED_LIBVIRT_OPTIONAL, &plan), 0);
	for (size_t i = 0; i < plan.n_devices; i++)
		assert_int_equal(plan.devices[i].guests, 0);
	assert_int_equal(f->errors, 0);
	assert_int_equal(f->warnings, 1);
	assert_non_null(strstr(f->log, "no guest disks to tune until guests start, ignoring"));
	assert_int_equal(fake_kernel.n, 0);
	kt_iosched_plan_clear(&plan);
	kt_kvlist_clear(&opts);
	fixture_close(f);
}

/* Guests stop and start: what backs no guest now is put back, a new guest's disk is set. */
static void test_refresh(void **state)
{
	static const char node[] =
		"<node><domain type='qemu'><name>db1</name><memory>65536</memory>"
		"<os><type>hvm</type></os><devices>"
		"<disk type='block'><source dev='/dev/sda'/><target dev='vda'/></disk>"
		"<disk type='block'><source dev='/dev/vg/guests'/><target dev='vdb'/></disk>"
		"</devices></domain><domain type='qemu'><name>new1</name><memory>65536</memory>"
		"<os><type>hvm</type></os><devices>"
		"<disk type='block'><source dev='/dev/sde'/><target dev='vda'/></disk>"
		"</devices></domain></node>\n";
	struct fixture *f = fixture_open(FIXTURE);
	struct kt_kvlist opts = KT_KVLIST_INIT, journal = KT_KVLIST_INIT;
	struct kt_iosched_tuning *t = NULL;
	char before[8192], after[8192];

	(void)state;
	fixture_opts(f, &opts, NULL);
	snapshot(f, before, sizeof(before));
	fake_kernel_reset(true);
	assert_int_equal(kt_iosched_tuning_apply(f->ctx, "kvm_iosched-a", "test", &opts, &t), 0);
	/* Nothing changed in libvirt's run directory: nothing to look at. */
	assert_int_equal(kt_iosched_tuning_refresh(t, false), 0);

	fixture_write(f, "libvirt-node.xml", node);
	fixture_clear_log(f);
	assert_int_equal(kt_iosched_tuning_refresh(t, true), 1);
	assert_int_equal(f->errors, 0);
	assert_string_equal(fixture_read(f, Q("sde", "scheduler")), "[mq-deadline] kyber bfq none");
	assert_string_equal(fixture_read(f, Q("sda", "scheduler")), "mq-deadline kyber bfq [none]");
	assert_string_equal(fixture_read(f, Q("nvme0n1", "scheduler")),
			    "[none] mq-deadline kyber bfq");
	/* web1 and the batch guests are gone: their devices have their originals back. */
	assert_string_equal(fixture_read(f, Q("sdb", "scheduler")), "mq-deadline kyber [bfq] none");
	assert_string_equal(fixture_read(f, Q("sdd", "scheduler")), "[mq-deadline] kyber bfq none");
	assert_string_equal(fixture_read(f, Q("loop0", "scheduler")), "none [mq-deadline] kyber bfq");
	assert_int_equal(kt_journal_read(f->ctx, "kvm_iosched-a", &journal), 0);
	assert_string_equal(kt_kvlist_get(&journal, "sde.scheduler"), "none");
	assert_string_equal(kt_kvlist_get(&journal, "sda.scheduler"), "mq-deadline");
	assert_null(kt_kvlist_get(&journal, "sdb.scheduler"));
	assert_null(kt_kvlist_get(&journal, "loop0.nr_requests"));
	kt_kvlist_clear(&journal);

	assert_int_equal(kt_iosched_tuning_unapply(t, true), 0);
	snapshot(f, after, sizeof(after));
	assert_string_equal(after, before);
	kt_kvlist_clear(&opts);
	fixture_close(f);
}

/* A loop device detached while tuned: nothing to put back there, the rest is restored. */
static void test_device_gone(void **state)
{
	struct fixture *f = fixture_open(FIXTURE);
	struct kt_kvlist opts = KT_KVLIST_INIT;
	struct kt_iosched_tuning *t = NULL;
	char path[600];

	(void)state;
	fixture_opts(f, &opts, NULL);
	fake_kernel_reset(true);
	assert_int_equal(kt_iosched_tuning_apply(f->ctx, "kvm_iosched-a", "test", &opts, &t), 0);
	snprintf(path, sizeof(path), "%s/sys/class/block/loop0", f->root);
	assert_int_equal(unlink(path), 0);
	fixture_clear_log(f);
	assert_int_equal(kt_iosched_tuning_unapply(t, true), 0);
	assert_non_null(strstr(f->log, "loop0 is gone: nothing to put back, ignoring"));
	assert_int_equal(f->errors, 0);
	assert_string_equal(fixture_read(f, Q("sda", "scheduler")), "[mq-deadline] kyber bfq none");
	assert_false(fixture_exists(f, "var/lib/kvmtune/kvm_iosched-a.journal"));
	kt_kvlist_clear(&opts);
	fixture_close(f);
}

static void test_one_writer(void **state)
{
	struct fixture *f = fixture_open(FIXTURE);
	struct kt_kvlist opts = KT_KVLIST_INIT;
	struct kt_iosched_tuning *t = NULL, *t2 = NULL;

	(void)state;
	fixture_opts(f, &opts, NULL);
	fake_kernel_reset(true);
	assert_int_equal(kt_iosched_tuning_apply(f->ctx, "kvm_iosched-a", "tuned instance a", &opts,
						 &t),
			 0);
	fake_kernel_reset(true);
	assert_int_equal(kt_iosched_tuning_apply(f->ctx, "kvm_iosched-b", "other", &opts, &t2),
			 -EBUSY);
	assert_int_equal(fake_kernel.n, 0);
	assert_non_null(strstr(f->log, "iosched is held by tuned instance a"));
	assert_int_equal(kt_iosched_tuning_unapply(t, true), 0);
	kt_kvlist_clear(&opts);
	fixture_close(f);
}

static void test_verify(void **state)
{
	struct fixture *f = fixture_open(FIXTURE);
	struct kt_kvlist opts = KT_KVLIST_INIT;
	struct kt_iosched_tuning *t = NULL;

	(void)state;
	fixture_opts(f, &opts, NULL);
	fake_kernel_reset(true);
	assert_int_equal(kt_iosched_verify_options(f->ctx, &opts, NULL, NULL), 6);
	assert_int_equal(kt_iosched_tuning_apply(f->ctx, "kvm_iosched-a", "test", &opts, &t), 0);
	assert_int_equal(kt_iosched_verify_options(f->ctx, &opts, NULL, NULL), 0);
	assert_int_equal(kt_iosched_tuning_unapply(t, true), 0);
	kt_kvlist_clear(&opts);
	fixture_close(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_parse),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_overrides_parse),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_domain_sources),
		cmocka_unit_test(test_chains),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_apply_and_rollback),
		cmocka_unit_test(test_refused_before_writing),
		cmocka_unit_test(test_failed_write_rolls_back),
		cmocka_unit_test(test_journal_survives),
		cmocka_unit_test(test_journal_of_earlier_boot),
		cmocka_unit_test(test_libvirt_unreachable),
		cmocka_unit_test(test_refresh),
		cmocka_unit_test(test_device_gone),
		cmocka_unit_test(test_one_writer),
		cmocka_unit_test(test_verify),
	};

	return cmocka_run_group_tests(tests, host_guard_setup, host_guard_teardown);
}
