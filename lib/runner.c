// SPDX-License-Identifier: LGPL-2.1-or-later
#include <pthread.h>
#include <time.h>

#include "macro.h"
#include "runner.h"

struct kt_runner {
	kt_runner_fn step;
	kt_runner_fn interrupt;
	void *data;
	unsigned interval_ms;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool running;
	bool stopping;
};

int kt_runner_new(kt_runner_fn step, void *data, unsigned interval_ms, struct kt_runner **ret)
{
	struct kt_runner *r;
	pthread_condattr_t attr;

	if (!step)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->step = step;
	r->data = data;
	r->interval_ms = interval_ms;
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&attr);
	/* Waits must not stretch or shrink when the wall clock is set. */
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&r->wake, &attr);
	pthread_condattr_destroy(&attr);
	*ret = r;
	return 0;
}

struct kt_runner *kt_runner_free(struct kt_runner *r)
{
	if (!r)
		return NULL;
	kt_runner_stop(r);
	pthread_cond_destroy(&r->wake);
	pthread_mutex_destroy(&r->lock);
	free(r);
	return NULL;
}

void kt_runner_set_interval(struct kt_runner *r, unsigned interval_ms)
{
	pthread_mutex_lock(&r->lock);
	r->interval_ms = interval_ms;
	pthread_mutex_unlock(&r->lock);
}

void kt_runner_set_interrupt(struct kt_runner *r, kt_runner_fn interrupt)
{
	r->interrupt = interrupt;
}

static void *loop(void *data)
{
	struct kt_runner *r = data;
	struct timespec until;

	pthread_mutex_lock(&r->lock);
	while (!r->stopping) {
		pthread_mutex_unlock(&r->lock);
		r->step(r->data);
		pthread_mutex_lock(&r->lock);
		if (r->interval_ms == 0)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += r->interval_ms / 1000;
		until.tv_nsec += (long)(r->interval_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!r->stopping && pthread_cond_timedwait(&r->wake, &r->lock, &until) == 0)
			;
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

int kt_runner_start(struct kt_runner *r)
{
	int e;

	if (r->running)
		return -EALREADY;
	r->stopping = false;
	e = pthread_create(&r->thread, NULL, loop, r);
	if (e != 0)
		return -e;
	r->running = true;
	return 0;
}

void kt_runner_stop(struct kt_runner *r)
{
	if (!r->running)
		return;
	pthread_mutex_lock(&r->lock);
	r->stopping = true;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
	if (r->interrupt)
		r->interrupt(r->data);
	pthread_join(r->thread, NULL);
	r->running = false;
}

bool kt_runner_running(struct kt_runner *r)
{
	return r->running;
}

bool kt_runner_stopping(struct kt_runner *r)
{
	bool s;

	pthread_mutex_lock(&r->lock);
	s = r->stopping;
	pthread_mutex_unlock(&r->lock);
	return s;
}
