/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "ctx.h"
#include "virt.h"

/*
 * One libvirt connection with an event loop (kvmtune's poll(2) implementation of libvirt's
 * event API, see virt-events.c) on a thread of its own (kt_runner), shared by every area
 * that needs domain events (pinning, the I/O scheduler): each registers a callback. Keepalive detects a dead daemon; when
 * libvirtd goes away (close callback) the loop reconnects with backoff (0.5 s doubling to
 * 30 s) and tells every subscriber KT_VIRT_CONNECTED again, so that it re-checks every
 * domain. Callbacks run on the loop's thread, never while another one runs.
 */
enum kt_virt_event {
	/* Connected, or reconnected: every domain is to be checked again (uuid NULL). */
	KT_VIRT_CONNECTED,
	/* The connection is gone; a reconnect follows (uuid NULL). */
	KT_VIRT_DISCONNECTED,
	KT_VIRT_STARTED,
	KT_VIRT_STOPPED,
	/* Its persistent configuration was written or removed. */
	KT_VIRT_DEFINED,
	KT_VIRT_UNDEFINED,
	/* A device was plugged into or unplugged from the running domain. */
	KT_VIRT_DEVICE_ADDED,
	KT_VIRT_DEVICE_REMOVED,
	KT_VIRT_EVENT_MAX,
	KT_VIRT_EVENT_INVALID = -EINVAL,
};

const char *kt_virt_event_name(enum kt_virt_event ev);

/* v is the loop's connection, valid during the call. */
typedef void (*kt_virt_event_fn)(void *data, struct kt_virt *v, enum kt_virt_event ev,
				 const char *uuid);

struct kt_virt_events;

int kt_virt_events_new(struct kt_ctx *ctx, const char *uri, struct kt_virt_events **ret);
/* Stops and joins the thread, closes the connection. Accepts NULL; returns NULL. */
struct kt_virt_events *kt_virt_events_free(struct kt_virt_events *e);
/* Starts the thread (the first connection is tried on it); -EALREADY when it runs. */
int kt_virt_events_start(struct kt_virt_events *e);
/*
 * Adds a subscriber; it gets KT_VIRT_CONNECTED as soon as the loop is connected (at once
 * when it is already). Returns an id for kt_virt_events_unsubscribe.
 */
int kt_virt_events_subscribe(struct kt_virt_events *e, kt_virt_event_fn fn, void *data);
/* Once it returns, fn is not running and is never called again. */
void kt_virt_events_unsubscribe(struct kt_virt_events *e, int id);
int kt_virt_events_subscribers(struct kt_virt_events *e);
/*
 * A reference to the loop's connection for another thread (close it with kt_virt_close),
 * or -ENOTCONN while there is none.
 */
int kt_virt_events_connection(struct kt_virt_events *e, struct kt_virt **ret);
const char *kt_virt_events_uri(const struct kt_virt_events *e);
