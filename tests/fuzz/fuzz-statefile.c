// SPDX-License-Identifier: LGPL-2.1-or-later
/* libFuzzer target: the controller's state file, as `kvmtune ksm status` reads it from run/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ksmctl-state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kt_ksmctl_statefile sf, again;
	char out[2048];
	char *text;
	int n;

	if (size > 4096)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (kt_ksmctl_statefile_parse(text, &sf) == 0) {
		/* What was accepted is written back and reads the same. */
		n = kt_ksmctl_statefile_format(&sf, out, sizeof(out));
		if (n < 0 || kt_ksmctl_statefile_parse(out, &again) != 0 ||
		    strcmp(again.owner, sf.owner) != 0 || strcmp(again.phase, sf.phase) != 0 ||
		    again.pid != sf.pid || again.since != sf.since)
			abort();
	}
	free(text);
	return 0;
}
