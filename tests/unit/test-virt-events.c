// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The shared libvirt event loop on libvirt's test driver: subscribers get CONNECTED, then
 * each domain's start and stop; the pin tuning subscribed to it pins a domain as it starts
 * and forgets it when it stops; the I/O scheduler tuning sets the devices beneath a domain
 * that starts and puts them back when it stops; the thread is joined on free. The test
 * driver's state belongs to one connection, so domains are started through the loop's own.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <libvirt/libvirt.h>

#include "fixture.h"
#include "iosched.h"
#include "journal.h"
#include "pin-tuning.h"
#include "virt-events.h"
#include "virt-internal.h"
#include "virt-pin.h"

struct seen {
	pthread_mutex_t lock;
	char events[1024];
};

static void record(void *data, struct kt_virt *v, enum kt_virt_event ev, const char *uuid)
{
	struct seen *s = data;
	size_t len;

	(void)v;
	(void)uuid;
	pthread_mutex_lock(&s->lock);
	len = strlen(s->events);
	snprintf(s->events + len, sizeof(s->events) - len, "%s ", kt_virt_event_name(ev));
	pthread_mutex_unlock(&s->lock);
}

static bool seen_has(struct seen *s, const char *what)
{
	bool r;

	pthread_mutex_lock(&s->lock);
	r = strstr(s->events, what) != NULL;
	pthread_mutex_unlock(&s->lock);
	return r;
}

static bool wait_until(bool (*fn)(void *), void *data)
{
	for (int i = 0; i < 500; i++) {
		struct timespec ts = { 0, 10000000L };

		if (fn(data))
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

static struct seen *the_seen;
static const char *the_want;

static bool seen_want(void *data)
{
	(void)data;
	return seen_has(the_seen, the_want);
}

static struct kt_pin_tuning *the_tuning;
static unsigned the_count;

static bool pinned_count(void *data)
{
	(void)data;
	return kt_pin_tuning_pinned(the_tuning) == the_count;
}

static const char guest[] = "<domain type='test'><name>late</name><memory>131072</memory>"
			    "<vcpu>2</vcpu><os><type>hvm</type></os></domain>";

static void test_events_and_pinning(void **state)
{
	struct fixture *f = fixture_open("topo-1s-nosmt");
	struct kt_kvlist opts = KT_KVLIST_INIT;
	struct seen seen = { PTHREAD_MUTEX_INITIALIZER, "" };
	struct kt_virt_events *e = NULL;
	struct kt_virt *v = NULL;
	struct kt_cpuset vcpus[2], emu;
	virDomainPtr dom;
	unsigned n = 0;
	char uuid[VIR_UUID_STRING_BUFLEN];
	int sub_a, sub_b;

	(void)state;
	kt_kvlist_set(&opts, "libvirt_uri", "test:///default");
	kt_kvlist_set(&opts, "default_policy", "dedicated");
	kt_kvlist_set(&opts, "dedicated_cpus", "2-7");
	assert_int_equal(kt_pin_tuning_new(f->ctx, "kvm_pin-events", "test", &opts, &the_tuning), 0);
	kt_kvlist_clear(&opts);
	assert_int_equal(kt_virt_events_new(f->ctx, "test:///default", &e), 0);
	assert_int_equal(kt_virt_events_connection(e, &v), -ENOTCONN);
	sub_a = kt_virt_events_subscribe(e, record, &seen);
	assert_true(sub_a > 0);
	assert_int_equal(kt_virt_events_start(e), 0);
	assert_int_equal(kt_virt_events_start(e), -EALREADY);
	the_seen = &seen;
	the_want = "connected";
	assert_true(wait_until(seen_want, NULL));
	/* A subscriber that comes later is told the loop is connected, and checks everything. */
	sub_b = kt_virt_events_subscribe(e, kt_pin_tuning_on_event, the_tuning);
	assert_true(sub_b > sub_a);
	the_count = 1;
	assert_true(wait_until(pinned_count, NULL));
	assert_int_equal(kt_virt_events_subscribers(e), 2);
	/* A domain that starts is pinned right after its event. */
	assert_int_equal(kt_virt_events_connection(e, &v), 0);
	dom = virDomainCreateXML(v->conn, guest, 0);
	assert_non_null(dom);
	assert_int_equal(virDomainGetUUIDString(dom, uuid), 0);
	the_want = "started";
	assert_true(wait_until(seen_want, NULL));
	the_count = 2;
	assert_true(wait_until(pinned_count, NULL));
	assert_int_equal(kt_virt_pin_read(v, uuid, vcpus, 2, &n, &emu, NULL), 0);
	assert_int_equal(n, 2);
	assert_true(kt_cpuset_count(&vcpus[0]) == 1 && kt_cpuset_count(&vcpus[1]) == 1);
	assert_false(kt_cpuset_has(&vcpus[0], 0) || kt_cpuset_has(&vcpus[0], 1));
	/* And forgotten when it stops: its CPUs are free again. */
	assert_int_equal(virDomainDestroy(dom), 0);
	virDomainFree(dom);
	the_want = "stopped";
	assert_true(wait_until(seen_want, NULL));
	the_count = 1;
	assert_true(wait_until(pinned_count, NULL));
	assert_non_null(strstr(f->log, "domain late stopped: its CPUs are free"));
	kt_virt_events_unsubscribe(e, sub_b);
	kt_virt_events_unsubscribe(e, sub_a);
	assert_int_equal(kt_virt_events_subscribers(e), 0);
	assert_int_equal(kt_pin_tuning_unapply(the_tuning, v, true), 0);
	kt_virt_close(v);
	kt_virt_events_free(e);
	assert_int_equal(f->errors, 0);
	fixture_close(f);
}

static struct fixture *the_fixture;
static const char *the_path;
static const char *the_value;

static bool file_is(void *data)
{
	(void)data;
	return strcmp(fixture_read(the_fixture, the_path), the_value) == 0;
}

static struct kt_iosched_tuning *the_iosched;
static unsigned the_events;

static bool events_seen(void *data)
{
	(void)data;
	return kt_iosched_tuning_events(the_iosched) >= the_events;
}

#define SDE_SCHED "sys/class/block/sde/queue/scheduler"

/* What each step does to off1 (whose one disk is sde, an idle HDD) and what sde then has. */
static const struct {
	const char *what;
	int (*act)(virDomainPtr dom);
	const char *sde;
	bool journalled;
} iosched_steps[] = {
	{ "off1 starts", virDomainCreate, "[mq-deadline] kyber bfq none", true },
	{ "off1 stops", virDomainDestroy, "mq-deadline kyber bfq [none]", false },
	{ "off1 starts again", virDomainCreate, "[mq-deadline] kyber bfq none", true },
};

static void test_iosched_on_events(void **state)
{
	struct fixture *f = fixture_open("iosched-6.18");
	struct kt_kvlist opts = KT_KVLIST_INIT, journal = KT_KVLIST_INIT;
	struct kt_virt_events *e = NULL;
	struct kt_virt *v = NULL;
	virDomainPtr dom;
	char uri[600];
	int sub;

	(void)state;
	the_fixture = f;
	fake_kernel_reset(true);
	snprintf(uri, sizeof(uri), "test://%s/libvirt-node.xml", f->root);
	kt_kvlist_set(&opts, "libvirt_uri", uri);
	assert_int_equal(kt_iosched_tuning_apply(f->ctx, "kvm_iosched-ev", "test", &opts,
						 &the_iosched),
			 0);
	kt_kvlist_clear(&opts);
	/* off1 is defined, not running: its disk is left alone. */
	assert_string_equal(fixture_read(f, SDE_SCHED), "mq-deadline kyber bfq [none]");
	assert_int_equal(kt_virt_events_new(f->ctx, uri, &e), 0);
	sub = kt_virt_events_subscribe(e, kt_iosched_tuning_on_event, the_iosched);
	assert_true(sub > 0);
	assert_int_equal(kt_virt_events_start(e), 0);
	/* Connected: every domain checked again, nothing new to do. */
	the_events = 1;
	assert_true(wait_until(events_seen, NULL));
	assert_string_equal(fixture_read(f, SDE_SCHED), "mq-deadline kyber bfq [none]");
	assert_int_equal(kt_virt_events_connection(e, &v), 0);
	dom = virDomainLookupByName(v->conn, "off1");
	assert_non_null(dom);
	for (size_t i = 0; i < KT_ELEMENTSOF(iosched_steps); i++) {
		unsigned before = kt_iosched_tuning_events(the_iosched);

		assert_int_equal(iosched_steps[i].act(dom), 0);
		the_events = before + 1;
		assert_true(wait_until(events_seen, NULL));
		the_path = SDE_SCHED;
		the_value = iosched_steps[i].sde;
		if (!wait_until(file_is, NULL))
			fail_msg("%s: sde has '%s', expected '%s'", iosched_steps[i].what,
				 fixture_read(f, SDE_SCHED), iosched_steps[i].sde);
		assert_int_equal(kt_journal_read(f->ctx, "kvm_iosched-ev", &journal), 0);
		if (iosched_steps[i].journalled)
			assert_string_equal(kt_kvlist_get(&journal, "sde.scheduler"), "none");
		else
			assert_null(kt_kvlist_get(&journal, "sde.scheduler"));
		kt_kvlist_clear(&journal);
		/* What the events set verifies as set, under the tuning's lock. */
		assert_int_equal(kt_iosched_tuning_verify(the_iosched, NULL, NULL), 0);
	}
	/*
	 * A domain defined while include_defined is off changes no running guest's disks: no
	 * refresh. A subscriber that came later is called after the tuning for each event, so
	 * once it has seen the event the tuning has handled it.
	 */
	{
		struct seen seen = { PTHREAD_MUTEX_INITIALIZER, "" };
		unsigned before = kt_iosched_tuning_events(the_iosched);
		int sub_rec = kt_virt_events_subscribe(e, record, &seen);
		virDomainPtr def;

		the_seen = &seen;
		the_want = "connected";
		assert_true(wait_until(seen_want, NULL));
		def = virDomainDefineXML(v->conn, guest);
		assert_non_null(def);
		the_want = "defined";
		assert_true(wait_until(seen_want, NULL));
		assert_int_equal(kt_iosched_tuning_events(the_iosched), before);
		kt_virt_events_unsubscribe(e, sub_rec);
		virDomainFree(def);
	}
	assert_non_null(strstr(f->log, "sde: scheduler none -> mq-deadline (hdd, 1 guest)"));
	assert_non_null(strstr(f->log, "guests changed: putting back what backs no guest now"));
	virDomainFree(dom);
	/* Unsubscribed, then unapplied: off1 still runs, and sde gets its original back. */
	kt_virt_events_unsubscribe(e, sub);
	assert_int_equal(kt_iosched_tuning_unapply(the_iosched, true), 0);
	assert_string_equal(fixture_read(f, SDE_SCHED), "mq-deadline kyber bfq [none]");
	assert_false(fixture_exists(f, "var/lib/kvmtune/kvm_iosched-ev.journal"));
	kt_virt_close(v);
	kt_virt_events_free(e);
	assert_int_equal(f->errors, 0);
	fixture_close(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events_and_pinning),
		cmocka_unit_test(test_iosched_on_events),
	};

	return cmocka_run_group_tests(tests, host_guard_setup, host_guard_teardown);
}
