/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * How many hugepages each NUMA node's pool should hold, decided on plain data: the
 * `pages=` option, what libvirt domains ask for in their XML, and the host's nodes. No
 * sysfs, no libvirt here: fixture data and tests feed it as the host does.
 */

/* Nodes one plan covers, per-node entries of `pages=`, and per-domain needs. */
#define KT_HP_NODES_MAX 64

enum kt_hp_pages_kind {
	KT_HP_PAGES_AUTO,    /* what the domains ask for, plus headroom */
	KT_HP_PAGES_COUNT,   /* 4096: pages in all, spread over the nodes */
	KT_HP_PAGES_SIZE,    /* 8G: memory in all, spread over the nodes */
	KT_HP_PAGES_PERCENT, /* 25%: of each node's memory */
	KT_HP_PAGES_NODES,   /* 0:4G,1:2048: per node, a size or a count; other nodes untouched */
	KT_HP_PAGES_KIND_MAX,
	KT_HP_PAGES_INVALID = -EINVAL,
};

struct kt_hp_node_amount {
	int node;
	bool bytes; /* value is a size, else a page count */
	uint64_t value;
};

struct kt_hp_pages_spec {
	enum kt_hp_pages_kind kind;
	/* COUNT: pages, SIZE: bytes, PERCENT: 0..100. */
	uint64_t value;
	unsigned n;
	struct kt_hp_node_amount nodes[KT_HP_NODES_MAX];
};

/* Parses a `pages=` value; -EINVAL (or -ERANGE) when it is none of the forms above. */
int kt_hp_pages_parse(const char *s, struct kt_hp_pages_spec *ret);

/* Pages of one size a domain needs on a host node; node -1 when libvirt does not say where. */
struct kt_hp_need {
	int node;
	uint64_t pages;
};

struct kt_hp_domain {
	char name[128];
	unsigned n;
	struct kt_hp_need needs[KT_HP_NODES_MAX];
};

/*
 * What a domain's XML asks of the pool of page_kb: <memoryBacking><hugepages> with its
 * <page size= unit= nodeset=> (nodeset names guest NUMA cells; a <page> without one, or
 * no <page> at all, covers every cell; no <page> means default_kb), the guest cells of
 * <cpu><numa> and where <numatune> puts them (<memnode cellid=> first, else <memory
 * nodeset=>), split evenly over a nodeset's host nodes. ret->n is 0 when the domain uses
 * no hugepages of this size. -EBADMSG when the XML is not well-formed, -EINVAL when a
 * size, unit or nodeset it holds does not parse.
 */
int kt_hp_domain_parse(const char *xml, size_t len, uint64_t page_kb, uint64_t default_kb,
		       struct kt_hp_domain *ret);

/* One host node as the plan sees it. */
struct kt_hp_host_node {
	int node;
	uint64_t mem_total; /* bytes */
	uint64_t nr;	    /* pages in the pool now */
	uint64_t in_use;    /* pages backing mappings now: never taken away */
};

struct kt_hp_plan_input {
	uint64_t page_kb;
	const struct kt_hp_pages_spec *spec;
	/* Added to auto: pages, or bytes when headroom_bytes. */
	uint64_t headroom;
	bool headroom_bytes;
	const struct kt_hp_host_node *nodes;
	unsigned n_nodes;
	const struct kt_hp_domain *doms;
	unsigned n_doms;
};

struct kt_hp_plan_node {
	int node;
	/* The plan changes this node's pool (per-node specs leave the others alone). */
	bool set;
	/* What the options and domains ask for, and what will be written (never below in use). */
	uint64_t want;
	uint64_t target;
	/* Pages the domains need here, their part of the unplaced needs included. */
	uint64_t domains;
};

struct kt_hp_plan {
	uint64_t page_kb;
	unsigned n;
	struct kt_hp_plan_node nodes[KT_HP_NODES_MAX];
	/* Domains whose XML names host nodes this host lacks: their pages were spread. */
	unsigned misplaced;
};

/*
 * Decides every node's target. -ENXIO, with why naming the node, when a per-node spec names
 * a node the host lacks; -ERANGE when the numbers overflow.
 */
int kt_hp_plan(const struct kt_hp_plan_input *in, struct kt_hp_plan *ret, char *why,
	       size_t why_size);
