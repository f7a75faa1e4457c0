/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* An ordered list of string pairs: option tables, journal entries, saved values. */
struct kt_kv {
	char *key;
	char *value;
};

struct kt_kvlist {
	struct kt_kv *items;
	size_t n;
	size_t cap;
};

#define KT_KVLIST_INIT { NULL, 0, 0 }

void kt_kvlist_clear(struct kt_kvlist *list);
/* Replaces the value of an existing key, or appends. */
int kt_kvlist_set(struct kt_kvlist *list, const char *key, const char *value);
const char *kt_kvlist_get(const struct kt_kvlist *list, const char *key);
