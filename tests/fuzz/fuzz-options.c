// SPDX-License-Identifier: LGPL-2.1-or-later
/* libFuzzer target: profile options ("name=value" lines) and every value parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpulist.h"
#include "ksm.h"
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kt_kvlist opts = KT_KVLIST_INIT;
	struct kt_ksm_values vals;
	struct kt_ctx *ctx = NULL;
	char *text, *line, *save = NULL;

	if (size > 4096)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		struct kt_cpuset set;
		long long i;
		uint64_t sz;
		unsigned pct;
		bool b;
		char buf[64];

		kt_parse_int(line, INT64_MIN, INT64_MAX, &i);
		kt_parse_bool(line, &b);
		kt_parse_size(line, &sz);
		kt_parse_percent(line, &pct);
		if (kt_cpulist_parse(line, &set) == 0)
			kt_cpulist_format(&set, buf, sizeof(buf));
		if (!eq)
			continue;
		*eq = '\0';
		kt_kvlist_set(&opts, line, eq + 1);
	}
	if (kt_ctx_new("/", &ctx) == 0) {
		if (kt_ksm_values_from_options(ctx, &opts, &vals) == 0) {
			struct kt_kvlist back = KT_KVLIST_INIT;

			/* What was accepted must survive a round trip unchanged. */
			kt_ksm_values_to_kvlist(&vals, &back);
			for (size_t k = 0; k < back.n; k++) {
				char again[KT_KSM_VALUE_MAX];
				enum kt_ksm_knob knob = kt_ksm_knob_from_name(back.items[k].key);

				if (kt_ksm_normalize(knob, back.items[k].value, again) != 0 ||
				    strcmp(again, back.items[k].value) != 0)
					abort();
			}
			kt_kvlist_clear(&back);
		}
		kt_ctx_unref(ctx);
	}
	kt_kvlist_clear(&opts);
	free(text);
	return 0;
}
