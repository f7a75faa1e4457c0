// SPDX-License-Identifier: LGPL-2.1-or-later
/* libFuzzer target: /etc/ksmtuned.conf, a shell fragment written by people. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ksmctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void discard(void *data, enum kt_log_prio prio, const char *msg)
{
	(void)data;
	(void)prio;
	(void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* One context for the whole run: messages are formatted, then dropped. */
	static struct kt_ctx *ctx;
	struct kt_ksmctl_config cfg, before;
	char *text;
	int r;

	if (!ctx) {
		if (kt_ctx_new("/", &ctx) < 0)
			abort();
		kt_ctx_set_log_fn(ctx, discard, NULL);
	}
	if (size > 65536)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	kt_ksmctl_config_default(&cfg);
	before = cfg;
	/* Both a known and an unknown amount of RAM (the sleep scaling divides by it). */
	for (int i = 0; i < 2; i++) {
		r = kt_ksmctl_config_ksmtuned_parse(ctx, "/etc/ksmtuned.conf", text,
						    i ? UINT64_C(1) << 34 : 0, &cfg);
		if (r < 0 && memcmp(&cfg, &before, sizeof(cfg)) != 0)
			abort();
		/* Whatever was taken is within the limits the options have. */
		if (r == 0 && (cfg.thres_coef > 100 || cfg.merge_pages < 1 ||
			       cfg.merge_pages > 100000 || cfg.idle_pages < 1 ||
			       cfg.idle_pages > 100000 || cfg.merge_sleep_ms < 1))
			abort();
		cfg = before;
	}
	free(text);
	return 0;
}
