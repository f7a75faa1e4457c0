// SPDX-License-Identifier: LGPL-2.1-or-later
/* libFuzzer target: a tuned profile's tuned.conf, and ${variables} in its values. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kt_profile_conf c;
	struct kt_profile p;
	unsigned line = 0;
	char *text;

	/* Text up to the first NUL: what a file read for inih holds. */
	if (size > 65536 || !(text = strndup((const char *)data, size)))
		return 0;
	/* Both the profile format and the variables file format (no section needed). */
	for (int section_less = 0; section_less < 2; section_less++) {
		if (kt_profile_conf_parse(text, section_less, &c, &line) < 0)
			continue;
		memset(&p, 0, sizeof(p));
		/* Every option of the text a variable, every value expanded against them. */
		for (size_t i = 0; i < c.n; i++)
			for (size_t k = 0; k < c.s[i].opts.n; k++)
				if (kt_kvlist_set(&p.variables, c.s[i].opts.items[k].key,
						  c.s[i].opts.items[k].value) < 0)
					abort();
		for (size_t i = 0; i < c.n; i++)
			for (size_t k = 0; k < c.s[i].opts.n; k++) {
				const char *v = c.s[i].opts.items[k].value;
				unsigned unresolved = 0;
				bool function = false;
				char *out = NULL;

				if (!c.s[i].name || !c.s[i].opts.items[k].key)
					abort();
				if (kt_profile_expand(&p, v, "fuzz", NULL, NULL, &out,
						      &unresolved, &function) < 0)
					abort();
				/* Without a reference nothing changes. */
				if (!strstr(v, "${") &&
				    (strcmp(out, v) != 0 || unresolved || function))
					abort();
				free(out);
			}
		kt_profile_clear(&p);
		kt_profile_conf_clear(&c);
	}
	free(text);
	return 0;
}
