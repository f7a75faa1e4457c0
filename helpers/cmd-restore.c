// SPDX-License-Identifier: LGPL-2.1-or-later
/* kvmtune restore --orphans: crash recovery, run before tuned starts. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "restore.h"

void kt_cmd_restore_help(void)
{
	printf("Usage: kvmtune restore --orphans\n\n"
	       "Puts back the original values of every journal in /var/lib/kvmtune whose tuning\n"
	       "nobody holds now (its tuned was killed, or came back with another profile), logs\n"
	       "each and removes it. Journals of tunings applied now are left alone. Packages run\n"
	       "it before tuned starts.\n");
}

int kt_cmd_restore(struct kt_ctx *ctx, int argc, char **argv)
{
	int r;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		kt_cmd_restore_help();
		return 0;
	}
	if (argc != 2 || strcmp(argv[1], "--orphans") != 0) {
		fprintf(stderr, "kvmtune: error: restore takes --orphans (a single journal: kvmtune "
				"ksm restore NAME)\n");
		return 2;
	}
	r = kt_restore_orphans(ctx, "kvmtune restore --orphans");
	if (r < 0)
		return 1;
	printf("%d journal%s restored\n", r, r == 1 ? "" : "s");
	return 0;
}
