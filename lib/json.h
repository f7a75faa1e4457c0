/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * A small JSON reader (RFC 8259) for the files kvmtune writes and reads back, such as
 * `kvmtune check --facts` of another host: a tree of values, strings decoded to UTF-8.
 * Nesting is limited, so hostile input cannot exhaust the stack.
 */
enum kt_json_type {
	KT_JSON_NULL,
	KT_JSON_BOOL,
	KT_JSON_NUMBER,
	KT_JSON_STRING,
	KT_JSON_ARRAY,
	KT_JSON_OBJECT,
	KT_JSON_TYPE_MAX,
	KT_JSON_TYPE_INVALID = -EINVAL,
};

struct kt_json {
	enum kt_json_type type;
	bool boolean;
	double number;
	char *string;
	/* Arrays and objects: n items; objects also have n keys. */
	size_t n;
	struct kt_json *items;
	char **keys;
};

#define KT_JSON_DEPTH_MAX 64

/* -EBADMSG when text is not one JSON value (with nothing but white space after it). */
int kt_json_parse(const char *text, size_t len, struct kt_json **ret);
/* Accepts NULL; returns NULL. */
struct kt_json *kt_json_free(struct kt_json *v);
/* The member key of an object, or NULL (also when v is no object). */
const struct kt_json *kt_json_get(const struct kt_json *v, const char *key);
/* The string of a member, or NULL when it is missing or not a string. */
const char *kt_json_get_string(const struct kt_json *v, const char *key);
/* A boolean member; def when it is missing or not a boolean. */
bool kt_json_get_bool(const struct kt_json *v, const char *key, bool def);
