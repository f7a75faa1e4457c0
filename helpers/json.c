// SPDX-License-Identifier: LGPL-2.1-or-later
/* JSON output shared by the commands. */
#include <stdio.h>

#include "commands.h"

void kt_json_str(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

void kt_json_str_or_null(const char *s)
{
	if (s && *s)
		kt_json_str(s);
	else
		printf("null");
}
