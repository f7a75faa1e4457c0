// SPDX-License-Identifier: LGPL-2.1-or-later
/* libFuzzer target: libvirt domain XML, as a domain's owner may have written it. */
#include <stdint.h>
#include <stdlib.h>

#include "domxml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int visit(void *data, const struct kt_domxml_node *node)
{
	char *s = NULL;

	(*(int *)data)++;
	if (kt_domxml_string(node, "source/@file | source/@dev | @type", &s) == 0)
		free(s);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* What the areas ask of a domain: strings, numbers, node sets, the kvmtune namespace. */
	static const char *const exprs[] = {
		"/domain/name",
		"/domain/memory",
		"/domain/vcpu/@placement",
		"/domain/metadata/kt:tuning/@policy",
		"count(//*)",
	};
	const struct kt_domxml_node *root;
	struct kt_domxml *d = NULL;
	uint64_t v;
	int n = 0;

	if (kt_domxml_parse((const char *)data, size, &d) < 0)
		return 0;
	root = kt_domxml_root(d);
	for (size_t i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
		char *s = NULL;

		if (kt_domxml_string(root, exprs[i], &s) == 0)
			free(s);
		kt_domxml_u64(root, exprs[i], &v);
	}
	kt_domxml_each(root, "/domain/devices/*", visit, &n);
	if (kt_domxml_count(root, "/domain/devices/*") != n)
		abort();
	kt_domxml_free(d);
	return 0;
}
