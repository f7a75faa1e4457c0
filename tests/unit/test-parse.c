// SPDX-License-Identifier: LGPL-2.1-or-later
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cpulist.h"
#include "macro.h"
#include "parse.h"

static void test_int(void **state)
{
	static const struct {
		const char *in;
		long long min, max;
		int r;
		long long v;
	} cases[] = {
		{ "0", 0, 10, 0, 0 },
		{ " 42\n", 0, 100, 0, 42 },
		{ "-5", 0, 100000, -ERANGE, 0 },
		{ "-5", -10, 10, 0, -5 },
		{ "+7", 0, 10, 0, 7 },
		{ "100001", 0, 100000, -ERANGE, 0 },
		{ "9223372036854775807", 0, INT64_MAX, 0, INT64_MAX },
		{ "9223372036854775808", 0, INT64_MAX, -ERANGE, 0 },
		{ "99999999999999999999999", 0, INT64_MAX, -ERANGE, 0 },
		{ "", 0, 10, -EINVAL, 0 },
		{ "  ", 0, 10, -EINVAL, 0 },
		{ "1x", 0, 10, -EINVAL, 0 },
		{ "1 2", 0, 10, -EINVAL, 0 },
		{ "0x10", 0, 100, -EINVAL, 0 },
		{ "-", 0, 10, -EINVAL, 0 },
		{ "1.5", 0, 10, -EINVAL, 0 },
	};
	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(cases); i++) {
		long long v = -12345;
		int r = kt_parse_int(cases[i].in, cases[i].min, cases[i].max, &v);

		if (r != cases[i].r)
			fail_msg("kt_parse_int(\"%s\") = %d, expected %d", cases[i].in, r, cases[i].r);
		assert_int_equal(v, r == 0 ? cases[i].v : -12345);
	}
	assert_int_equal(kt_parse_int(NULL, 0, 1, NULL), -EINVAL);
}

static void test_bool(void **state)
{
	static const struct {
		const char *in;
		int r;
		bool v;
	} cases[] = {
		{ "1", 0, true },      { "0", 0, false },    { "true", 0, true },   { "False", 0, false },
		{ "YES", 0, true },    { "no", 0, false },   { "y", 0, true },      { "n", 0, false },
		{ "on", 0, true },     { " off ", 0, false }, { "2", -EINVAL, 0 },  { "", -EINVAL, 0 },
		{ "truee", -EINVAL, 0 }, { "yes no", -EINVAL, 0 }, { "enabled", -EINVAL, 0 },
	};
	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(cases); i++) {
		bool v = !cases[i].v;
		int r = kt_parse_bool(cases[i].in, &v);

		if (r != cases[i].r)
			fail_msg("kt_parse_bool(\"%s\") = %d, expected %d", cases[i].in, r, cases[i].r);
		if (r == 0)
			assert_int_equal(v, cases[i].v);
	}
}

static void test_size(void **state)
{
	static const struct {
		const char *in;
		int r;
		uint64_t v;
	} cases[] = {
		{ "4096", 0, 4096 },
		{ "4K", 0, 4096 },
		{ "4k", 0, 4096 },
		{ "2M", 0, 2u << 20 },
		{ "2MiB", 0, 2u << 20 },
		{ "2 MB", 0, 2u << 20 },
		{ "1G", 0, UINT64_C(1) << 30 },
		{ "1GiB", 0, UINT64_C(1) << 30 },
		{ "3T", 0, UINT64_C(3) << 40 },
		{ "16290768 kB", 0, UINT64_C(16290768) << 10 },
		{ "10B", 0, 10 },
		{ "1.5G", -EINVAL, 0 },
		{ "2X", -EINVAL, 0 },
		{ "-1K", -EINVAL, 0 },
		{ "K", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
		{ "17179869184G", -ERANGE, 0 },
		{ "2M junk", -EINVAL, 0 },
	};
	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(cases); i++) {
		uint64_t v = 7;
		int r = kt_parse_size(cases[i].in, &v);

		if (r != cases[i].r)
			fail_msg("kt_parse_size(\"%s\") = %d, expected %d", cases[i].in, r, cases[i].r);
		assert_true(v == (r == 0 ? cases[i].v : 7));
	}
}

static void test_percent(void **state)
{
	unsigned v = 1234;

	(void)state;
	assert_int_equal(kt_parse_percent("50", &v), 0);
	assert_int_equal(v, 50);
	assert_int_equal(kt_parse_percent(" 20% ", &v), 0);
	assert_int_equal(v, 20);
	assert_int_equal(kt_parse_percent("100%", &v), 0);
	assert_int_equal(v, 100);
	assert_int_equal(kt_parse_percent("101", &v), -ERANGE);
	assert_int_equal(kt_parse_percent("-1%", &v), -ERANGE);
	assert_int_equal(kt_parse_percent("%", &v), -EINVAL);
	assert_int_equal(kt_parse_percent("5%%", &v), -EINVAL);
	assert_int_equal(v, 100);
}

static void test_cpulist(void **state)
{
	static const struct {
		const char *in;
		int r;
		const char *canonical;
	} cases[] = {
		{ "0-3,8,^2", 0, "0-1,3,8" },
		{ "0", 0, "0" },
		{ " 1 , 3-5 ", 0, "1,3-5" },
		{ "^2,0-3", 0, "0-1,3" },
		{ "0-7,^2-5", 0, "0-1,6-7" },
		{ "0x0f", 0, "0-3" },
		{ "0xff,00000001", 0, "0,32-39" },
		{ "3-1", -EINVAL, NULL },
		{ "1,,2", -EINVAL, NULL },
		{ "a", -EINVAL, NULL },
		{ "", -EINVAL, NULL },
		{ "1-", -EINVAL, NULL },
		{ "8192", -ERANGE, NULL },
		{ "0xg", -EINVAL, NULL },
	};
	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(cases); i++) {
		struct kt_cpuset set;
		char buf[128];
		int r = kt_cpulist_parse(cases[i].in, &set);

		if (r != cases[i].r)
			fail_msg("kt_cpulist_parse(\"%s\") = %d, expected %d", cases[i].in, r,
				 cases[i].r);
		if (r < 0)
			continue;
		assert_true(kt_cpulist_format(&set, buf, sizeof(buf)) >= 0);
		assert_string_equal(buf, cases[i].canonical);
	}
}

static void test_cpulist_format_small_buffer(void **state)
{
	struct kt_cpuset set;
	char buf[4];

	(void)state;
	assert_int_equal(kt_cpulist_parse("0,2,4,6", &set), 0);
	assert_int_equal(kt_cpuset_count(&set), 4);
	assert_int_equal(kt_cpulist_format(&set, buf, sizeof(buf)), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_int),	 cmocka_unit_test(test_bool),
		cmocka_unit_test(test_size),	 cmocka_unit_test(test_percent),
		cmocka_unit_test(test_cpulist), cmocka_unit_test(test_cpulist_format_small_buffer),
	};

	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
