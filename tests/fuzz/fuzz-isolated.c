// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: a tuned variables file (written by people) rewritten with a new
 * isolated_cores, which must hold every line that assigns nothing else and end with the
 * new assignment.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "isolated.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char tail[] = "# C\nisolated_cores=1-3\n";
	char *out = NULL;
	size_t n;

	if (size > 65536)
		return 0;
	if (kt_isolated_vars_set((const char *)data, size, "C", "1-3", &out) < 0) {
		/* Refused only for NUL bytes, which a text file cannot hold. */
		if (!memchr(data, '\0', size))
			abort();
		return 0;
	}
	n = strlen(out);
	/* The output never grows beyond the input plus a final newline and the tail. */
	if (n < sizeof(tail) - 1 || strcmp(out + n - (sizeof(tail) - 1), tail) != 0 ||
	    n > size + sizeof(tail))
		abort();
	free(out);
	return 0;
}
