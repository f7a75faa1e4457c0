// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: another host's `kvmtune check --facts` (JSON, as given to --peer), read,
 * compared with itself, written and read back; and the same bytes as /proc/cpuinfo.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "migrate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kt_mig_facts peer, again, cpu = { 0 };
	struct kt_check_report rep = { 0 };
	char *text, *out = NULL;

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	kt_mig_cpuinfo_parse(text, &cpu);
	kt_mig_facts_clear(&cpu);
	if (kt_mig_facts_parse(text, size, &peer) == 0) {
		/*
		 * A host matches its own CPU, storage pools and versions (its domains' names
		 * clash, and they may use networks it lacks).
		 */
		if (kt_mig_compare(&peer, &peer, &rep) == 0)
			for (unsigned i = 0; i < rep.n; i++)
				if (rep.items[i].level != KT_CHECK_PASS &&
				    strcmp(rep.items[i].check, "peer-domains") != 0 &&
				    strcmp(rep.items[i].check, "peer-network") != 0)
					abort();
		kt_check_report_clear(&rep);
		/* What kvmtune writes, kvmtune reads back. */
		if (kt_mig_facts_format(&peer, &out) == 0) {
			if (kt_mig_facts_parse(out, strlen(out), &again) != 0)
				abort();
			kt_mig_facts_clear(&again);
			free(out);
		}
		kt_mig_facts_clear(&peer);
	}
	free(text);
	return 0;
}
