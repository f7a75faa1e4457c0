/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "ctx.h"
#include "ksmctl-state.h"
#include "kvlist.h"
#include "virt-events.h"

struct kt_command {
	const char *name;
	const char *summary;
	int (*run)(struct kt_ctx *ctx, int argc, char **argv);
	void (*help)(void);
};

int kt_cmd_ksm(struct kt_ctx *ctx, int argc, char **argv);
void kt_cmd_ksm_help(void);
int kt_cmd_iosched(struct kt_ctx *ctx, int argc, char **argv);
void kt_cmd_iosched_help(void);
int kt_cmd_profile(struct kt_ctx *ctx, int argc, char **argv);
void kt_cmd_profile_help(void);
int kt_cmd_restore(struct kt_ctx *ctx, int argc, char **argv);
void kt_cmd_restore_help(void);
int kt_cmd_check(struct kt_ctx *ctx, int argc, char **argv);
void kt_cmd_check_help(void);
int kt_cmd_status(struct kt_ctx *ctx, int argc, char **argv);
void kt_cmd_status_help(void);

/* A JSON string, quoted and escaped (helpers/json.c); null for NULL or "" with _or_null. */
void kt_json_str(const char *s);
void kt_json_str_or_null(const char *s);
int kt_cmd_hugepages(struct kt_ctx *ctx, int argc, char **argv);
void kt_cmd_hugepages_help(void);
int kt_cmd_pin(struct kt_ctx *ctx, int argc, char **argv);
void kt_cmd_pin_help(void);

/*
 * OPTION=VALUE arguments from argv[first] on into ret: 0, 2 (logged) for one that is not
 * of that form, 1 when memory runs out. The caller clears ret either way.
 */
int kt_cmd_pairs(int argc, char **argv, int first, struct kt_kvlist *ret);

/*
 * The KSM controller's state file, shown alike by `ksm status` and `status`
 * (helpers/controller.c): three lines whose labels are width wide, or a JSON object.
 */
const char *kt_show_when(int64_t t, char *buf, size_t size);
const char *kt_show_ago(int64_t t, char *buf, size_t size);
void kt_show_ksm_controller(const struct kt_ksmctl_statefile *sf, bool alive, int width);
void kt_json_ksm_controller(const struct kt_ksmctl_statefile *sf, bool alive);
/* A watch's arguments: [--keep] [OPTION=VALUE...], as kt_cmd_pairs returns. */
int kt_cmd_watch_args(int argc, char **argv, bool *ret_keep, struct kt_kvlist *ret);
/*
 * Subscribes fn(data) to a libvirt event loop of its own on uri, says what it is doing and
 * waits for SIGINT or SIGTERM; then unsubscribes. ret_events (NULL when it could not be
 * made) is the caller's to free once it has unapplied (pin asks it for its connection).
 * Returns 0, or 1 (logged) when the loop cannot run.
 */
int kt_cmd_watch(struct kt_ctx *ctx, const char *uri, kt_virt_event_fn fn, void *data,
		 const char *doing, bool keep, struct kt_virt_events **ret_events);
