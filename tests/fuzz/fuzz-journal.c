// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: journal files and lock holder files as a crash, a full disk or a person
 * may have left them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "lock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kt_kvlist kv = KT_KVLIST_INIT, again = KT_KVLIST_INIT;
	struct kt_lock_info info;
	const char *why = NULL;
	char *text, *out = NULL;
	size_t len;
	int r;

	if (size > 65536)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	/* A holder is always named, in a terminated string of one line. */
	if (kt_lock_parse(text, &info) != 0 || !info.holder[0] ||
	    strlen(info.holder) >= sizeof(info.holder) || strchr(info.holder, '\n') ||
	    strlen(info.journal) >= sizeof(info.journal) || info.pid < 0)
		abort();
	r = kt_journal_parse(text, &kv, &why);
	/* A corrupt journal always says why, and only -EBADMSG or -ENOMEM are possible. */
	if (r == -EBADMSG && !why)
		abort();
	if (r < 0 && r != -EBADMSG && r != -ENOMEM)
		abort();
	if (r == 0) {
		/* What was accepted is written back as the same entries. */
		if (kt_journal_format(&kv, &out, &len) != 0 || strlen(out) != len)
			abort();
		if (kt_journal_parse(out, &again, &why) != 0 || again.n != kv.n)
			abort();
		for (size_t i = 0; i < kv.n; i++)
			if (strcmp(kv.items[i].key, again.items[i].key) != 0 ||
			    strcmp(kv.items[i].value, again.items[i].value) != 0)
				abort();
		kt_kvlist_clear(&again);
		kt_kvlist_clear(&kv);
		free(out);
	}
	free(text);
	return 0;
}
