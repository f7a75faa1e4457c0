// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: what kvm_iosched reads from outside: queue/scheduler lists
 * ("mq-deadline [none] bfq"), the overrides option ("sdb:bfq /dev/nvme0n1:keep") and the
 * disks of a domain's XML, each fed the same input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iosched.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count(void *data, const struct kt_iosched_source *src)
{
	size_t *n = data;

	/* Every field a source reports must be a string the caller can print. */
	*n += strlen(src->target) + strlen(src->path) + src->backing;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kt_iosched_override o[KT_IOSCHED_OVERRIDES_MAX];
	struct kt_iosched_list l;
	char *text, *name = NULL, buf[256];
	unsigned n;
	size_t total = 0;

	if (size > 65536)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (kt_iosched_list_parse(text, &l) == 0) {
		kt_iosched_list_format(&l, buf, sizeof(buf));
		if (l.n == 0 || l.n > KT_IOSCHED_SCHED_MAX || l.current >= (int)l.n)
			abort();
	}
	if (kt_iosched_overrides_parse(text, o, KT_IOSCHED_OVERRIDES_MAX, &n) == 0)
		for (unsigned i = 0; i < n; i++)
			if (!kt_iosched_dev_name_valid(o[i].device) ||
			    !kt_iosched_sched_name_valid(o[i].scheduler))
				abort();
	if (kt_iosched_domain_sources(text, size, &name, count, &total) == 0)
		free(name);
	free(text);
	return 0;
}
