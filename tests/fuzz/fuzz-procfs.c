// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: /proc/meminfo, /proc/pressure/memory, /proc/<pid>/stat and /proc/cmdline
 * as the kernel (or a dump) gives them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ksm-status.h"
#include "meminfo.h"
#include "psi.h"
#include "topology.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kt_meminfo mi;
	struct kt_psi psi;
	struct kt_cpuset isolated;
	uint64_t ticks;
	char *text;

	if (size > 65536)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	kt_meminfo_parse(text, &mi);
	kt_psi_parse(text, &psi);
	kt_proc_stat_cpu_ticks(text, &ticks);
	kt_topology_parse_cmdline(text, &isolated);
	free(text);
	return 0;
}
