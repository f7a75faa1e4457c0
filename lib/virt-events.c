// SPDX-License-Identifier: LGPL-2.1-or-later
#include <fcntl.h>
#include <poll.h>
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
	int lifecycle_id, added_id, removed_id;
	bool lost;
	bool reconnecting;
	int timer;
	unsigned backoff_ms;
	struct timespec next_try;
	struct queued queue[QUEUE_MAX];
	int n_queued;
	bool overflow;
};

static const char *const event_names[KT_VIRT_EVENT_MAX] = {
	"connected", "disconnected", "started", "stopped",
	"defined",   "undefined",    "device-added", "device-removed",
};

const char *kt_virt_event_name(enum kt_virt_event ev)
{
	return ev >= 0 && ev < KT_VIRT_EVENT_MAX ? event_names[ev] : "invalid";
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

/*
 * libvirt's own default event loop (virEventRegisterDefaultImpl) is GLib's on the global
 * default main context since libvirt 6.x: in tuned, whose D-Bus controller runs a GLib main
 * loop on that very context for as long as it lives, our thread could never own it and
 * would wait forever. So kvmtune registers an event implementation of its own, a poll(2)
 * loop that only its thread runs (virEventRegisterImpl). libvirt's event implementation is
 * process-wide by design: this is the one piece of process-wide state in the library.
 */
struct ev_handle {
	int watch;
	int fd;
	int events;
	virEventHandleCallback cb;
	void *opaque;
	virFreeCallback ff;
	bool deleted;
};

struct ev_timeout {
	int timer;
	int frequency;
	struct timespec expires;
	virEventTimeoutCallback cb;
	void *opaque;
	virFreeCallback ff;
	bool deleted;
};

static struct {
	pthread_mutex_t lock;
	struct ev_handle *handles;
	size_t n_handles, cap_handles;
	struct ev_timeout *timeouts;
	size_t n_timeouts, cap_timeouts;
	int next_id;
	int wake[2];
} loop = { PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0, NULL, 0, 0, 0, { -1, -1 } };

static void loop_wake(void)
{
	char c = 0;

	if (loop.wake[1] >= 0 && write(loop.wake[1], &c, 1) < 0) {
		/* Full pipe: the loop wakes anyway. */
	}
}

static short to_poll(int events)
{
	return (short)(((events & VIR_EVENT_HANDLE_READABLE) ? POLLIN : 0) |
		       ((events & VIR_EVENT_HANDLE_WRITABLE) ? POLLOUT : 0));
}

static int from_poll(short revents)
{
	return ((revents & POLLIN) ? VIR_EVENT_HANDLE_READABLE : 0) |
	       ((revents & POLLOUT) ? VIR_EVENT_HANDLE_WRITABLE : 0) |
	       ((revents & POLLERR) ? VIR_EVENT_HANDLE_ERROR : 0) |
	       ((revents & (POLLHUP | POLLNVAL)) ? VIR_EVENT_HANDLE_HANGUP : 0);
}

static void set_expiry(struct ev_timeout *t)
{
	if (t->frequency >= 0)
		now_plus(&t->expires, (unsigned)t->frequency);
}

static int add_handle(int fd, int events, virEventHandleCallback cb, void *opaque,
		      virFreeCallback ff)
{
	int watch = -1;

	pthread_mutex_lock(&loop.lock);
	if (loop.n_handles == loop.cap_handles) {
		size_t cap = loop.cap_handles ? loop.cap_handles * 2 : 8;
		struct ev_handle *h = realloc(loop.handles, cap * sizeof(*h));

		if (h) {
			loop.handles = h;
			loop.cap_handles = cap;
		}
	}
	if (loop.n_handles < loop.cap_handles) {
		watch = ++loop.next_id;
		loop.handles[loop.n_handles++] =
			(struct ev_handle){ watch, fd, events, cb, opaque, ff, false };
	}
	pthread_mutex_unlock(&loop.lock);
	loop_wake();
	return watch;
}

static void update_handle(int watch, int events)
{
	pthread_mutex_lock(&loop.lock);
	for (size_t i = 0; i < loop.n_handles; i++)
		if (loop.handles[i].watch == watch && !loop.handles[i].deleted)
			loop.handles[i].events = events;
	pthread_mutex_unlock(&loop.lock);
	loop_wake();
}

static int remove_handle(int watch)
{
	int r = -1;

	/* Freed by the loop after its dispatch: a callback may be running right now. */
	pthread_mutex_lock(&loop.lock);
	for (size_t i = 0; i < loop.n_handles; i++)
		if (loop.handles[i].watch == watch && !loop.handles[i].deleted) {
			loop.handles[i].deleted = true;
			r = 0;
		}
	pthread_mutex_unlock(&loop.lock);
	loop_wake();
	return r;
}

static int add_timeout(int frequency, virEventTimeoutCallback cb, void *opaque, virFreeCallback ff)
{
	int timer = -1;

	pthread_mutex_lock(&loop.lock);
	if (loop.n_timeouts == loop.cap_timeouts) {
		size_t cap = loop.cap_timeouts ? loop.cap_timeouts * 2 : 8;
		struct ev_timeout *t = realloc(loop.timeouts, cap * sizeof(*t));

		if (t) {
			loop.timeouts = t;
			loop.cap_timeouts = cap;
		}
	}
	if (loop.n_timeouts < loop.cap_timeouts) {
		struct ev_timeout *t = &loop.timeouts[loop.n_timeouts++];

		timer = ++loop.next_id;
		*t = (struct ev_timeout){ timer, frequency, { 0, 0 }, cb, opaque, ff, false };
		set_expiry(t);
	}
	pthread_mutex_unlock(&loop.lock);
	loop_wake();
	return timer;
}

static void update_timeout(int timer, int frequency)
{
	pthread_mutex_lock(&loop.lock);
	for (size_t i = 0; i < loop.n_timeouts; i++)
		if (loop.timeouts[i].timer == timer && !loop.timeouts[i].deleted) {
			loop.timeouts[i].frequency = frequency;
			set_expiry(&loop.timeouts[i]);
		}
	pthread_mutex_unlock(&loop.lock);
	loop_wake();
}

static int remove_timeout(int timer)
{
	int r = -1;

	pthread_mutex_lock(&loop.lock);
	for (size_t i = 0; i < loop.n_timeouts; i++)
		if (loop.timeouts[i].timer == timer && !loop.timeouts[i].deleted) {
			loop.timeouts[i].deleted = true;
			r = 0;
		}
	pthread_mutex_unlock(&loop.lock);
	loop_wake();
	return r;
}

/* Frees what was removed, outside the lock: a free callback may call back into libvirt. */
static void loop_cleanup(void)
{
	for (;;) {
		virFreeCallback ff = NULL;
		void *opaque = NULL;

		pthread_mutex_lock(&loop.lock);
		for (size_t i = 0; i < loop.n_handles && !ff; i++)
			if (loop.handles[i].deleted) {
				ff = loop.handles[i].ff;
				opaque = loop.handles[i].opaque;
				loop.handles[i] = loop.handles[--loop.n_handles];
				if (!ff)
					i--;
			}
		for (size_t i = 0; i < loop.n_timeouts && !ff; i++)
			if (loop.timeouts[i].deleted) {
				ff = loop.timeouts[i].ff;
				opaque = loop.timeouts[i].opaque;
				loop.timeouts[i] = loop.timeouts[--loop.n_timeouts];
				if (!ff)
					i--;
			}
		pthread_mutex_unlock(&loop.lock);
		if (!ff)
			return;
		ff(opaque);
	}
}

/* One round: wait for a handle or the next timeout, then dispatch, without the lock held. */
static void loop_run_once(void)
{
	struct pollfd *fds;
	int *watches, n = 0, wait_ms = -1;
	char drain[64];

	pthread_mutex_lock(&loop.lock);
	fds = calloc(loop.n_handles + 1, sizeof(*fds));
	watches = calloc(loop.n_handles + 1, sizeof(*watches));
	if (!fds || !watches) {
		pthread_mutex_unlock(&loop.lock);
		free(fds);
		free(watches);
		return;
	}
	fds[n].fd = loop.wake[0];
	fds[n++].events = POLLIN;
	for (size_t i = 0; i < loop.n_handles; i++) {
		if (loop.handles[i].deleted || loop.handles[i].events == 0)
			continue;
		fds[n].fd = loop.handles[i].fd;
		fds[n].events = to_poll(loop.handles[i].events);
		watches[n++] = loop.handles[i].watch;
	}
	for (size_t i = 0; i < loop.n_timeouts; i++) {
		long ms;

		if (loop.timeouts[i].deleted || loop.timeouts[i].frequency < 0)
			continue;
		ms = ms_until(&loop.timeouts[i].expires);
		ms = ms < 0 ? 0 : ms;
		if (wait_ms < 0 || ms < wait_ms)
			wait_ms = (int)ms;
	}
	pthread_mutex_unlock(&loop.lock);
	if (poll(fds, (nfds_t)n, wait_ms) < 0)
		n = 0;
	if (n > 0 && (fds[0].revents & POLLIN))
		while (read(loop.wake[0], drain, sizeof(drain)) == (ssize_t)sizeof(drain))
			;
	/* Timeouts first, each at most once a round, looked up again each time. */
	for (;;) {
		virEventTimeoutCallback cb = NULL;
		void *opaque = NULL;
		int timer = -1;

		pthread_mutex_lock(&loop.lock);
		for (size_t i = 0; i < loop.n_timeouts && !cb; i++) {
			struct ev_timeout *t = &loop.timeouts[i];

			if (t->deleted || t->frequency < 0 || ms_until(&t->expires) > 0 ||
			    t->expires.tv_sec == 0)
				continue;
			cb = t->cb;
			opaque = t->opaque;
			timer = t->timer;
			/* Due again one period from now (0: at the next round). */
			now_plus(&t->expires, (unsigned)t->frequency);
			if (t->frequency == 0)
				t->expires.tv_sec = 0;
		}
		pthread_mutex_unlock(&loop.lock);
		if (!cb)
			break;
		cb(timer, opaque);
	}
	/* Re-armed zero timeouts fire again next round, not in this one. */
	pthread_mutex_lock(&loop.lock);
	for (size_t i = 0; i < loop.n_timeouts; i++)
		if (loop.timeouts[i].frequency == 0 && loop.timeouts[i].expires.tv_sec == 0)
			now_plus(&loop.timeouts[i].expires, 0);
	pthread_mutex_unlock(&loop.lock);
	for (int k = 1; k < n; k++) {
		virEventHandleCallback cb = NULL;
		void *opaque = NULL;
		int fd = -1;

		if (!fds[k].revents)
			continue;
		pthread_mutex_lock(&loop.lock);
		for (size_t i = 0; i < loop.n_handles; i++)
			if (loop.handles[i].watch == watches[k] && !loop.handles[i].deleted) {
				cb = loop.handles[i].cb;
				opaque = loop.handles[i].opaque;
				fd = loop.handles[i].fd;
			}
		pthread_mutex_unlock(&loop.lock);
		if (cb)
			cb(watches[k], fd, from_poll(fds[k].revents), opaque);
	}
	free(fds);
	free(watches);
	loop_cleanup();
}

static pthread_once_t impl_once = PTHREAD_ONCE_INIT;
static int impl_result;

/* The implementation must be registered before a connection opens: the remote driver
 * registers its socket with it when it connects. */
static void register_impl(void)
{
	kt_virt_quiet();
	if (pipe2(loop.wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		impl_result = -errno;
		return;
	}
	virEventRegisterImpl(add_handle, update_handle, remove_handle, add_timeout,
			     update_timeout, remove_timeout);
	impl_result = 0;
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

static void queue_event(struct kt_virt_events *e, virDomainPtr dom, enum kt_virt_event ev)
{
	struct queued *q;

	if (e->n_queued == QUEUE_MAX) {
		/* Too much at once: a full re-check replaces the events. */
		e->overflow = true;
		return;
	}
	q = &e->queue[e->n_queued];
	if (virDomainGetUUIDString(dom, q->uuid) < 0) {
		virResetLastError();
		return;
	}
	q->ev = ev;
	e->n_queued++;
}

static int lifecycle_cb(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *data)
{
	(void)conn;
	(void)detail;
	switch (event) {
	case VIR_DOMAIN_EVENT_STARTED:
		queue_event(data, dom, KT_VIRT_STARTED);
		break;
	case VIR_DOMAIN_EVENT_STOPPED:
		queue_event(data, dom, KT_VIRT_STOPPED);
		break;
	case VIR_DOMAIN_EVENT_DEFINED:
		queue_event(data, dom, KT_VIRT_DEFINED);
		break;
	case VIR_DOMAIN_EVENT_UNDEFINED:
		queue_event(data, dom, KT_VIRT_UNDEFINED);
		break;
	default:
		break;
	}
	return 0;
}

static void device_added_cb(virConnectPtr conn, virDomainPtr dom, const char *alias, void *data)
{
	(void)conn;
	(void)alias;
	queue_event(data, dom, KT_VIRT_DEVICE_ADDED);
}

static void device_removed_cb(virConnectPtr conn, virDomainPtr dom, const char *alias,
			      void *data)
{
	(void)conn;
	(void)alias;
	queue_event(data, dom, KT_VIRT_DEVICE_REMOVED);
}

static void notify_all(struct kt_virt_events *e, enum kt_virt_event ev, const char *uuid)
{
	pthread_mutex_lock(&e->lock);
	for (int i = 0; i < e->n_subs; i++)
		e->subs[i].fn(e->subs[i].data, &e->v, ev, uuid);
	pthread_mutex_unlock(&e->lock);
}

static void deregister(struct kt_virt_events *e, virConnectPtr conn)
{
	int *ids[] = { &e->lifecycle_id, &e->added_id, &e->removed_id };

	for (size_t i = 0; i < KT_ELEMENTSOF(ids); i++) {
		if (*ids[i] >= 0)
			virConnectDomainEventDeregisterAny(conn, *ids[i]);
		*ids[i] = -1;
	}
}

/*
 * Lifecycle events, and devices plugged in and out. A driver without device events (the
 * test driver has none) leaves those ids at -1: the lifecycle events are what matters.
 */
static int register_events(struct kt_virt_events *e, virConnectPtr conn)
{
	e->lifecycle_id = virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
							   VIR_DOMAIN_EVENT_CALLBACK(lifecycle_cb),
							   e, NULL);
	if (e->lifecycle_id < 0)
		return -1;
	e->added_id = virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_DEVICE_ADDED,
						       VIR_DOMAIN_EVENT_CALLBACK(device_added_cb),
						       e, NULL);
	e->removed_id = virConnectDomainEventRegisterAny(
		conn, NULL, VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
		VIR_DOMAIN_EVENT_CALLBACK(device_removed_cb), e, NULL);
	virResetLastError();
	return 0;
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
	deregister(e, conn);
	virConnectUnregisterCloseCallback(conn, close_cb);
	virResetLastError();
	virConnectClose(conn);
}

static void try_connect(struct kt_virt_events *e)
{
	virConnectPtr conn;
	char *err = NULL;

	/* Cleared before the close callback can be registered, so that no close is missed. */
	__atomic_store_n(&e->lost, false, __ATOMIC_SEQ_CST);
	conn = virConnectOpen(e->uri);
	if (conn) {
		if (register_events(e, conn) < 0 ||
		    virConnectRegisterCloseCallback(conn, close_cb, e, NULL) < 0) {
			kt_virt_last_error(&err);
			deregister(e, conn);
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
	loop_run_once();
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
		kt_err(ctx, "cannot set up the libvirt event loop: %s", strerror(-impl_result));
		return impl_result;
	}
	if (!uri || strlen(uri) >= sizeof(e->uri))
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->ctx = kt_ctx_ref(ctx);
	snprintf(e->uri, sizeof(e->uri), "%s", uri);
	e->lifecycle_id = e->added_id = e->removed_id = -1;
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
