// SPDX-License-Identifier: LGPL-2.1-or-later
/* Command-line arguments shared by the commands. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

int kt_cmd_pairs(int argc, char **argv, int first, struct kt_kvlist *ret)
{
	for (int i = first; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (!eq) {
			fprintf(stderr, "kvmtune: error: '%s' is not OPTION=VALUE\n", argv[i]);
			return 2;
		}
		*eq = '\0';
		if (kt_kvlist_set(ret, argv[i], eq + 1) < 0) {
			*eq = '=';
			return 1;
		}
		*eq = '=';
	}
	return 0;
}
