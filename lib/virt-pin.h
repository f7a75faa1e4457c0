/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "kvlist.h"
#include "pin-plan.h"
#include "virt.h"

/*
 * Pinning and QoS of running domains through libvirt: vcpupin, emulatorpin, iothreadpin,
 * live numatune, cpu_shares, memtune and blkiotune. What a placement changes is first read
 * into a list of items ("vcpu0" = "0-1", "emulator", "iothread1", "cpu_shares",
 * "memtune_soft_limit", "memtune_hard_limit", "blkio_weight", "numa_nodeset") that the
 * journal keeps and kt_virt_pin_restore puts back. Errors are -errno with libvirt's message
 * in *ret_error (the caller's to free).
 */
#define KT_VIRT_UUID_LEN 37

struct kt_virt_domain {
	char uuid[KT_VIRT_UUID_LEN];
	char name[KT_PIN_NAME_MAX];
	/* libvirt's id of this run: a domain started again gets another. */
	int id;
	bool persistent;
	char *xml;
};

/* The running domains with their live XML (metadata included). */
int kt_virt_running(struct kt_virt *v, struct kt_virt_domain **ret, size_t *ret_n,
		    char **ret_error);
/* One running domain by UUID; -ENOENT when it does not run. */
int kt_virt_domain_get(struct kt_virt *v, const char *uuid, struct kt_virt_domain *ret,
		       char **ret_error);
void kt_virt_domain_clear(struct kt_virt_domain *d);
void kt_virt_domains_free(struct kt_virt_domain *d, size_t n);

/*
 * The live values of everything req and pl change. QoS the driver cannot read is left out
 * and named in ret_skipped (a ", "-joined list), so that it is not set either.
 */
int kt_virt_pin_save(struct kt_virt *v, const char *uuid, const struct kt_pin_request *req,
		     const struct kt_pin_placement *pl, struct kt_kvlist *ret, char *ret_skipped,
		     size_t skipped_size, char **ret_error);
/* Sets the items saved holds to what req and pl say, live (and in the definition if config). */
int kt_virt_pin_set(struct kt_virt *v, const char *uuid, const struct kt_pin_request *req,
		    const struct kt_pin_placement *pl, const struct kt_kvlist *saved, bool config,
		    char **ret_error);
/* Puts every saved item back (each is tried); the first error is returned. */
int kt_virt_pin_restore(struct kt_virt *v, const char *uuid, const struct kt_kvlist *saved,
			bool config, char **ret_error);
/* Live CPU affinity of each vCPU (up to max) and of the emulator. */
int kt_virt_pin_read(struct kt_virt *v, const char *uuid, struct kt_cpuset *vcpus, unsigned max,
		     unsigned *ret_n, struct kt_cpuset *emulator, char **ret_error);
