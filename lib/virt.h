/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* The libvirt URI of the system QEMU driver, where KVM hosts run their guests. */
#define KT_VIRT_DEFAULT_URI "qemu:///system"

struct kt_virt;

/*
 * A read-only libvirt connection. libvirt's errors are kept from stderr and returned as
 * -errno (-ECONNREFUSED when libvirtd cannot be reached); ret_error (optional) receives
 * libvirt's message, to be freed by the caller.
 */
int kt_virt_open(const char *uri, struct kt_virt **ret, char **ret_error);
struct kt_virt *kt_virt_close(struct kt_virt *v);
/* Memory currently given to the running domains, in bytes, and how many there are. */
int kt_virt_committed(struct kt_virt *v, uint64_t *ret_bytes, unsigned *ret_domains);

/*
 * Calls fn with the name, state and XML (virDomainGetXMLDesc) of every running domain, and
 * of every defined one too when inactive; fn returns non-zero to stop. A domain that goes
 * away meanwhile is skipped.
 */
typedef int (*kt_virt_domain_fn)(void *data, const char *name, bool active, const char *xml);
int kt_virt_each_domain(struct kt_virt *v, bool inactive, kt_virt_domain_fn fn, void *data);
