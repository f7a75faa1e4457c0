// SPDX-License-Identifier: LGPL-2.1-or-later
/* kvmtune profile: write a profile on top of kvmtune's, check one as tuned would run it. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "profile.h"

/*
 * Where the tuned this was built for loads profiles from: the Makefile asks tuned.consts at
 * build time (tuned <= 2.22: /usr/lib/tuned and /etc/tuned; 2.23 and later:
 * /usr/lib/tuned/profiles and /etc/tuned/profiles). --system-dir and --user-dir override.
 */
#ifndef KT_TUNED_SYSTEM_DIR
#define KT_TUNED_SYSTEM_DIR "/usr/lib/tuned"
#endif
#ifndef KT_TUNED_USER_DIR
#define KT_TUNED_USER_DIR "/etc/tuned"
#endif

void kt_cmd_profile_help(void)
{
	printf(
	    "Usage: kvmtune profile new NAME --from PROFILE [--dir=DIR]\n"
	    "       kvmtune profile lint [--json] NAME|DIR\n"
	    "       kvmtune profile options [--man] [TYPE...]\n"
	    "       kvmtune profile dirs\n"
	    "Each also takes --system-dir=DIR and --user-dir=DIR (the directories tuned loads\n"
	    "profiles from; built in: %s and %s).\n\n"
	    "new      write DIR/NAME/tuned.conf (DIR: the user profile directory) with\n"
	    "         include=PROFILE and every variable of PROFILE and option of its kvmtune\n"
	    "         sections commented out, with its value and meaning; refuses a NAME\n"
	    "         that is not 1..64 of [A-Za-z0-9_.-] or a profile that exists\n"
	    "lint     check a profile (by name, or the directory holding its tuned.conf):\n"
	    "         includes, ${variables}, and every kvm_* section's options with the\n"
	    "         plugin's own check and messages; exit status 1 when anything is wrong\n"
	    "options  the options of kvmtune's plugins, with their defaults and meanings\n"
	    "dirs     the profile directories used\n",
	    KT_TUNED_SYSTEM_DIR, KT_TUNED_USER_DIR);
}

enum { OPT_SYSTEM_DIR = 0x100, OPT_USER_DIR, OPT_DIR, OPT_FROM, OPT_JSON, OPT_MAN };

struct profile_args {
	const char *system_dir;
	const char *user_dir;
	const char *dir;
	const char *from;
	bool json;
	bool man;
};

static int parse_args(int argc, char **argv, struct profile_args *a)
{
	static const struct option opts[] = {
	    {"system-dir", required_argument, NULL, OPT_SYSTEM_DIR},
	    {"user-dir", required_argument, NULL, OPT_USER_DIR},
	    {"dir", required_argument, NULL, OPT_DIR},
	    {"from", required_argument, NULL, OPT_FROM},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"man", no_argument, NULL, OPT_MAN},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	/* 0 starts getopt afresh: main's scan stopped at the command name (REQUIRE_ORDER). */
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_SYSTEM_DIR:
			a->system_dir = optarg;
			break;
		case OPT_USER_DIR:
			a->user_dir = optarg;
			break;
		case OPT_DIR:
			a->dir = optarg;
			break;
		case OPT_FROM:
			a->from = optarg;
			break;
		case OPT_JSON:
			a->json = true;
			break;
		case OPT_MAN:
			a->man = true;
			break;
		case 'h':
			kt_cmd_profile_help();
			return 0;
		default:
			return 2;
		}
	}
	return -1;
}

static bool absolute(const char *what, const char *dir)
{
	if (dir && dir[0] == '/')
		return true;
	fprintf(stderr, "kvmtune: error: %s=%s is invalid: expected an absolute directory\n",
		what, dir ? dir : "");
	return false;
}

static void print_report(void *data, enum kt_log_prio prio, const char *text)
{
	(void)data;
	if (prio > KT_LOG_WARNING)
		return;
	fprintf(stderr, "kvmtune: %s%s\n", prio <= KT_LOG_ERR ? "error: " : "", text);
}

static int cmd_new(struct kt_ctx *ctx, const struct kt_profile_dirs *dirs, const char *name,
		   const struct profile_args *a)
{
	kt_cleanup_free char *text = NULL;
	struct kt_profile parent;
	const char *dir = a->dir ? a->dir : dirs->dir[dirs->n - 1];
	int r;

	if (!a->from) {
		fprintf(stderr, "kvmtune: error: profile new needs --from PROFILE\n");
		return 2;
	}
	if (!absolute("--dir", dir))
		return 2;
	/* Refused before the parent is read: kt_profile_create says why. */
	if (!kt_profile_name_valid(name))
		return kt_profile_create(ctx, dirs, dir, name, "") < 0 ? 1 : 0;
	r = kt_profile_load(ctx, dirs, a->from, print_report, NULL, &parent);
	if (r < 0)
		return 1;
	/* tuned applies such a profile too, logging the same errors: the text is still right.
	 */
	if (r > 0)
		fprintf(stderr,
			"kvmtune: warning: %s has %d error%s (above), which %s inherits\n",
			a->from, r, r == 1 ? "" : "s", name);
	r = kt_profile_new_text(&parent, a->from, name, &text);
	kt_profile_clear(&parent);
	if (r < 0) {
		fprintf(stderr, "kvmtune: error: %s\n", strerror(-r));
		return 1;
	}
	r = kt_profile_create(ctx, dirs, dir, name, text);
	if (r < 0)
		return 1;
	printf("%s/%s/tuned.conf\n", dir, name);
	return 0;
}

struct lint_out {
	bool json;
	unsigned n;
	unsigned errors, warnings;
};

static const char *prio_name(enum kt_log_prio prio)
{
	return prio <= KT_LOG_ERR ? "error" : prio == KT_LOG_WARNING ? "warning" : "info";
}

static void lint_line(void *data, enum kt_log_prio prio, const char *text)
{
	struct lint_out *o = data;

	if (prio <= KT_LOG_ERR)
		o->errors++;
	else if (prio == KT_LOG_WARNING)
		o->warnings++;
	if (prio > KT_LOG_INFO)
		return;
	if (!o->json) {
		printf("%s: %s\n", prio_name(prio), text);
		return;
	}
	printf("%s\n    {\"level\": \"%s\", \"text\": ", o->n++ ? "," : "", prio_name(prio));
	kt_json_str(text);
	printf("}");
}

static int cmd_lint(struct kt_ctx *ctx, const struct kt_profile_dirs *dirs, const char *what,
		    bool json)
{
	struct lint_out o = {json, 0, 0, 0};
	char path[PATH_MAX];
	const char *target = what;
	int r;

	/* A directory is read below the root like everything else: make it absolute. */
	if (strchr(what, '/') && what[0] != '/') {
		char cwd[PATH_MAX];

		if (!getcwd(cwd, sizeof(cwd)) ||
		    (size_t)snprintf(path, sizeof(path), "%s/%s", cwd, what) >= sizeof(path)) {
			fprintf(stderr, "kvmtune: error: %s: path too long\n", what);
			return 1;
		}
		/* ./x and x/.. read as a person wrote them (below --root, the path may not
		 * exist). */
		if (strcmp(kt_ctx_root(ctx), "/") == 0 && realpath(path, cwd))
			snprintf(path, sizeof(path), "%s", cwd);
		target = path;
	}
	if (json)
		printf("{\"profile\": ");
	if (json)
		kt_json_str(what);
	if (json)
		printf(", \"messages\": [");
	r = kt_profile_lint(ctx, dirs, target, lint_line, &o);
	if (json) {
		printf("%s], \"errors\": %u, \"warnings\": %u, \"ok\": %s}\n",
		       o.n ? "\n  " : "", o.errors, o.warnings, r == 0 ? "true" : "false");
	} else if (r >= 0)
		printf("%s: %u error%s, %u warning%s\n", what, o.errors,
		       o.errors == 1 ? "" : "s", o.warnings, o.warnings == 1 ? "" : "s");
	return r == 0 ? 0 : 1;
}

/* troff for the man page: text lines must not start with '.' or '\''. */
static void man_text(const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", stdout);
		else if (*s == '-')
			fputs("\\-", stdout);
		else
			putchar(*s);
	}
}

static int cmd_options(int argc, char **argv, bool man)
{
	for (int k = 0; k < argc; k++)
		if (!kt_profile_plugin(argv[k])) {
			fprintf(stderr, "kvmtune: error: %s is not a plugin of kvmtune\n",
				argv[k]);
			return 2;
		}
	for (size_t i = 0, shown = 0; i < kt_profile_n_plugins; i++) {
		const struct kt_profile_plugin *pl = &kt_profile_plugins[i];
		bool wanted = argc == 0;

		for (int k = 0; k < argc; k++)
			wanted = wanted || strcmp(argv[k], pl->type) == 0;
		if (!wanted)
			continue;
		if (!man)
			printf("%s%s: %s\n", shown++ ? "\n" : "", pl->type, pl->summary);
		else {
			printf(".SS %s\n", pl->type);
			man_text(pl->summary);
			printf(".\n");
		}
		for (size_t k = 0; k < pl->n_options; k++) {
			const struct kt_profile_option *o = &pl->options[k];

			if (!man) {
				char nv[80];

				snprintf(nv, sizeof(nv), "%s=%s", o->name, o->def);
				printf("  %-34s %s\n", nv, o->meaning);
				continue;
			}
			printf(".TP\n.B %s", o->name);
			if (*o->def) {
				printf("=\\fI");
				man_text(o->def);
				printf("\\fR");
			}
			printf("\n");
			man_text(o->meaning);
			printf(".\n");
		}
	}
	return 0;
}

int kt_cmd_profile(struct kt_ctx *ctx, int argc, char **argv)
{
	struct profile_args a = {
	    KT_TUNED_SYSTEM_DIR, KT_TUNED_USER_DIR, NULL, NULL, false, false};
	struct kt_profile_dirs dirs;
	const char *sub;
	int r;

	r = parse_args(argc, argv, &a);
	if (r >= 0)
		return r;
	if (optind >= argc) {
		kt_cmd_profile_help();
		return 2;
	}
	if (!absolute("--system-dir", a.system_dir) || !absolute("--user-dir", a.user_dir))
		return 2;
	dirs = (struct kt_profile_dirs){{a.system_dir, a.user_dir}, 2};
	sub = argv[optind++];
	if (strcmp(sub, "options") == 0)
		return cmd_options(argc - optind, argv + optind, a.man);
	if (strcmp(sub, "dirs") == 0 && optind == argc) {
		printf("system %s\nuser   %s\n", a.system_dir, a.user_dir);
		return 0;
	}
	if (strcmp(sub, "new") == 0 && optind + 1 == argc)
		return cmd_new(ctx, &dirs, argv[optind], &a);
	if (strcmp(sub, "lint") == 0 && optind + 1 == argc)
		return cmd_lint(ctx, &dirs, argv[optind], a.json);
	fprintf(stderr, "kvmtune: error: profile takes new NAME --from PROFILE, lint NAME|DIR, "
			"options or dirs\n");
	return 2;
}
