// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: the hugepage parsers of outside input. The whole input is a domain's
 * XML (what libvirt hands over) for every page size; each line is also a pages= value, a
 * size= value and a headroom, and every accepted spec is planned on a 2-node host.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hugepages-plan.h"
#include "hugepages.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void plan(const struct kt_hp_pages_spec *spec, const struct kt_hp_domain *d, unsigned nd)
{
	static const struct kt_hp_host_node nodes[] = {
		{ 0, UINT64_C(12) << 30, 512, 256 },
		{ 1, UINT64_C(12) << 30, 0, 0 },
	};
	struct kt_hp_plan_input in = { 2048, spec, 7, false, nodes, 2, d, nd };
	struct kt_hp_plan p;
	char why[160];

	if (kt_hp_plan(&in, &p, why, sizeof(why)) == 0)
		for (unsigned i = 0; i < p.n; i++)
			if (p.nodes[i].target < nodes[i].in_use)
				abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t sizes[] = { 4, 64, 2048, 32768, 1048576 };
	struct kt_hp_domain d = { 0 };
	unsigned nd = 0;
	char *text, *line, *save = NULL;

	if (size > 65536)
		return 0;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct kt_hp_domain one;

		if (kt_hp_domain_parse((const char *)data, size, sizes[i], 2048, &one) == 0 &&
		    sizes[i] == 2048) {
			d = one;
			nd = 1;
		}
	}
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct kt_hp_pages_spec spec;
		uint64_t kb;

		kt_hp_size_parse(line, &kb);
		if (kt_hp_pages_parse(line, &spec) == 0)
			plan(&spec, &d, nd);
	}
	free(text);
	return 0;
}
