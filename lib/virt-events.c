// SPDX-License-Identifier: LGPL-2.1-or-later
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "macro.h"
#include "runner.h"
#include "virt-events.h"
#include "virt-internal.h"

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000
/* A ping every 5 s, and the connection is dead after 3 unanswered: 20 s at most. */
#define KEEPALIVE_INTERVAL 5
#define KEEPALIVE_COUNT 3
#define SUBSCRIBERS_MAX 16
#define QUEUE_MAX 256

struct subscriber {
	int id;
	kt_virt_event_fn fn;
	void *data;
	bool needs_connected;
};

struct queued {
	enum kt_virt_event ev;
	char uuid[VIR_UUID_STRING_BUFLEN];
};

struct kt_virt_events {
	struct kt_ctx *ctx;
	char uri[256];
	struct kt_runner *runner;
	/* Held while callbacks run and while the subscriber list changes. */
	pthread_mutex_t lock;
	struct subscriber subs[SUBSCRIBERS_MAX];
	int n_subs, next_id;
	/* The loop thread's own: the connection and what its callbacks queued. */
	struct kt_virt v;
	int lifecycle_id;
	bool lost;
	bool reconnecting;
	int timer;
	unsigned backoff_ms;
	struct timespec next_try;
	struct queued queue[QUEUE_MAX];
	int n_queued;
	bool overflow;
};

static const char *const event_names[KT_VIRT_EVENT_MAX] = { "connected", "disconnected",
							   "started", "stopped" };

const char *kt_virt_event_name(enum kt_virt_event ev)
{
	return ev >= 0 && ev < KT_VIRT_EVENT_MAX ? event_names[ev] : "invalid";
}

static pthread_once_t impl_once = PTHREAD_ONCE_INIT;
static int impl_result;

/* libvirt's event loop implementation must be registered before a connection opens. */
static void register_impl(void)
{
	kt_virt_quiet();
	impl_result = virEventRegisterDefaultImpl() < 0 ? -EIO : 0;
}

static void wake_cb(int timer, void *data)
{
	(void)data;
	virEventUpdateTimeout(timer, -1);
}

static void close_cb(virConnectPtr conn, int reason, void *data)
{
	struct kt_virt_events *e = data;

	(void)conn;
	(void)reason;
	/* Another thread's call may be the one that finds the connection closed: wake the loop. */
	__atomic_store_n(&e->lost, true, __ATOMIC_SEQ_CST);
	virEventUpdateTimeout(e->timer, 0);
}

static int lifecycle_cb(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *data)
{
	struct kt_virt_events *e = data;
	struct queued *q;

	(void)conn;
	(void)detail;
	if (event != VIR_DOMAIN_EVENT_STARTED && event != VIR_DOMAIN_EVENT_STOPPED)
		return 0;
	if (e->n_queued == QUEUE_MAX) {
		/* Too much at once: a full re-check replaces the events. */
		e->overflow = true;
		return 0;
	}
	q = &e->queue[e->n_queued];
	if (virDomainGetUUIDString(dom, q->uuid) < 0) {
		virResetLastError();
		return 0;
	}
	q->ev = event == VIR_DOMAIN_EVENT_STARTED ? KT_VIRT_STARTED : KT_VIRT_STOPPED;
	e->n_queued++;
	return 0;
}

static void now_plus(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static long ms_until(const struct timespec *ts)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (ts->tv_sec - now.tv_sec) * 1000L + (ts->tv_nsec - now.tv_nsec) / 1000000L;
}

static void notify_all(struct kt_virt_events *e, enum kt_virt_event ev, const char *uuid)
{
	pthread_mutex_lock(&e->lock);
	for (int i = 0; i < e->n_subs; i++)
		e->subs[i].fn(e->subs[i].data, &e->v, ev, uuid);
	pthread_mutex_unlock(&e->lock);
}

static void disconnect(struct kt_virt_events *e)
{
	virConnectPtr conn;

	/* Under the lock: kt_virt_events_connection() reads it from other threads. */
	pthread_mutex_lock(&e->lock);
	conn = e->v.conn;
	e->v.conn = NULL;
	pthread_mutex_unlock(&e->lock);
	if (!conn)
		return;
	if (e->lifecycle_id >= 0)
		virConnectDomainEventDeregisterAny(conn, e->lifecycle_id);
	virConnectUnregisterCloseCallback(conn, close_cb);
	virResetLastError();
	virConnectClose(conn);
	e->lifecycle_id = -1;
}

static void try_connect(struct kt_virt_events *e)
{
	virConnectPtr conn;
	char *err = NULL;

	/* Cleared before the close callback can be registered, so that no close is missed. */
	__atomic_store_n(&e->lost, false, __ATOMIC_SEQ_CST);
	conn = virConnectOpen(e->uri);
	if (conn) {
		e->lifecycle_id = virConnectDomainEventRegisterAny(
			conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
			VIR_DOMAIN_EVENT_CALLBACK(lifecycle_cb), e, NULL);
		if (e->lifecycle_id < 0 ||
		    virConnectRegisterCloseCallback(conn, close_cb, e, NULL) < 0) {
			kt_virt_last_error(&err);
			if (e->lifecycle_id >= 0)
				virConnectDomainEventDeregisterAny(conn, e->lifecycle_id);
			e->lifecycle_id = -1;
			virConnectClose(conn);
			conn = NULL;
		} else if (virConnectSetKeepAlive(conn, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT) < 0) {
			/* Local drivers (test://) have no keepalive: nothing to lose there. */
			virResetLastError();
		}
	} else {
		kt_virt_last_error(&err);
	}
	pthread_mutex_lock(&e->lock);
	e->v.conn = conn;
	pthread_mutex_unlock(&e->lock);
	if (e->v.conn) {
		if (e->reconnecting)
			kt_info(e->ctx, "connected to %s again: checking every domain", e->uri);
		e->reconnecting = false;
		e->backoff_ms = 0;
		e->n_queued = 0;
		notify_all(e, KT_VIRT_CONNECTED, NULL);
		pthread_mutex_lock(&e->lock);
		for (int i = 0; i < e->n_subs; i++)
			e->subs[i].needs_connected = false;
		pthread_mutex_unlock(&e->lock);
		free(err);
		return;
	}
	/* Said once per outage, not at every retry. */
	if (e->backoff_ms == 0)
		kt_warn(e->ctx, "cannot connect to %s: %s; retrying with backoff", e->uri,
			err ? err : "unknown error");
	free(err);
	e->backoff_ms = e->backoff_ms ? e->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (e->backoff_ms > BACKOFF_MAX_MS)
		e->backoff_ms = BACKOFF_MAX_MS;
	now_plus(&e->next_try, e->backoff_ms);
}

static void step(void *data)
{
	struct kt_virt_events *e = data;

	if (!e->v.conn && ms_until(&e->next_try) <= 0)
		try_connect(e);
	if (!e->v.conn)
		virEventUpdateTimeout(e->timer, (int)(ms_until(&e->next_try) > 0
							      ? ms_until(&e->next_try)
							      : 0));
	if (kt_runner_stopping(e->runner))
		return;
	if (virEventRunDefaultImpl() < 0)
		virResetLastError();
	if (e->v.conn && __atomic_load_n(&e->lost, __ATOMIC_SEQ_CST)) {
		kt_warn(e->ctx, "the connection to %s is lost (libvirtd stopped or restarted): "
				"reconnecting",
			e->uri);
		disconnect(e);
		e->n_queued = 0;
		e->overflow = false;
		notify_all(e, KT_VIRT_DISCONNECTED, NULL);
		e->reconnecting = true;
		e->backoff_ms = BACKOFF_MIN_MS / 2;
		now_plus(&e->next_try, BACKOFF_MIN_MS / 2);
		return;
	}
	if (!e->v.conn)
		return;
	if (e->overflow) {
		e->overflow = false;
		e->n_queued = 0;
		notify_all(e, KT_VIRT_CONNECTED, NULL);
	}
	for (int i = 0; i < e->n_queued; i++)
		notify_all(e, e->queue[i].ev, e->queue[i].uuid);
	e->n_queued = 0;
	/* Subscribers that came while connected see the domains now. */
	pthread_mutex_lock(&e->lock);
	for (int i = 0; i < e->n_subs; i++)
		if (e->subs[i].needs_connected) {
			e->subs[i].needs_connected = false;
			e->subs[i].fn(e->subs[i].data, &e->v, KT_VIRT_CONNECTED, NULL);
		}
	pthread_mutex_unlock(&e->lock);
}

static void interrupt(void *data)
{
	struct kt_virt_events *e = data;

	virEventUpdateTimeout(e->timer, 0);
}

int kt_virt_events_new(struct kt_ctx *ctx, const char *uri, struct kt_virt_events **ret)
{
	struct kt_virt_events *e;
	int r;

	pthread_once(&impl_once, register_impl);
	if (impl_result < 0) {
		kt_err(ctx, "cannot register libvirt's event loop");
		return impl_result;
	}
	if (!uri || strlen(uri) >= sizeof(e->uri))
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->ctx = kt_ctx_ref(ctx);
	snprintf(e->uri, sizeof(e->uri), "%s", uri);
	e->lifecycle_id = -1;
	e->v.borrowed = true;
	pthread_mutex_init(&e->lock, NULL);
	e->timer = virEventAddTimeout(-1, wake_cb, e, NULL);
	r = e->timer < 0 ? -EIO : kt_runner_new(step, e, 0, &e->runner);
	if (r < 0) {
		kt_virt_events_free(e);
		return r;
	}
	kt_runner_set_interrupt(e->runner, interrupt);
	*ret = e;
	return 0;
}

struct kt_virt_events *kt_virt_events_free(struct kt_virt_events *e)
{
	if (!e)
		return NULL;
	e->runner = kt_runner_free(e->runner);
	disconnect(e);
	if (e->timer >= 0)
		virEventRemoveTimeout(e->timer);
	pthread_mutex_destroy(&e->lock);
	kt_ctx_unref(e->ctx);
	free(e);
	return NULL;
}

int kt_virt_events_start(struct kt_virt_events *e)
{
	return kt_runner_start(e->runner);
}

int kt_virt_events_subscribe(struct kt_virt_events *e, kt_virt_event_fn fn, void *data)
{
	int id;

	pthread_mutex_lock(&e->lock);
	if (e->n_subs == SUBSCRIBERS_MAX) {
		pthread_mutex_unlock(&e->lock);
		return -ENOSPC;
	}
	id = ++e->next_id;
	e->subs[e->n_subs++] = (struct subscriber){ id, fn, data, true };
	pthread_mutex_unlock(&e->lock);
	virEventUpdateTimeout(e->timer, 0);
	return id;
}

void kt_virt_events_unsubscribe(struct kt_virt_events *e, int id)
{
	pthread_mutex_lock(&e->lock);
	for (int i = 0; i < e->n_subs; i++)
		if (e->subs[i].id == id) {
			memmove(&e->subs[i], &e->subs[i + 1],
				(size_t)(e->n_subs - i - 1) * sizeof(e->subs[0]));
			e->n_subs--;
			break;
		}
	pthread_mutex_unlock(&e->lock);
}

int kt_virt_events_subscribers(struct kt_virt_events *e)
{
	int n;

	pthread_mutex_lock(&e->lock);
	n = e->n_subs;
	pthread_mutex_unlock(&e->lock);
	return n;
}

int kt_virt_events_connection(struct kt_virt_events *e, struct kt_virt **ret)
{
	struct kt_virt *v;
	virConnectPtr conn;

	/* The loop thread changes the connection only while it holds no callback: the lock
	 * orders this read against notify_all's callers. */
	pthread_mutex_lock(&e->lock);
	conn = e->v.conn;
	if (conn)
		virConnectRef(conn);
	pthread_mutex_unlock(&e->lock);
	if (!conn)
		return -ENOTCONN;
	v = calloc(1, sizeof(*v));
	if (!v) {
		virConnectClose(conn);
		return -ENOMEM;
	}
	v->conn = conn;
	*ret = v;
	return 0;
}

const char *kt_virt_events_uri(const struct kt_virt_events *e)
{
	return e->uri;
}
