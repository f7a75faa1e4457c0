/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/*
 * A background loop on a thread of its own: step() runs, then the thread waits
 * interval_ms (or not at all when it is 0, for a step that blocks on events by itself)
 * until the next step, until kt_runner_stop(). The KSM controller and the libvirt event
 * loop both run on one; a front-end starts and joins it, nothing else.
 */
typedef void (*kt_runner_fn)(void *data);

struct kt_runner;

int kt_runner_new(kt_runner_fn step, void *data, unsigned interval_ms, struct kt_runner **ret);
/* Stops and joins a running thread first. Accepts NULL; returns NULL. */
struct kt_runner *kt_runner_free(struct kt_runner *r);
/* The wait after the step that runs now, and after later ones; a step may call it. */
void kt_runner_set_interval(struct kt_runner *r, unsigned interval_ms);
/*
 * interrupt() is called by kt_runner_stop() on the stopping thread, so that a step blocked
 * in a wait of its own (an event loop) returns and sees the stop.
 */
void kt_runner_set_interrupt(struct kt_runner *r, kt_runner_fn interrupt);
/* -EALREADY when it runs already. */
int kt_runner_start(struct kt_runner *r);
/* Stops the thread and waits for it; a runner that is not running is left as it is. */
void kt_runner_stop(struct kt_runner *r);
bool kt_runner_running(struct kt_runner *r);
/* Whether a stop was asked for: a blocking step polls it between waits. */
bool kt_runner_stopping(struct kt_runner *r);
