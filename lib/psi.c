// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "psi.h"

static int parse_line(const char *line, double *avg10, double *avg60)
{
	double a10, a60, a300;
	unsigned long long total;

	if (sscanf(line, " avg10=%lf avg60=%lf avg300=%lf total=%llu", &a10, &a60, &a300, &total) != 4)
		return -EINVAL;
	if (a10 < 0 || a10 > 100 || a60 < 0 || a60 > 100)
		return -EINVAL;
	*avg10 = a10;
	*avg60 = a60;
	return 0;
}

int kt_psi_parse(const char *text, struct kt_psi *ret)
{
	struct kt_psi psi;
	bool have_some = false;
	const char *line = text;

	memset(&psi, 0, sizeof(psi));
	while (line && *line) {
		double unused;

		if (strncmp(line, "some", 4) == 0) {
			if (parse_line(line + 4, &psi.some_avg10, &psi.some_avg60) < 0)
				return -EINVAL;
			have_some = true;
		} else if (strncmp(line, "full", 4) == 0) {
			if (parse_line(line + 4, &psi.full_avg10, &unused) < 0)
				return -EINVAL;
			psi.have_full = true;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	if (!have_some)
		return -EINVAL;
	*ret = psi;
	return 0;
}

