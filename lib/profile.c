// SPDX-License-Identifier: LGPL-2.1-or-later
/* tuned profiles: tuned.conf with inih, include=, merging and ${variables} as tuned does. */
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "io.h"
#include "profile.h"

/* tuned's include chains are a few deep; deeper means something loops through new names. */
#define DEPTH_MAX 16

/* ---- tuned.conf ---- */

struct conf_parse {
	struct kt_profile_conf *conf;
	bool section_less;
	int error;
};

static struct kt_profile_section *section_add(struct kt_profile_conf *c, const char *name)
{
	struct kt_profile_section *s;

	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->s[i].name, name) == 0)
			return &c->s[i];
	s = realloc(c->s, (c->n + 1) * sizeof(*s));
	if (!s)
		return NULL;
	c->s = s;
	s = &c->s[c->n];
	s->name = strdup(name);
	if (!s->name)
		return NULL;
	s->opts = (struct kt_kvlist)KT_KVLIST_INIT;
	c->n++;
	return s;
}

static int conf_line(void *user, const char *section, const char *name, const char *value)
{
	struct conf_parse *p = user;
	struct kt_profile_section *s;
	char *v, *hash;
	int r;

	if (!*section && !p->section_less) {
		p->error = -EBADMSG;
		return 0;
	}
	v = strdup(value);
	if (!v) {
		p->error = -ENOMEM;
		return 0;
	}
	/* tuned's ConfigParser takes '#' after white space as the start of a comment. */
	for (hash = strchr(v, '#'); hash; hash = strchr(hash + 1, '#'))
		if (hash > v && (hash[-1] == ' ' || hash[-1] == '\t')) {
			*hash = '\0';
			break;
		}
	for (size_t len = strlen(v); len && (v[len - 1] == ' ' || v[len - 1] == '\t'); len--)
		v[len - 1] = '\0';
	s = section_add(p->conf, section);
	r = s ? kt_kvlist_set(&s->opts, name, v) : -ENOMEM;
	free(v);
	if (r < 0) {
		p->error = r;
		return 0;
	}
	return 1;
}

void kt_profile_conf_clear(struct kt_profile_conf *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->s[i].name);
		kt_kvlist_clear(&c->s[i].opts);
	}
	free(c->s);
	c->s = NULL;
	c->n = 0;
}

static bool is_comment(const char *line)
{
	line += strspn(line, " \t");
	return *line == '#' || *line == ';';
}

/*
 * inih's reader (fgets-like: at most num - 1 characters of a line): a longer comment line
 * is cut, as nothing of it counts; a longer line of another kind was refused before.
 */
static char *conf_reader(char *str, int num, void *stream)
{
	const char **pos = stream;
	size_t len = strcspn(*pos, "\n"), n;

	if (!**pos || num < 2)
		return NULL;
	n = len < (size_t)num - 2 ? len : (size_t)num - 2;
	memcpy(str, *pos, n);
	str[n] = '\n';
	str[n + 1] = '\0';
	*pos += len;
	if (**pos)
		(*pos)++;
	return str;
}

int kt_profile_conf_parse(const char *text, bool section_less, struct kt_profile_conf *ret,
			  unsigned *ret_line)
{
	struct kt_profile_conf c = {NULL, 0};
	struct conf_parse p = {&c, section_less, 0};
	const char *pos = text;
	unsigned line = 1;
	int r;

	/* inih reads lines of at most KT_PROFILE_LINE_MAX characters: a longer one is refused.
	 */
	for (const char *t = text; *t; line++) {
		size_t len = strcspn(t, "\n");

		if (len > KT_PROFILE_LINE_MAX && !is_comment(t)) {
			if (ret_line)
				*ret_line = line;
			return -EBADMSG;
		}
		t += len;
		if (*t)
			t++;
	}
	r = ini_parse_stream(conf_reader, &pos, conf_line, &p);
	if (p.error == -ENOMEM || r < 0) {
		kt_profile_conf_clear(&c);
		return -ENOMEM;
	}
	if (r > 0 || p.error) {
		if (ret_line)
			*ret_line = r > 0 ? (unsigned)r : 0;
		kt_profile_conf_clear(&c);
		return -EBADMSG;
	}
	*ret = c;
	return 0;
}

const struct kt_profile_section *kt_profile_conf_section(const struct kt_profile_conf *c,
							 const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->s[i].name, name) == 0)
			return &c->s[i];
	return NULL;
}

/* ---- names and directories ---- */

bool kt_profile_name_valid(const char *name)
{
	return kt_name_is_safe(name);
}

static int dir_has_conf(const struct kt_ctx *ctx, const char *dir)
{
	char path[4096];
	struct stat st;

	if ((size_t)snprintf(path, sizeof(path), "%s/tuned.conf", dir + 1) >= sizeof(path))
		return -ENAMETOOLONG;
	if (kt_stat(ctx, path, &st) < 0)
		return 0;
	return S_ISREG(st.st_mode);
}

int kt_profile_find(const struct kt_ctx *ctx, const struct kt_profile_dirs *dirs,
		    const char *name, char **ret_dir)
{
	if (!kt_profile_name_valid(name))
		return -EINVAL;
	for (unsigned i = dirs->n; i-- > 0;) {
		char *d;

		if (asprintf(&d, "%s/%s", dirs->dir[i], name) < 0)
			return -ENOMEM;
		if (dir_has_conf(ctx, d) > 0) {
			*ret_dir = d;
			return 0;
		}
		free(d);
	}
	return -ENOENT;
}

/* ---- reporting ---- */

struct report {
	kt_profile_report_fn fn;
	void *data;
	unsigned errors;
};

static void KT_PRINTF(3, 4)
    report(struct report *rp, enum kt_log_prio prio, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	/* clang-analyzer 14 loses track of va_start through the format attribute. */
	vsnprintf(buf, sizeof(buf), fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
	va_end(ap);
	if (prio <= KT_LOG_ERR)
		rp->errors++;
	if (rp->fn)
		rp->fn(rp->data, prio, buf);
}

static void dirs_text(const struct kt_profile_dirs *dirs, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned i = dirs->n; i-- > 0 && len < size;)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
					i + 1 < dirs->n ? ", " : "", dirs->dir[i]);
}

/* ---- loading and merging ---- */

void kt_profile_clear(struct kt_profile *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->units[i].name);
		free(p->units[i].type);
		kt_kvlist_clear(&p->units[i].opts);
	}
	free(p->units);
	kt_kvlist_clear(&p->main);
	kt_kvlist_clear(&p->variables);
	kt_kvlist_clear(&p->files);
	kt_kvlist_clear(&p->functions);
	kt_kvlist_clear(&p->undefined);
	memset(p, 0, sizeof(*p));
}

const struct kt_profile_unit *kt_profile_unit(const struct kt_profile *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->units[i].name, name) == 0)
			return &p->units[i];
	return NULL;
}

/* Keys tuned's Unit takes for itself; the rest are the plugin's options. */
static const char *const unit_keys[] = {
    "type",
    "enabled",
    "replace",
    "drop",
    "devices",
    "devices_udev_regex",
    "cpuinfo_regex",
    "uname_regex",
    "script_pre",
    "script_post",
    /* tuned's unit manager takes it out of the options (2.20), its Unit from 2.25 on. */
    "priority",
};

static bool is_unit_key(const char *key)
{
	for (size_t i = 0; i < KT_ELEMENTSOF(unit_keys); i++)
		if (strcmp(key, unit_keys[i]) == 0)
			return true;
	return false;
}

/* tuned's spelling of true for enabled= and replace=. */
static bool unit_true(const char *v)
{
	return strcmp(v, "True") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
}

static struct kt_profile_unit *unit_get(struct kt_profile *p, const char *name, bool *ret_new)
{
	struct kt_profile_unit *u;

	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->units[i].name, name) == 0) {
			*ret_new = false;
			return &p->units[i];
		}
	u = realloc(p->units, (p->n + 1) * sizeof(*u));
	if (!u)
		return NULL;
	p->units = u;
	u = &p->units[p->n];
	memset(u, 0, sizeof(*u));
	u->name = strdup(name);
	if (!u->name)
		return NULL;
	p->n++;
	*ret_new = true;
	return u;
}

/* One section merged into the units as tuned's Merger does (profile b over profile a). */
static int unit_merge(struct kt_profile *p, const struct kt_profile_section *s)
{
	const char *type = kt_kvlist_get(&s->opts, "type");
	const char *enabled = kt_kvlist_get(&s->opts, "enabled");
	const char *replace = kt_kvlist_get(&s->opts, "replace");
	const char *drop = kt_kvlist_get(&s->opts, "drop");
	struct kt_profile_unit *u;
	bool fresh;
	char *t;

	u = unit_get(p, s->name, &fresh);
	if (!u)
		return -ENOMEM;
	if (!fresh && replace && unit_true(replace))
		kt_kvlist_clear(&u->opts);
	/* type defaults to the section's name each time a profile names the section. */
	t = strdup(type ? type : s->name);
	if (!t)
		return -ENOMEM;
	free(u->type);
	u->type = t;
	u->enabled = !enabled || unit_true(enabled);
	if (drop && !fresh) {
		struct kt_kvlist names = KT_KVLIST_INIT, kept = KT_KVLIST_INIT;
		char *list = strdup(drop), *save = NULL;
		int r = list ? 0 : -ENOMEM;

		for (char *w = list ? strtok_r(list, ",; \t", &save) : NULL; w && r == 0;
		     w = strtok_r(NULL, ",; \t", &save))
			r = kt_kvlist_set(&names, w, "");
		for (size_t i = 0; i < u->opts.n && r == 0; i++)
			if (!kt_kvlist_get(&names, u->opts.items[i].key))
				r = kt_kvlist_set(&kept, u->opts.items[i].key,
						  u->opts.items[i].value);
		free(list);
		kt_kvlist_clear(&names);
		if (r < 0) {
			kt_kvlist_clear(&kept);
			return r;
		}
		kt_kvlist_clear(&u->opts);
		u->opts = kept;
	}
	for (size_t i = 0; i < s->opts.n; i++)
		if (!is_unit_key(s->opts.items[i].key) &&
		    kt_kvlist_set(&u->opts, s->opts.items[i].key, s->opts.items[i].value) < 0)
			return -ENOMEM;
	return 0;
}

struct load {
	const struct kt_ctx *ctx;
	const struct kt_profile_dirs *dirs;
	struct kt_profile *p;
	struct report rp;
	/* tuned.conf paths (below the root) being loaded: an include of one of them loops. */
	const char *stack[DEPTH_MAX];
	unsigned depth;
};

/* ${i:PROFILE_DIR} is replaced when tuned reads a file, by the file's directory. */
static int profile_dir_expand(const char *value, const char *dir, char **ret)
{
	static const char key[] = "${i:PROFILE_DIR}";
	size_t len = 0, cap = strlen(value) + 1;
	char *out = malloc(cap);

	if (!out)
		return -ENOMEM;
	for (const char *v = value; *v;) {
		if (strncmp(v, key, sizeof(key) - 1) == 0 && (v == value || v[-1] != '\\')) {
			char *n;

			cap += strlen(dir);
			n = realloc(out, cap);
			if (!n) {
				free(out);
				return -ENOMEM;
			}
			out = n;
			memcpy(out + len, dir, strlen(dir));
			len += strlen(dir);
			v += sizeof(key) - 1;
		} else
			out[len++] = *v++;
	}
	out[len] = '\0';
	*ret = out;
	return 0;
}

static int load_file(struct load *l, const char *name, const char *conf_path, const char *dir);

/*
 * tuned's locator: the last directory whose name/tuned.conf was not loaded yet. A file
 * loaded before is skipped (tuned loads each once); one still being loaded is a cycle.
 */
static int include_one(struct load *l, const char *from, const char *spec)
{
	bool conditional = spec[0] == '-';
	const char *name = conditional ? spec + 1 : spec;
	const char *looped = NULL;
	bool skipped = false;
	char dirs[512];

	if (!kt_profile_name_valid(name)) {
		report(&l->rp, KT_LOG_ERR,
		       "%s: include=%s is invalid: expected profile names "
		       "of " KT_PROFILE_NAME_RULE,
		       from, spec);
		return 0;
	}
	for (unsigned i = l->dirs->n; i-- > 0;) {
		kt_cleanup_free char *dir = NULL, *conf = NULL;
		bool seen = false;
		int r;

		if (asprintf(&dir, "%s/%s", l->dirs->dir[i], name) < 0 ||
		    asprintf(&conf, "%s/tuned.conf", dir + 1) < 0)
			return -ENOMEM;
		for (size_t k = 0; k < l->p->files.n && !seen; k++)
			seen = strcmp(l->p->files.items[k].key, conf) == 0;
		if (seen) {
			skipped = true;
			for (unsigned k = 0; k < l->depth; k++)
				if (strcmp(l->stack[k], conf) == 0)
					looped = l->stack[k];
			continue;
		}
		r = dir_has_conf(l->ctx, dir);
		if (r < 0)
			return r;
		if (r > 0)
			return load_file(l, name, conf, dir);
	}
	if (looped) {
		char chain[1024];
		size_t len = 0;
		unsigned k = 0;

		while (k < l->depth && strcmp(l->stack[k], looped) != 0)
			k++;
		for (; k < l->depth && len < sizeof(chain); k++)
			len += (size_t)snprintf(chain + len, sizeof(chain) - len, "/%s -> ",
						l->stack[k]);
		report(&l->rp, KT_LOG_ERR, "%s: include=%s: include cycle %s/%s", from, spec,
		       chain, looped);
		return 0;
	}
	if (conditional || skipped)
		return 0;
	dirs_text(l->dirs, dirs, sizeof(dirs));
	report(&l->rp, KT_LOG_ERR, "%s: include=%s: no profile '%s' in %s", from, spec, name,
	       dirs);
	return 0;
}

static int load_file(struct load *l, const char *name, const char *conf_path, const char *dir)
{
	struct kt_profile_conf c = {NULL, 0};
	kt_cleanup_free char *text = NULL;
	const struct kt_profile_section *main_s;
	unsigned line = 0;
	int r;

	if (l->depth == DEPTH_MAX) {
		report(&l->rp, KT_LOG_ERR, "/%s: includes nest deeper than %d profiles",
		       conf_path, DEPTH_MAX);
		return 0;
	}
	r = kt_kvlist_set(&l->p->files, conf_path, name);
	if (r < 0)
		return r;
	r = kt_read_file(l->ctx, conf_path, &text, NULL);
	if (r < 0) {
		report(&l->rp, KT_LOG_ERR, "/%s: cannot read it: %s", conf_path, strerror(-r));
		return r == -ENOMEM ? r : 0;
	}
	r = kt_profile_conf_parse(text, false, &c, &line);
	if (r == -EBADMSG) {
		report(&l->rp, KT_LOG_ERR,
		       "/%s: line %u is not [section] or name=value (of at most %d characters) "
		       "inside a section",
		       conf_path, line, KT_PROFILE_LINE_MAX);
		return 0;
	}
	if (r < 0)
		return r;
	/* ${i:PROFILE_DIR} is the file's own directory, whichever profile includes it. */
	for (size_t i = 0; i < c.n; i++)
		for (size_t k = 0; k < c.s[i].opts.n; k++) {
			char *v;

			r = profile_dir_expand(c.s[i].opts.items[k].value, dir, &v);
			if (r < 0)
				goto out;
			free(c.s[i].opts.items[k].value);
			c.s[i].opts.items[k].value = v;
		}
	main_s = kt_profile_conf_section(&c, "main");
	l->stack[l->depth++] = conf_path;
	if (main_s && kt_kvlist_get(&main_s->opts, "include")) {
		kt_cleanup_free char *list = strdup(kt_kvlist_get(&main_s->opts, "include"));
		char *save = NULL, from[512];

		if (!list) {
			r = -ENOMEM;
			goto pop;
		}
		snprintf(from, sizeof(from), "/%s", conf_path);
		for (char *w = strtok_r(list, ",; \t", &save); w;
		     w = strtok_r(NULL, ",; \t", &save)) {
			r = include_one(l, from, w);
			if (r < 0)
				goto pop;
		}
	}
	for (size_t i = 0; i < c.n; i++) {
		if (strcmp(c.s[i].name, "main") == 0) {
			for (size_t k = 0; k < c.s[i].opts.n; k++)
				if (strcmp(c.s[i].opts.items[k].key, "include") != 0 &&
				    kt_kvlist_set(&l->p->main, c.s[i].opts.items[k].key,
						  c.s[i].opts.items[k].value) < 0) {
					r = -ENOMEM;
					goto pop;
				}
			continue;
		}
		r = unit_merge(l->p, &c.s[i]);
		if (r < 0)
			goto pop;
	}
	r = 0;
pop:
	l->depth--;
out:
	kt_profile_conf_clear(&c);
	return r;
}

/* ---- variables ---- */

static bool is_word(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* The '}' closing the "${" at s, counting nested "${"; NULL when there is none. */
static const char *closing(const char *s)
{
	unsigned depth = 0;

	for (const char *c = s; *c; c++) {
		if (c[0] == '$' && c[1] == '{') {
			depth++;
			c++;
		} else if (*c == '}' && --depth == 0)
			return c;
	}
	return NULL;
}

struct buf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *ns = realloc(b->s, cap);

		if (!ns) {
			b->oom = true;
			return;
		}
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/*
 * lenient: an undefined ${name} is only noted (tuned leaves it as written), as inside a
 * function's arguments and in [variables], where "x = ${x}" is tuned's idiom for a
 * variable a child profile may define.
 */
static void expand_into(const struct kt_profile *p, const char *v, size_t n, const char *where,
			struct report *rp, struct buf *b, unsigned *unresolved, bool *function,
			bool lenient)
{
	const char *end = v + n;

	while (v < end) {
		const char *close;

		if (v[0] == '\\' && v + 1 < end && v[1] == '$') {
			/* An escaped reference stays for tuned to unescape. */
			buf_add(b, v, 2);
			v += 2;
			continue;
		}
		if (!(v[0] == '$' && v + 1 < end && v[1] == '{') || !(close = closing(v)) ||
		    close >= end) {
			buf_add(b, v, 1);
			v++;
			continue;
		}
		if ((v[2] == 'f' || v[2] == 'i') && v[3] == ':') {
			/* A tuned function: its arguments may hold variables; tuned runs it. */
			buf_add(b, v, 4);
			expand_into(p, v + 4, (size_t)(close - v - 4), where, rp, b, unresolved,
				    function, true);
			buf_add(b, "}", 1);
			*function = true;
		} else {
			const char *name = v + 2;
			size_t len = (size_t)(close - name);
			bool word = len > 0;

			for (size_t i = 0; i < len; i++)
				word = word && is_word(name[i]);
			if (word) {
				char key[128];
				const char *value = NULL;

				if (len < sizeof(key)) {
					memcpy(key, name, len);
					key[len] = '\0';
					value = kt_kvlist_get(&p->variables, key);
					if (value && kt_kvlist_get(&p->functions, key))
						*function = true;
				}
				if (value)
					buf_add(b, value, strlen(value));
				else if (lenient) {
					buf_add(b, v, (size_t)(close - v) + 1);
					(*unresolved)++;
					report(rp, KT_LOG_DEBUG,
					       "%s: ${%.*s} is not defined: left as written",
					       where, (int)len, name);
				} else {
					const char *via =
					    len < sizeof(key)
						? kt_kvlist_get(&p->undefined, key)
						: NULL;

					buf_add(b, v, (size_t)(close - v) + 1);
					(*unresolved)++;
					if (via)
						report(
						    rp, KT_LOG_ERR,
						    "%s: ${%.*s} is not defined: its value %s "
						    "uses a variable nothing defines",
						    where, (int)len, name, via);
					else
						report(rp, KT_LOG_ERR,
						       "%s: ${%.*s} is not defined: no "
						       "[variables] "
						       "entry of the profile or its includes "
						       "defines it",
						       where, (int)len, name);
				}
			} else
				buf_add(b, v, (size_t)(close - v) + 1);
		}
		v = close + 1;
	}
}

static int expand(const struct kt_profile *p, const char *value, const char *where,
		  struct report *rp, bool lenient, char **ret, unsigned *ret_unresolved,
		  bool *ret_function)
{
	struct buf b = {NULL, 0, 0, false};
	unsigned unresolved = 0;
	bool function = false;

	buf_add(&b, "", 0);
	expand_into(p, value, strlen(value), where, rp, &b, &unresolved, &function, lenient);
	if (b.oom) {
		free(b.s);
		return -ENOMEM;
	}
	*ret = b.s;
	if (ret_unresolved)
		*ret_unresolved = unresolved;
	if (ret_function)
		*ret_function = function;
	return 0;
}

int kt_profile_expand(const struct kt_profile *p, const char *value, const char *where,
		      kt_profile_report_fn fn, void *data, char **ret, unsigned *ret_unresolved,
		      bool *ret_function)
{
	struct report rp = {fn, data, 0};

	return expand(p, value, where, &rp, false, ret, ret_unresolved, ret_function);
}

static int variable_add(struct load *l, const char *name, const char *value, const char *where)
{
	kt_cleanup_free char *v = NULL;
	unsigned unresolved = 0;
	bool function = false;
	char w[512];
	int r;

	for (const char *c = name; *c; c++)
		if (!is_word(*c)) {
			report(
			    &l->rp, KT_LOG_ERR,
			    "%s: variable name '%s' is invalid: expected letters, digits and _",
			    where, name);
			return 0;
		}
	snprintf(w, sizeof(w), "%s %s", where, name);
	r = expand(l->p, value, w, &l->rp, true, &v, &unresolved, &function);
	if (r < 0)
		return r;
	/*
	 * tuned keeps "${x}" as the value; a unit that uses the variable then gets that, so it
	 * stays undefined here and such a use is reported where it is.
	 */
	if (unresolved && !function)
		return kt_kvlist_set(&l->p->undefined, name, value);
	r = kt_kvlist_set(&l->p->variables, name, v);
	if (r == 0 && function)
		r = kt_kvlist_set(&l->p->functions, name, "");
	return r;
}

/* A variables file: key=value lines, with or without sections, every one a variable. */
static int variables_file(struct load *l, const char *path, const char *where)
{
	struct kt_profile_conf c = {NULL, 0};
	kt_cleanup_free char *text = NULL;
	unsigned line = 0;
	int r;

	if (path[0] != '/') {
		report(&l->rp, KT_LOG_ERR,
		       "%s include=%s is invalid: expected an absolute path", where, path);
		return 0;
	}
	r = kt_read_file(l->ctx, path + 1, &text, NULL);
	if (r < 0) {
		report(&l->rp, KT_LOG_ERR, "%s include=%s: cannot read it: %s", where, path,
		       strerror(-r));
		return r == -ENOMEM ? r : 0;
	}
	r = kt_profile_conf_parse(text, true, &c, &line);
	if (r == -EBADMSG) {
		report(&l->rp, KT_LOG_ERR, "%s: line %u is not name=value", path, line);
		return 0;
	}
	for (size_t i = 0; r == 0 && i < c.n; i++)
		for (size_t k = 0; r == 0 && k < c.s[i].opts.n; k++)
			r = variable_add(l, c.s[i].opts.items[k].key,
					 c.s[i].opts.items[k].value, path);
	kt_profile_conf_clear(&c);
	return r;
}

static int variables_resolve(struct load *l)
{
	struct kt_profile_unit *vars = NULL;
	int r = 0;

	for (size_t i = 0; i < l->p->n; i++)
		if (strcmp(l->p->units[i].name, "variables") == 0)
			vars = &l->p->units[i];
	if (!vars)
		return 0;
	for (size_t i = 0; r == 0 && i < vars->opts.n; i++) {
		const char *key = vars->opts.items[i].key, *value = vars->opts.items[i].value;

		if (strcmp(key, "include") == 0)
			r = variables_file(l, value, "[variables]");
		else
			r = variable_add(l, key, value, "[variables]");
	}
	/* tuned takes [variables] out of the units once read. */
	free(vars->name);
	free(vars->type);
	kt_kvlist_clear(&vars->opts);
	*vars = l->p->units[--l->p->n];
	return r;
}

int kt_profile_load(const struct kt_ctx *ctx, const struct kt_profile_dirs *dirs,
		    const char *name_or_dir, kt_profile_report_fn fn, void *data,
		    struct kt_profile *ret)
{
	struct kt_profile p;
	struct load l = {ctx, dirs, &p, {fn, data, 0}, {NULL}, 0};
	kt_cleanup_free char *dir = NULL, *conf = NULL;
	const char *name;
	int r;

	memset(&p, 0, sizeof(p));
	if (strchr(name_or_dir, '/')) {
		size_t len = strlen(name_or_dir);

		if (name_or_dir[0] != '/') {
			report(&l.rp, KT_LOG_ERR,
			       "%s is invalid: expected a profile name or an "
			       "absolute directory",
			       name_or_dir);
			return -EINVAL;
		}
		while (len > 1 && name_or_dir[len - 1] == '/')
			len--;
		dir = strndup(name_or_dir, len);
		if (!dir)
			return -ENOMEM;
		name = strrchr(dir, '/') + 1;
		if (dir_has_conf(ctx, dir) <= 0) {
			report(&l.rp, KT_LOG_ERR, "%s: no tuned.conf there", dir);
			return -ENOENT;
		}
	} else {
		char dirs_buf[512];

		if (!kt_profile_name_valid(name_or_dir)) {
			report(&l.rp, KT_LOG_ERR,
			       "profile name '%s' is invalid: expected " KT_PROFILE_NAME_RULE,
			       name_or_dir);
			return -EINVAL;
		}
		r = kt_profile_find(ctx, dirs, name_or_dir, &dir);
		if (r == -ENOENT) {
			dirs_text(dirs, dirs_buf, sizeof(dirs_buf));
			report(&l.rp, KT_LOG_ERR, "no profile '%s' in %s", name_or_dir,
			       dirs_buf);
		}
		if (r < 0)
			return r;
		name = name_or_dir;
	}
	if (asprintf(&conf, "%s/tuned.conf", dir + 1) < 0)
		return -ENOMEM;
	r = load_file(&l, name, conf, dir);
	if (r == 0)
		r = variables_resolve(&l);
	if (r < 0) {
		kt_profile_clear(&p);
		return r;
	}
	*ret = p;
	return (int)l.rp.errors;
}
