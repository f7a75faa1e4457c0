// SPDX-License-Identifier: LGPL-2.1-or-later
/* The `watch` of the areas that follow guests: a tuning's subscriber on an event loop of its own. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

int kt_cmd_watch_args(int argc, char **argv, bool *ret_keep, struct kt_kvlist *ret)
{
	*ret_keep = argc > 1 && strcmp(argv[1], "--keep") == 0;
	return kt_cmd_pairs(argc, argv, *ret_keep ? 2 : 1, ret);
}

int kt_cmd_watch(struct kt_ctx *ctx, const char *uri, kt_virt_event_fn fn, void *data,
		 const char *doing, bool keep, struct kt_virt_events **ret_events)
{
	struct kt_virt_events *events = NULL;
	sigset_t stop_signals;
	int sub = -1, sig = 0, r = 0;

	/* SIGINT/SIGTERM end the watch through sigwait, so the caller's exit path restores. */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop_signals, NULL);
	/* The same loop tuned's plugins share, in the foreground. */
	if (kt_virt_events_new(ctx, uri, &events) < 0)
		r = 1;
	if (r == 0) {
		sub = kt_virt_events_subscribe(events, fn, data);
		if (sub < 0 || kt_virt_events_start(events) < 0)
			r = 1;
	}
	if (r == 0) {
		printf("%s; SIGINT or SIGTERM stops%s\n", doing,
		       keep ? " and keeps the settings" : " and puts the originals back");
		fflush(stdout);
		sigwait(&stop_signals, &sig);
	}
	if (sub >= 0)
		kt_virt_events_unsubscribe(events, sub);
	*ret_events = events;
	return r;
}
