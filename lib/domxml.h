/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * libvirt domain XML (virDomainGetXMLDesc) read with libxml2's XPath. This is the one file
 * that includes libxml2: areas ask with XPath expressions and get strings back, so what a
 * domain needs (hugepages, vCPUs, disks) is read where it is used, never parsed by hand.
 * The prefix "kt" is bound to KT_DOMXML_NS, kvmtune's namespace in <metadata>.
 */
#define KT_DOMXML_NS "https://kvmtune.org/xmlns/domain/1"

struct kt_domxml;
struct kt_domxml_node;

/* -EBADMSG when xml is not well-formed; entities and the network are never loaded. */
int kt_domxml_parse(const char *xml, size_t len, struct kt_domxml **ret);
/* Accepts NULL; returns NULL. */
struct kt_domxml *kt_domxml_free(struct kt_domxml *d);
/* The document's root element, for relative queries. */
const struct kt_domxml_node *kt_domxml_root(const struct kt_domxml *d);

/*
 * The string value of the first node expr selects from node (XPath string()), or -ENOENT
 * when it selects none; -EINVAL for an expression that does not compile. *ret is the
 * caller's to free.
 */
int kt_domxml_string(const struct kt_domxml_node *node, const char *expr, char **ret);
/* The same, parsed as an unsigned integer; -EINVAL when it is not one. */
int kt_domxml_u64(const struct kt_domxml_node *node, const char *expr, uint64_t *ret);
/* Calls fn for each node expr selects from node, in document order; fn returns non-zero to stop. */
typedef int (*kt_domxml_fn)(void *data, const struct kt_domxml_node *node);
int kt_domxml_each(const struct kt_domxml_node *node, const char *expr, kt_domxml_fn fn,
		   void *data);
/* How many nodes expr selects from node. */
int kt_domxml_count(const struct kt_domxml_node *node, const char *expr);
