/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hugepages-plan.h"
#include "hugepages.h"
#include "kvlist.h"

/*
 * A kvm_hugepages section as one unit, the same for tuned's plugin and `kvmtune hugepages
 * reserve`: options, the plan, the lock of its page size (run/kvmtune/hugepages-<kB>kB.lock,
 * so a 2M and a 1G section live side by side), the journal of every node's original pool,
 * allocation node by node, and an exact rollback.
 */
#define KT_HP_LOCK "hugepages"

enum kt_hp_reclaim {
	KT_HP_RECLAIM_NONE,	   /* write, check, no retry */
	KT_HP_RECLAIM_COMPACT,	   /* compact the node and retry while that gains pages */
	KT_HP_RECLAIM_DROP_CACHES, /* then drop clean page cache, compact and retry */
	KT_HP_RECLAIM_MAX,
	KT_HP_RECLAIM_INVALID = -EINVAL,
};

enum kt_hp_shortfall {
	KT_HP_SHORTFALL_KEEP,	 /* keep what was obtained (an error is reported) */
	KT_HP_SHORTFALL_RELEASE, /* put the pools back as they were and fail */
	KT_HP_SHORTFALL_MAX,
	KT_HP_SHORTFALL_INVALID = -EINVAL,
};

struct kt_hp_options {
	uint64_t page_kb; /* 0 until resolved: the kernel's default size */
	struct kt_hp_pages_spec pages;
	uint64_t headroom;
	bool headroom_bytes;
	uint64_t min_available; /* bytes; see kt_hp_min_available_default() */
	bool min_available_set;
	enum kt_hp_reclaim reclaim;
	enum kt_hp_shortfall shortfall;
	unsigned timeout; /* seconds for the whole allocation */
	char libvirt_uri[256];
	/* Mount a hugetlbfs for this size when none is and the pool holds pages. */
	bool mount;
};

/* Every option name, NULL-terminated: the shim's table and the tests use this one list. */
extern const char *const kt_hp_option_names[];

/* Never push MemAvailable below 5% of RAM, and at least 1 GiB (see the README). */
uint64_t kt_hp_min_available_default(uint64_t mem_total);

/*
 * Checks every option as a whole against this host (page size has a pool, min_available
 * below RAM): each bad one is logged with its value and what is allowed; -EINVAL if any.
 */
int kt_hp_options_parse(const struct kt_ctx *ctx, const struct kt_kvlist *opts,
			struct kt_hp_options *ret);

/* A host's pools of one size, its nodes and the domains that use that size, as plain data. */
struct kt_hp_host {
	uint64_t page_kb;
	/* Per-node pools; without them one entry, node -1, the global pool. */
	unsigned n;
	struct kt_hp_host_node nodes[KT_HP_NODES_MAX];
	struct kt_hp_counts counts[KT_HP_NODES_MAX];
	struct kt_hp_counts global;
	uint64_t mem_total;
	uint64_t mem_available;
	/* Running and autostart domains using this size (n > 0 only); libvirt_error when unread. */
	unsigned n_doms;
	struct kt_hp_domain *doms;
	char libvirt_error[256];
};

/* uri NULL or "none": no domains. -EBADMSG (logged) when a domain's XML cannot be read. */
int kt_hp_host_read(const struct kt_ctx *ctx, uint64_t page_kb, const char *uri,
		    struct kt_hp_host *ret);
void kt_hp_host_clear(struct kt_hp_host *h);
/* The plan of opts on h; -ENXIO and friends are logged with the option's value. */
int kt_hp_host_plan(const struct kt_ctx *ctx, const struct kt_hp_options *opts,
		    const struct kt_hp_host *h, struct kt_hp_plan *ret);

struct kt_hp_tuning;

/*
 * Checks opts, plans, refuses a plan that would push MemAvailable below min_available, takes
 * the size's lock for holder, journals every node's pool under journal and allocates node by
 * node (write, check, compact, retry, drop caches if allowed, within the timeout). A
 * shortfall is logged as an error with its numbers; with shortfall=keep the tuning is still
 * returned (0), with release the pools are put back and -ENOMEM returned.
 */
int kt_hp_tuning_apply(struct kt_ctx *ctx, const char *journal, const char *holder,
		       const struct kt_kvlist *opts, struct kt_hp_tuning **ret);
/* Pages short after apply, over all nodes (0: everything was obtained). */
uint64_t kt_hp_tuning_short(const struct kt_hp_tuning *t);
/*
 * Puts every node's pool back when restore (pages in use stay, reported, and the journal
 * kept for a later restore), releases the lock and frees t. Accepts NULL.
 */
int kt_hp_tuning_unapply(struct kt_hp_tuning *t, bool restore);

typedef void (*kt_hp_verify_fn)(void *data, const char *name, const char *want,
				const char *current, bool ok);
/* Compares every node's pool with what opts plan now ("node0.2M"). */
int kt_hp_verify_options(const struct kt_ctx *ctx, const struct kt_kvlist *opts,
			 kt_hp_verify_fn fn, void *data);

/* Puts back what the journal holds, under its size's lock, and removes it once exact. */
int kt_hp_restore_journal(const struct kt_ctx *ctx, const char *journal, const char *holder);

/*
 * What `status` shows for one page size: the pools (h), and what a section with default
 * options (pages=auto) would reserve per node (ret_auto). uri as kt_hp_host_read.
 */
int kt_hp_status_read(const struct kt_ctx *ctx, uint64_t page_kb, const char *uri,
		      struct kt_hp_host *ret_host, struct kt_hp_plan *ret_auto);
