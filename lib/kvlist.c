// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kvlist.h"

void kt_kvlist_clear(struct kt_kvlist *list)
{
	for (size_t i = 0; i < list->n; i++) {
		free(list->items[i].key);
		free(list->items[i].value);
	}
	free(list->items);
	list->items = NULL;
	list->n = list->cap = 0;
}

int kt_kvlist_set(struct kt_kvlist *list, const char *key, const char *value)
{
	char *v = strdup(value);

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < list->n; i++)
		if (strcmp(list->items[i].key, key) == 0) {
			free(list->items[i].value);
			list->items[i].value = v;
			return 0;
		}
	if (list->n == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 8;
		struct kt_kv *items = realloc(list->items, cap * sizeof(*items));

		if (!items) {
			free(v);
			return -ENOMEM;
		}
		list->items = items;
		list->cap = cap;
	}
	list->items[list->n].key = strdup(key);
	if (!list->items[list->n].key) {
		free(v);
		return -ENOMEM;
	}
	list->items[list->n].value = v;
	list->n++;
	return 0;
}

const char *kt_kvlist_get(const struct kt_kvlist *list, const char *key)
{
	for (size_t i = 0; i < list->n; i++)
		if (strcmp(list->items[i].key, key) == 0)
			return list->items[i].value;
	return NULL;
}
