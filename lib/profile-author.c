// SPDX-License-Identifier: LGPL-2.1-or-later
/* Checking a profile as tuned would run it, and writing a new one on top of another. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "io.h"
#include "profile.h"

/* ---- lint ---- */

struct lint {
	kt_profile_report_fn fn;
	void *data;
	unsigned errors;
	/* The plugin's prefix in tuned's log: "kvm_ksm" or "kvm_hugepages[hugepages_2m]". */
	char prefix[160];
};

static void lint_report(void *data, enum kt_log_prio prio, const char *text)
{
	struct lint *l = data;

	if (prio <= KT_LOG_ERR)
		l->errors++;
	if (l->fn)
		l->fn(l->data, prio, text);
}

/* The plugin's messages, prefixed as kvmtune_tuned.make_context prefixes them. */
static void lint_plugin_log(void *data, enum kt_log_prio prio, const char *msg)
{
	struct lint *l = data;
	char line[1200];

	snprintf(line, sizeof(line), "%s: %s", l->prefix, msg);
	lint_report(l, prio, line);
}

static char *strip(char *s)
{
	size_t len;

	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	len = strlen(s);
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n'))
		s[--len] = '\0';
	return s;
}

static void types_text(char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < kt_profile_n_plugins && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "",
					kt_profile_plugins[i].type);
}

static int lint_unit(const struct kt_ctx *ctx, const struct kt_profile *p,
		     const struct kt_profile_unit *u, struct lint *l)
{
	const struct kt_profile_plugin *pl = kt_profile_plugin(u->type);
	struct kt_kvlist opts = KT_KVLIST_INIT;
	struct kt_ctx *uctx = NULL;
	unsigned before;
	int r = 0;

	/* tuned makes no instance of a disabled unit: nothing of it is read. */
	if (!u->enabled)
		return 0;
	if (strcmp(u->type, u->name) == 0)
		snprintf(l->prefix, sizeof(l->prefix), "%s", u->type);
	else
		snprintf(l->prefix, sizeof(l->prefix), "%s[%s]", u->type, u->name);
	if (!pl && strncmp(u->type, "kvm_", 4) == 0) {
		char types[160], line[400];

		types_text(types, sizeof(types));
		snprintf(line, sizeof(line),
			 "[%s]: type=%s is not a kvmtune plugin: expected one of %s", u->name,
			 u->type, types);
		lint_report(l, KT_LOG_ERR, line);
		return 0;
	}
	for (size_t i = 0; r == 0 && i < u->opts.n; i++) {
		kt_cleanup_free char *v = NULL;
		unsigned unresolved = 0;
		bool function = false;
		char where[300];

		snprintf(where, sizeof(where), "[%s] %s", u->name, u->opts.items[i].key);
		r = kt_profile_expand(p, u->opts.items[i].value, where, lint_report, l, &v,
				      &unresolved, &function);
		if (r < 0 || !pl || unresolved)
			continue;
		if (function) {
			char line[600];

			/* tuned runs the function when it applies the profile; it runs here
			 * never. */
			snprintf(
			    line, sizeof(line),
			    "%s: %s=%s calls a tuned function: its value is checked when tuned "
			    "applies the profile",
			    l->prefix, u->opts.items[i].key, v);
			lint_report(l, KT_LOG_INFO, line);
			continue;
		}
		r = kt_kvlist_set(&opts, u->opts.items[i].key, strip(v));
	}
	if (r < 0 || !pl)
		goto out;
	r = kt_ctx_new(kt_ctx_root(ctx), &uctx);
	if (r < 0)
		goto out;
	kt_ctx_set_log_fn(uctx, lint_plugin_log, l);
	kt_ctx_set_log_priority(uctx, KT_LOG_INFO);
	before = l->errors;
	r = pl->check(uctx, &opts);
	if (r == -ENOMEM)
		goto out;
	if (r < 0 && l->errors == before)
		lint_plugin_log(l, KT_LOG_ERR, strerror(-r));
	r = 0;
out:
	kt_ctx_unref(uctx);
	kt_kvlist_clear(&opts);
	return r;
}

int kt_profile_lint(const struct kt_ctx *ctx, const struct kt_profile_dirs *dirs,
		    const char *name_or_dir, kt_profile_report_fn fn, void *data)
{
	struct lint l = {fn, data, 0, ""};
	struct kt_profile p;
	int r;

	r = kt_profile_load(ctx, dirs, name_or_dir, lint_report, &l, &p);
	if (r < 0)
		return r;
	for (size_t i = 0; r >= 0 && i < p.n; i++)
		r = lint_unit(ctx, &p, &p.units[i], &l);
	kt_profile_clear(&p);
	return r < 0 ? r : (int)l.errors;
}

/* ---- a new profile ---- */

struct text {
	char *s;
	size_t len;
	bool oom;
};

static void KT_PRINTF(2, 3) add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	char *n;
	int len;

	if (t->oom)
		return;
	va_start(ap, fmt);
	/* clang-analyzer 14 loses track of va_start through the format attribute. */
	len = vsnprintf(NULL, 0, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
	va_end(ap);
	n = realloc(t->s, t->len + (size_t)len + 1);
	if (!n) {
		t->oom = true;
		return;
	}
	t->s = n;
	va_start(ap, fmt);
	vsnprintf(t->s + t->len, (size_t)len + 1, fmt,
		  ap); // NOLINT(clang-analyzer-valist.Uninitialized)
	va_end(ap);
	t->len += (size_t)len;
}

/* "[kvm_ksm] thres_coef, [kvm_pin] dedicated_cpus": where the parent uses ${name}. */
static void uses(const struct kt_profile *p, const char *name, char *buf, size_t size)
{
	char ref[160];
	size_t len = 0;

	buf[0] = '\0';
	snprintf(ref, sizeof(ref), "${%s}", name);
	for (size_t i = 0; i < p->n; i++)
		for (size_t k = 0; k < p->units[i].opts.n && len < size; k++)
			if (strstr(p->units[i].opts.items[k].value, ref))
				len += (size_t)snprintf(buf + len, size - len, "%s[%s] %s",
							len ? ", " : "", p->units[i].name,
							p->units[i].opts.items[k].key);
}

int kt_profile_new_text(const struct kt_profile *parent, const char *parent_name,
			const char *name, char **ret)
{
	struct text t = {NULL, 0, false};
	const char *summary = kt_kvlist_get(&parent->main, "summary");

	add(&t,
	    "#\n# %s: a tuned profile built on %s (written by kvmtune profile new).\n"
	    "# Every line that starts with '#' and holds name=value is a setting of %s you\n"
	    "# can change: uncomment it and set your value. Then check and apply it:\n"
	    "#   kvmtune profile lint %s && tuned-adm profile %s && tuned-adm verify\n#\n\n",
	    name, parent_name, parent_name, name, name);
	add(&t, "[main]\nsummary=%s (%s with local changes)\ninclude=%s\n", name, parent_name,
	    parent_name);
	if (summary)
		add(&t, "# %s: %s\n", parent_name, summary);
	/* The variables the options use: the others are the parents' own workings. */
	add(&t,
	    "\n[variables]\n# %s's variables the options use, with the values they have on "
	    "this host:\n",
	    parent_name);
	for (size_t i = 0; i < parent->variables.n; i++) {
		const char *var = parent->variables.items[i].key;
		char used[512];

		uses(parent, var, used, sizeof(used));
		if (!*used)
			continue;
		add(&t, "# used by %s%s\n#%s=%s\n", used,
		    kt_kvlist_get(&parent->functions, var)
			? "; tuned computes it when it applies "
			  "the profile"
			: "",
		    var, parent->variables.items[i].value);
	}
	for (size_t i = 0; i < parent->n; i++) {
		const struct kt_profile_unit *u = &parent->units[i];
		const struct kt_profile_plugin *pl = kt_profile_plugin(u->type);

		if (!pl)
			continue;
		add(&t, "\n[%s]\n", u->name);
		/* A section named otherwise loses its type unless it says it again (tuned). */
		if (strcmp(u->name, u->type) != 0)
			add(&t, "type=%s\n", u->type);
		add(&t, "# %s: %s. Values set by %s, else the plugin's defaults:\n", u->type,
		    pl->summary, parent_name);
		for (size_t k = 0; k < pl->n_options; k++) {
			const struct kt_profile_option *o = &pl->options[k];
			const char *set = kt_kvlist_get(&u->opts, o->name);

			/* A meaning that says what unset does needs no note of it. */
			add(&t, "# %s%s\n#%s=%s\n", o->meaning,
			    set				  ? ""
			    : *o->def			  ? " (default)"
			    : strstr(o->meaning, "unset") ? ""
							  : " (unset: left alone)",
			    o->name, set ? set : o->def);
		}
		for (size_t k = 0; k < u->opts.n; k++)
			if (!kt_profile_plugin_option(pl, u->opts.items[k].key))
				add(&t, "# set by %s, not an option of %s\n#%s=%s\n",
				    parent_name, u->type, u->opts.items[k].key,
				    u->opts.items[k].value);
	}
	if (t.oom) {
		free(t.s);
		return -ENOMEM;
	}
	*ret = t.s;
	return 0;
}

int kt_profile_create(const struct kt_ctx *ctx, const struct kt_profile_dirs *dirs,
		      const char *dir, const char *name, const char *text)
{
	kt_cleanup_free char *found = NULL, *path = NULL, *conf = NULL;
	struct stat st;
	int r;

	if (!kt_profile_name_valid(name)) {
		kt_err(ctx, "profile name '%s' is invalid: expected " KT_PROFILE_NAME_RULE,
		       name);
		return -EINVAL;
	}
	if (dir[0] != '/' || !kt_path_is_safe(dir + 1)) {
		kt_err(ctx, "directory '%s' is invalid: expected an absolute path without '..'",
		       dir);
		return -EINVAL;
	}
	r = kt_profile_find(ctx, dirs, name, &found);
	if (r == 0) {
		kt_err(ctx, "profile '%s' exists: %s; choose another name or remove it first",
		       name, found);
		return -EEXIST;
	}
	if (asprintf(&path, "%s/%s", dir + 1, name) < 0 ||
	    asprintf(&conf, "%s/tuned.conf", path) < 0)
		return -ENOMEM;
	if (kt_stat(ctx, path, &st) == 0) {
		kt_err(ctx, "/%s exists; choose another name or remove it first", path);
		return -EEXIST;
	}
	r = kt_mkdir_p(ctx, path, 0755);
	if (r < 0) {
		kt_err(ctx, "cannot create /%s: %s", path, strerror(-r));
		return r;
	}
	r = kt_write_file_atomic(ctx, conf, text, strlen(text), 0644);
	if (r < 0)
		kt_err(ctx, "cannot write /%s: %s", conf, strerror(-r));
	return r;
}
