// SPDX-License-Identifier: LGPL-2.1-or-later
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "hugepages-tuning.h"
#include "io.h"
#include "iosched.h"
#include "ksm.h"
#include "ksmctl.h"
#include "pin-domain.h"
#include "profile.h"

/*
 * A profile tree laid over the check-2node host (two NUMA nodes, 2M and 1G pools), as
 * tuned <= 2.22 lays it out: system profiles in usr/lib/tuned, the user's in etc/tuned.
 */
static const struct {
	const char *path;
	const char *text;
} tree[] = {
    {"usr/lib/tuned/virtual-host/tuned.conf",
     "[main]\nsummary=tuned's own\n[variables]\nvh_ratio=10\n[vm]\ndirty_ratio=${vh_ratio}\n"},
    {"usr/lib/tuned/kvm-base/tuned.conf",
     "# a kvmtune profile\n[main]\nsummary=Base\ninclude=virtual-host\n\n"
     "[variables]\nksm_thres_coef=20\ninclude=/etc/tuned/kvm-base-variables.conf\n\n"
     "[kvm_ksm]\nmode=dynamic\nthres_coef=${ksm_thres_coef}\ncpu_budget=${budget}\n"
     "use_zero_pages=1\n\n"
     "[hugepages_2m]\ntype=kvm_hugepages\nsize=2M\npages=0\nlibvirt_uri=none\n"},
    {"etc/tuned/kvm-base-variables.conf", "# the host's values\nbudget=40\n"},
    {"etc/tuned/other-variables.conf", "budget=30\n"},
    {"etc/tuned/few-variables.conf", "unrelated=1\n"},
    /* Good: a variable, a comment after a value, a function, an escaped reference. */
    {"etc/tuned/good/tuned.conf",
     "[main]\ninclude=kvm-base\n[variables]\nksm_thres_coef=50\n"
     "cores=${f:calc_isolated_cores:${cores}}\nplaceholder=${placeholder}\n"
     "[kvm_ksm]\ninterval=10  # seconds\n"
     "[kvm_pin]\npriority=20\nshared_cpus=${f:cpulist_online:0-3}\ndedicated_cpus=${cores}\n"
     "default_policy=shared\n"
     "[kvm_iosched]\nhdd_scheduler=auto\n[script]\nnote=\\${not_a_variable}\n"},
    {"etc/tuned/placeholder-used/tuned.conf",
     "[main]\ninclude=good\n[kvm_ksm]\ncpu_budget=${placeholder}\n"},
    {"etc/tuned/bad-value/tuned.conf",
     "[main]\ninclude=kvm-base\n[kvm_ksm]\npages_to_scan=-5\n"},
    {"etc/tuned/bad-hugepages/tuned.conf",
     "[main]\ninclude=kvm-base\n[hugepages_2m]\ntype=kvm_hugepages\nreclaim=sometimes\n"},
    {"etc/tuned/bad-pin/tuned.conf",
     "[main]\ninclude=kvm-base\n[kvm_pin]\ndedicated_cpus=64-71\n"},
    {"etc/tuned/missing-include/tuned.conf", "[main]\ninclude=kvm-base, nowhere\n"},
    {"etc/tuned/conditional-include/tuned.conf", "[main]\ninclude=kvm-base;-nowhere\n"},
    {"etc/tuned/unresolved/tuned.conf",
     "[main]\ninclude=kvm-base\n[kvm_ksm]\ncpu_budget=${undefined_budget}\n"},
    {"etc/tuned/cycle-a/tuned.conf", "[main]\ninclude=cycle-b\n"},
    {"etc/tuned/cycle-b/tuned.conf", "[main]\ninclude=cycle-a\n[kvm_ksm]\nuse_zero_pages=1\n"},
    /* tuned's overlay: a user profile of a system profile's name includes that one. */
    {"etc/tuned/kvm-base/tuned.conf", "[main]\ninclude=kvm-base\n[kvm_ksm]\nidle_pages=200\n"},
    {"etc/tuned/diamond/tuned.conf", "[main]\ninclude=good,kvm-base\n"},
    {"etc/tuned/broken/tuned.conf", "[main\ninclude=kvm-base\n"},
    {"etc/tuned/unknown-type/tuned.conf", "[main]\ninclude=kvm-base\n[x]\ntype=kvm_nope\n"},
    {"etc/tuned/unknown-option/tuned.conf", "[main]\ninclude=kvm-base\n[kvm_iosched]\nfoo=1\n"},
    /* A [variables] include= replaces the parent's, as tuned merges [variables]. */
    {"etc/tuned/vars-replaced/tuned.conf",
     "[main]\ninclude=kvm-base\n[variables]\ninclude=/etc/tuned/other-variables.conf\n"},
    {"etc/tuned/vars-lost/tuned.conf",
     "[main]\ninclude=kvm-base\n[variables]\ninclude=/etc/tuned/few-variables.conf\n"},
    {"etc/tuned/vars-missing-file/tuned.conf",
     "[main]\ninclude=kvm-base\n[variables]\ninclude=/etc/tuned/none.conf\n"},
    {"etc/tuned/disabled/tuned.conf",
     "[main]\ninclude=kvm-base\n[kvm_ksm]\nenabled=false\npages_to_scan=-5\n"
     "cpu_budget=${undefined_budget}\n"},
    {"etc/tuned/dropped/tuned.conf",
     "[main]\ninclude=kvm-base\n[kvm_ksm]\ndrop=cpu_budget; thres_coef\nidle_pages=7\n"},
    {"etc/tuned/replaced/tuned.conf",
     "[main]\ninclude=kvm-base\n[kvm_ksm]\nreplace=1\nmode=static\n"},
};

static struct fixture *tree_open(void)
{
	struct fixture *f = fixture_open("check-2node");

	for (size_t i = 0; i < KT_ELEMENTSOF(tree); i++) {
		char dir[256];

		snprintf(dir, sizeof(dir), "%s", tree[i].path);
		if (strrchr(dir, '/'))
			*strrchr(dir, '/') = '\0';
		assert_int_equal(kt_mkdir_p(f->ctx, dir, 0755), 0);
		fixture_write(f, tree[i].path, tree[i].text);
	}
	return f;
}

static const struct kt_profile_dirs dirs = {{"/usr/lib/tuned", "/etc/tuned"}, 2};

struct lines {
	char text[8192];
	unsigned errors, infos;
};

static void collect(void *data, enum kt_log_prio prio, const char *text)
{
	struct lines *l = data;
	size_t len = strlen(l->text);

	if (prio <= KT_LOG_ERR)
		l->errors++;
	else if (prio >= KT_LOG_INFO)
		l->infos++;
	snprintf(l->text + len, sizeof(l->text) - len, "%s\n", text);
}

static void test_lint(void **state)
{
	static const struct {
		const char *profile;
		int r;
		/* Lines the report must hold, "|"-separated: the plugins' very messages. */
		const char *expect;
	} cases[] = {
	    {"kvm-base", 0, ""},
	    {"/usr/lib/tuned/kvm-base", 0, ""},
	    {"good", 0,
	     "kvm_pin: shared_cpus=${f:cpulist_online:0-3} calls a tuned function|"
	     "kvm_pin: dedicated_cpus=${f:calc_isolated_cores:${cores}} calls a tuned "
	     "function"},
	    {"placeholder-used", 1,
	     "[kvm_ksm] cpu_budget: ${placeholder} is not defined: its value ${placeholder} "
	     "uses a variable nothing defines\n"},
	    {"bad-value", 1,
	     "kvm_ksm: pages_to_scan=-5 is invalid: expected an integer 0..100000\n"},
	    {"bad-hugepages", 1,
	     "kvm_hugepages[hugepages_2m]: reclaim=sometimes is invalid: expected none, "
	     "compact "
	     "or drop-caches\n"},
	    {"bad-pin", 1, "kvm_pin: dedicated_cpus=64-71"},
	    {"missing-include", 1,
	     "/etc/tuned/missing-include/tuned.conf: include=nowhere: no profile 'nowhere' in "
	     "/etc/tuned, /usr/lib/tuned\n"},
	    {"conditional-include", 0, ""},
	    {"unresolved", 1,
	     "[kvm_ksm] cpu_budget: ${undefined_budget} is not defined: no [variables] entry "
	     "of "
	     "the profile or its includes defines it\n"},
	    {"cycle-a", 1,
	     "/etc/tuned/cycle-b/tuned.conf: include=cycle-a: include cycle "
	     "/etc/tuned/cycle-a/tuned.conf -> /etc/tuned/cycle-b/tuned.conf -> "
	     "/etc/tuned/cycle-a/tuned.conf\n"},
	    {"diamond", 0, ""},
	    {"broken", 1, "/etc/tuned/broken/tuned.conf: line 1 is not [section]"},
	    {"unknown-type", 1,
	     "[x]: type=kvm_nope is not a kvmtune plugin: expected one of "
	     "kvm_ksm, kvm_hugepages, kvm_pin, kvm_iosched\n"},
	    {"unknown-option", 1, "kvm_iosched: unknown option"},
	    {"vars-replaced", 0, ""},
	    {"vars-lost", 1, "[kvm_ksm] cpu_budget: ${budget} is not defined"},
	    {"vars-missing-file", 2,
	     "[variables] include=/etc/tuned/none.conf: cannot read it: No such file or "
	     "directory\n|${budget} is not defined"},
	    {"disabled", 0, ""},
	    {"replaced", 0, ""},
	    {"nowhere", -ENOENT, "no profile 'nowhere' in /etc/tuned, /usr/lib/tuned\n"},
	    {"../etc", -EINVAL,
	     "../etc is invalid: expected a profile name or an absolute "
	     "directory\n"},
	    {"..", -EINVAL, "profile name '..' is invalid"},
	    {"bell\a", -EINVAL, "profile name 'bell\a' is invalid"},
	    {"/etc/tuned/none", -ENOENT, "/etc/tuned/none: no tuned.conf there\n"},
	};
	struct fixture *f = tree_open();

	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(cases); i++) {
		struct lines l = {"", 0, 0};
		char expect[512], *save = NULL;
		int r = kt_profile_lint(f->ctx, &dirs, cases[i].profile, collect, &l);

		if (r != cases[i].r)
			fail_msg("lint %s = %d, expected %d:\n%s", cases[i].profile, r,
				 cases[i].r, l.text);
		if (r >= 0)
			assert_int_equal(l.errors, (unsigned)r);
		snprintf(expect, sizeof(expect), "%s", cases[i].expect);
		for (char *w = strtok_r(expect, "|", &save); w; w = strtok_r(NULL, "|", &save))
			if (!strstr(l.text, w))
				fail_msg("lint %s: no \"%s\" in:\n%s", cases[i].profile, w,
					 l.text);
		if (!*cases[i].expect && l.infos == 0 && l.text[0])
			fail_msg("lint %s said:\n%s", cases[i].profile, l.text);
	}
	fixture_close(f);
}

/* What tuned would hand the plugins: merged units, overrides, variables in order. */
static void test_load(void **state)
{
	struct fixture *f = tree_open();
	struct lines l = {"", 0, 0};
	const struct kt_profile_unit *u;
	struct kt_profile p;
	char *v = NULL;

	(void)state;
	assert_int_equal(kt_profile_load(f->ctx, &dirs, "good", collect, &l, &p), 0);
	/* As tuned reads them: good, kvm-base (the user's overlay, then the system's). */
	assert_int_equal(p.files.n, 4);
	assert_string_equal(p.files.items[0].key, "etc/tuned/good/tuned.conf");
	assert_string_equal(p.files.items[1].key, "etc/tuned/kvm-base/tuned.conf");
	assert_string_equal(p.files.items[2].key, "usr/lib/tuned/kvm-base/tuned.conf");
	assert_string_equal(p.files.items[3].key, "usr/lib/tuned/virtual-host/tuned.conf");
	assert_string_equal(kt_kvlist_get(&p.variables, "ksm_thres_coef"), "50");
	assert_string_equal(kt_kvlist_get(&p.variables, "budget"), "40");
	assert_string_equal(kt_kvlist_get(&p.main, "summary"), "Base");
	assert_null(kt_profile_unit(&p, "variables"));
	u = kt_profile_unit(&p, "kvm_ksm");
	assert_non_null(u);
	assert_string_equal(u->type, "kvm_ksm");
	assert_string_equal(kt_kvlist_get(&u->opts, "interval"), "10");
	assert_string_equal(kt_kvlist_get(&u->opts, "idle_pages"), "200");
	assert_string_equal(kt_kvlist_get(&u->opts, "mode"), "dynamic");
	u = kt_profile_unit(&p, "hugepages_2m");
	assert_string_equal(u->type, "kvm_hugepages");
	assert_null(kt_kvlist_get(&u->opts, "type"));
	assert_int_equal(kt_profile_expand(&p, "${ksm_thres_coef}/${budget} \\${x}", "t", NULL,
					   NULL, &v, NULL, NULL),
			 0);
	assert_string_equal(v, "50/40 \\${x}");
	free(v);
	kt_profile_clear(&p);

	assert_int_equal(kt_profile_load(f->ctx, &dirs, "dropped", collect, &l, &p), 0);
	u = kt_profile_unit(&p, "kvm_ksm");
	assert_null(kt_kvlist_get(&u->opts, "cpu_budget"));
	assert_null(kt_kvlist_get(&u->opts, "thres_coef"));
	assert_null(kt_kvlist_get(&u->opts, "drop"));
	assert_string_equal(kt_kvlist_get(&u->opts, "mode"), "dynamic");
	assert_string_equal(kt_kvlist_get(&u->opts, "idle_pages"), "7");
	kt_profile_clear(&p);

	assert_int_equal(kt_profile_load(f->ctx, &dirs, "replaced", collect, &l, &p), 0);
	u = kt_profile_unit(&p, "kvm_ksm");
	assert_int_equal(u->opts.n, 1);
	assert_string_equal(kt_kvlist_get(&u->opts, "mode"), "static");
	kt_profile_clear(&p);
	fixture_close(f);
}

static void test_conf_parse(void **state)
{
	static const struct {
		const char *text;
		int r;
		unsigned line;
		const char *section, *name, *value;
	} cases[] = {
	    {"[a]\nx=1\n", 0, 0, "a", "x", "1"},
	    {"[a]\nx = spaced value  \n", 0, 0, "a", "x", "spaced value"},
	    {"[a]\nx=1 # comment\n", 0, 0, "a", "x", "1"},
	    {"[a]\nx=a#b\n", 0, 0, "a", "x", "a#b"},
	    {"# c\n; c\n[a]\n\nx=\n", 0, 0, "a", "x", ""},
	    {"[a]\nx=1\n[a]\nx=2\n", 0, 0, "a", "x", "2"},
	    {"[a]\n/sys/kernel/mm/x=64\n", 0, 0, "a", "/sys/kernel/mm/x", "64"},
	    {"x=1\n", -EBADMSG, 0, NULL, NULL, NULL},
	    {"[a]\nnovalue\n", -EBADMSG, 2, NULL, NULL, NULL},
	    {"[a\n", -EBADMSG, 1, NULL, NULL, NULL},
	};
	char long_line[400];

	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(cases); i++) {
		struct kt_profile_conf c;
		unsigned line = 0;
		int r = kt_profile_conf_parse(cases[i].text, false, &c, &line);

		if (r != cases[i].r)
			fail_msg("parse \"%s\" = %d, expected %d", cases[i].text, r,
				 cases[i].r);
		if (r < 0) {
			if (cases[i].line)
				assert_int_equal(line, cases[i].line);
			continue;
		}
		assert_string_equal(
		    kt_kvlist_get(&kt_profile_conf_section(&c, cases[i].section)->opts,
				  cases[i].name),
		    cases[i].value);
		kt_profile_conf_clear(&c);
	}
	/* inih reads at most KT_PROFILE_LINE_MAX characters a line: longer ones are refused. */
	memset(long_line, 'x', sizeof(long_line));
	memcpy(long_line, "[a]\nx=", 6);
	long_line[sizeof(long_line) - 1] = '\0';
	{
		struct kt_profile_conf c;
		unsigned line = 0;

		assert_int_equal(kt_profile_conf_parse(long_line, false, &c, &line), -EBADMSG);
		assert_int_equal(line, 2);
		/* A long comment is read (and cut), whatever it holds after the cut. */
		memcpy(long_line, "[a]\n#=", 6);
		memcpy(long_line + 300, "\nx=1\n", 6);
		assert_int_equal(kt_profile_conf_parse(long_line, false, &c, &line), 0);
		assert_string_equal(kt_kvlist_get(&kt_profile_conf_section(&c, "a")->opts, "x"),
				    "1");
		assert_int_equal(c.s[0].opts.n, 1);
		kt_profile_conf_clear(&c);
		assert_int_equal(kt_profile_conf_parse("a=1\n[s]\nb=2\n", true, &c, &line), 0);
		assert_string_equal(kt_kvlist_get(&kt_profile_conf_section(&c, "")->opts, "a"),
				    "1");
		kt_profile_conf_clear(&c);
	}
}

/* A new profile lists every option of the parent's kvmtune sections and lints clean. */
static void test_new(void **state)
{
	struct fixture *f = tree_open();
	struct lines l = {"", 0, 0};
	struct kt_profile p;
	char *text = NULL;

	(void)state;
	assert_int_equal(kt_profile_load(f->ctx, &dirs, "kvm-base", collect, &l, &p), 0);
	assert_int_equal(kt_profile_new_text(&p, "kvm-base", "mine", &text), 0);
	assert_non_null(strstr(text, "\n[main]\nsummary=mine (kvm-base with local changes)\n"
				     "include=kvm-base\n"));
	assert_non_null(strstr(text, "\n#ksm_thres_coef=20\n"));
	assert_non_null(strstr(text, "\n# used by [kvm_ksm] cpu_budget\n#budget=40\n"));
	/* Used by tuned's [vm] only: listed; a variable nothing uses is not. */
	assert_non_null(strstr(text, "\n# used by [vm] dirty_ratio\n#vh_ratio=10\n"));
	assert_non_null(strstr(text, "\n#thres_coef=${ksm_thres_coef}\n"));
	assert_non_null(strstr(text, "\n#idle_pages=200\n"));
	assert_non_null(strstr(text, "\n[hugepages_2m]\ntype=kvm_hugepages\n"));
	for (size_t i = 0; i < kt_profile_n_plugins; i++) {
		const struct kt_profile_plugin *pl = &kt_profile_plugins[i];

		if (strcmp(pl->type, "kvm_ksm") != 0 && strcmp(pl->type, "kvm_hugepages") != 0)
			continue;
		for (size_t k = 0; k < pl->n_options; k++) {
			char want[128];

			snprintf(want, sizeof(want), "\n# %s", pl->options[k].meaning);
			if (!strstr(text, want))
				fail_msg("no %s in:\n%s", want, text);
		}
	}
	assert_null(strstr(text, "\n[vm]\n"));
	kt_profile_clear(&p);

	assert_int_equal(kt_profile_create(f->ctx, &dirs, "/etc/tuned", "mine", text), 0);
	assert_int_equal(kt_profile_lint(f->ctx, &dirs, "mine", collect, &l), 0);
	assert_int_equal(l.errors, 0);
	fixture_clear_log(f);
	assert_int_equal(kt_profile_create(f->ctx, &dirs, "/etc/tuned", "mine", text), -EEXIST);
	assert_non_null(strstr(f->log, "profile 'mine' exists: /etc/tuned/mine"));
	assert_int_equal(kt_profile_create(f->ctx, &dirs, "/etc/tuned", "kvm-base", text),
			 -EEXIST);
	assert_int_equal(kt_profile_create(f->ctx, &dirs, "/etc/tuned", "../x", text), -EINVAL);
	assert_int_equal(kt_profile_create(f->ctx, &dirs, "/etc/tuned", "a/b", text), -EINVAL);
	assert_int_equal(kt_profile_create(f->ctx, &dirs, "/etc/tuned", "tab\tname", text),
			 -EINVAL);
	assert_int_equal(kt_profile_create(f->ctx, &dirs, "/etc/tuned", "", text), -EINVAL);
	assert_int_equal(kt_profile_create(f->ctx, &dirs, "etc/tuned", "rel", text), -EINVAL);
	free(text);
	fixture_close(f);
}

static bool in_table(const struct kt_profile_plugin *pl, const char *name)
{
	return kt_profile_plugin_option(pl, name) != NULL;
}

static void same_names(const char *type, const char *const *names)
{
	const struct kt_profile_plugin *pl = kt_profile_plugin(type);
	size_t n = 0;

	assert_non_null(pl);
	for (; names[n]; n++)
		if (!in_table(pl, names[n]))
			fail_msg("%s: option %s of the library is not in the profile table",
				 type, names[n]);
	assert_int_equal(n, pl->n_options);
}

/* The documentation table names exactly the options each plugin takes. */
static void test_option_tables(void **state)
{
	const struct kt_profile_plugin *ksm = kt_profile_plugin("kvm_ksm");
	size_t knobs = 0;

	(void)state;
	same_names("kvm_hugepages", kt_hp_option_names);
	same_names("kvm_pin", kt_pin_option_names);
	same_names("kvm_iosched", kt_iosched_options);
	for (int k = 0; k < KT_KSM_KNOB_MAX; k++)
		if (!in_table(ksm, kt_ksm_knob_name(k)))
			fail_msg("kvm_ksm: knob %s is not in the profile table",
				 kt_ksm_knob_name(k));
	for (size_t i = 0; i < ksm->n_options; i++) {
		if (kt_ksm_knob_from_name(ksm->options[i].name) >= 0)
			knobs++;
		else if (!kt_ksmctl_option_known(ksm->options[i].name))
			fail_msg("kvm_ksm: %s is neither a knob nor a controller option",
				 ksm->options[i].name);
	}
	assert_int_equal(knobs, KT_KSM_KNOB_MAX);
	assert_null(kt_profile_plugin("kvm_nope"));
	for (size_t i = 0; i < kt_profile_n_plugins; i++)
		for (size_t k = 0; k < kt_profile_plugins[i].n_options; k++)
			assert_non_null(kt_profile_plugins[i].options[k].meaning);
}

/* Each documented default is accepted by the plugin's own check. */
static void test_defaults_valid(void **state)
{
	struct fixture *f = fixture_open("check-2node");

	(void)state;
	for (size_t i = 0; i < kt_profile_n_plugins; i++) {
		const struct kt_profile_plugin *pl = &kt_profile_plugins[i];
		struct kt_kvlist opts = KT_KVLIST_INIT;

		for (size_t k = 0; k < pl->n_options; k++)
			if (*pl->options[k].def)
				assert_int_equal(kt_kvlist_set(&opts, pl->options[k].name,
							       pl->options[k].def),
						 0);
		if (pl->check(f->ctx, &opts) != 0)
			fail_msg("%s's defaults refused:\n%s", pl->type, f->log);
		kt_kvlist_clear(&opts);
	}
	fixture_close(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_conf_parse),	  cmocka_unit_test(test_load),
	    cmocka_unit_test(test_lint),	  cmocka_unit_test(test_new),
	    cmocka_unit_test(test_option_tables), cmocka_unit_test(test_defaults_valid),
	};

	return cmocka_run_group_tests(tests, host_guard_setup, host_guard_teardown);
}
