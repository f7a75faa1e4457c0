// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The shared libvirt event loop on libvirt's test driver: subscribers get CONNECTED, then
 * each domain's start and stop; the pin tuning subscribed to it pins a domain as it starts
 * and forgets it when it stops; the thread is joined on free. The test driver's state
 * belongs to one connection, so domains are started through the loop's own.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events_and_pinning),
	};

	return cmocka_run_group_tests(tests, host_guard_setup, host_guard_teardown);
}
