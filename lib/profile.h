/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "ctx.h"
#include "kvlist.h"

/*
 * tuned profiles as tuned reads them: tuned.conf parsed with inih, include= resolved through
 * the profile directories (later directories win, as in tuned's LOAD_DIRECTORIES), the
 * profiles merged unit by unit, and ${variables} expanded. Every path is below the context's
 * root, like every other file the library reads.
 */

/*
 * tuned.conf lines longer than this are refused (comments aside): inih reads lines of at
 * most this length.
 */
#define KT_PROFILE_LINE_MAX 199
#define KT_PROFILE_DIRS_MAX 4

/* Directories tuned loads profiles from, absolute, in tuned's order: the last one wins. */
struct kt_profile_dirs {
	const char *dir[KT_PROFILE_DIRS_MAX];
	unsigned n;
};

/* One [section] of a tuned.conf, its options in file order (a repeated name: the last wins). */
struct kt_profile_section {
	char *name;
	struct kt_kvlist opts;
};

struct kt_profile_conf {
	struct kt_profile_section *s;
	size_t n;
};

/*
 * Parses tuned.conf text as tuned's ConfigParser does: '=' separates, '#' and ';' start a
 * comment line, " #" starts a comment after a value. -EBADMSG with *ret_line set for a line
 * that is not a [section] or name=value, an option before the first section, or a line
 * other than a comment longer than KT_PROFILE_LINE_MAX. Sections of the variables file format
 * (no section at all) are read by passing section_less: options before any section go to
 * section "".
 */
int kt_profile_conf_parse(const char *text, bool section_less, struct kt_profile_conf *ret,
			  unsigned *ret_line);
void kt_profile_conf_clear(struct kt_profile_conf *c);
const struct kt_profile_section *kt_profile_conf_section(const struct kt_profile_conf *c,
							 const char *name);

/* A unit of the merged profile: a section and the plugin type it instantiates. */
struct kt_profile_unit {
	char *name;
	char *type;
	bool enabled;
	/* The plugin's options, unexpanded (tuned's own unit keys such as type= taken out). */
	struct kt_kvlist opts;
};

/* How lint and load report: prio as the log's, text a whole line. */
typedef void (*kt_profile_report_fn)(void *data, enum kt_log_prio prio, const char *text);

struct kt_profile {
	struct kt_profile_unit *units;
	size_t n;
	/* [main] merged, without include=. */
	struct kt_kvlist main;
	/* Variable name -> value expanded as tuned expands it, in tuned's order. */
	struct kt_kvlist variables;
	/* Each tuned.conf in the order tuned reads them (a profile before its includes). */
	struct kt_kvlist files;
	/* Variables whose value calls a tuned function (${f:...}): not evaluated here. */
	struct kt_kvlist functions;
	/* Variables whose value uses an undefined one (tuned keeps the text): name -> value. */
	struct kt_kvlist undefined;
};

void kt_profile_clear(struct kt_profile *p);
const struct kt_profile_unit *kt_profile_unit(const struct kt_profile *p, const char *name);

/* A profile name tuned accepts and a path can hold: 1..64 of [A-Za-z0-9_.-], no leading '.'. */
bool kt_profile_name_valid(const char *name);
#define KT_PROFILE_NAME_RULE "1..64 of [A-Za-z0-9_.-], not starting with '.'"

/*
 * The directory (absolute, with tuned.conf) of profile name, the way tuned's locator finds
 * it: the last of dirs that has it. -ENOENT when none has it.
 */
int kt_profile_find(const struct kt_ctx *ctx, const struct kt_profile_dirs *dirs,
		    const char *name, char **ret_dir);

/*
 * Loads a profile, by name or by directory (an absolute path), with every include= resolved
 * through dirs (recursively; a profile already loaded is skipped as tuned skips it, and an
 * include that leads back to a profile being loaded is reported as a cycle), merged as tuned
 * merges profiles, and its variables expanded (including a [variables] include= file).
 * Everything wrong is reported through fn; returns how many errors were reported, or
 * -ENOENT (reported) when the profile itself does not exist, or -ENOMEM.
 */
int kt_profile_load(const struct kt_ctx *ctx, const struct kt_profile_dirs *dirs,
		    const char *name_or_dir, kt_profile_report_fn fn, void *data,
		    struct kt_profile *ret);

/*
 * value with p's variables expanded as tuned expands them: ${name} replaced, \${...} left
 * for tuned's unescaping, tuned's functions (${f:...}, ${i:...}) kept. *ret_unresolved
 * counts ${name} references no variable defines (each reported through fn with where);
 * *ret_function tells whether the value calls a function. The caller frees *ret.
 */
int kt_profile_expand(const struct kt_profile *p, const char *value, const char *where,
		      kt_profile_report_fn fn, void *data, char **ret, unsigned *ret_unresolved,
		      bool *ret_function);

/*
 * Loads the profile and checks it as tuned would run it: each enabled unit of a kvmtune
 * plugin type has its options expanded and checked by the very function its plugin runs
 * before applying, whose messages are reported with the plugin's prefix ("kvm_ksm: ..." or
 * "kvm_hugepages[hugepages_2m]: ..."), exactly as the plugin logs them in tuned's log.
 * Returns how many errors were reported (0: the profile is good), or -errno.
 */
int kt_profile_lint(const struct kt_ctx *ctx, const struct kt_profile_dirs *dirs,
		    const char *name_or_dir, kt_profile_report_fn fn, void *data);

/* The documentation of one option of a kvmtune plugin: one table per plugin, shared. */
struct kt_profile_option {
	const char *name;
	/* The default, as a profile would write it; "" when unset means "not done". */
	const char *def;
	const char *meaning;
};

struct kt_profile_plugin {
	const char *type;
	const char *summary;
	const struct kt_profile_option *options;
	size_t n_options;
	/*
	 * The plugin's own check of a section's options, as it runs before applying: messages
	 * through ctx's log, -EINVAL when any is bad. Reads the host (below ctx's root) as the
	 * plugin does, writes nothing, takes no lock.
	 */
	int (*check)(const struct kt_ctx *ctx, const struct kt_kvlist *opts);
};

extern const struct kt_profile_plugin kt_profile_plugins[];
extern const size_t kt_profile_n_plugins;
const struct kt_profile_plugin *kt_profile_plugin(const char *type);
const struct kt_profile_option *kt_profile_plugin_option(const struct kt_profile_plugin *pl,
							 const char *name);

/*
 * A new profile's tuned.conf text: include=parent, then every variable of the parent and
 * every option of each of its kvmtune units commented out, with its value (the parent's or
 * the plugin's default) and its meaning. The caller frees *ret.
 */
int kt_profile_new_text(const struct kt_profile *parent, const char *parent_name,
			const char *name, char **ret);

/*
 * Creates dir/name/tuned.conf (dir absolute, below the root) from text, refusing (-EEXIST,
 * logged) a profile of that name in any of dirs or a directory already there.
 */
int kt_profile_create(const struct kt_ctx *ctx, const struct kt_profile_dirs *dirs,
		      const char *dir, const char *name, const char *text);
