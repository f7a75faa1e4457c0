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
 * Calls fn with the XML (virDomainGetXMLDesc, inactive and active alike) of every domain
 * libvirt knows; fn returns non-zero to stop, and that value is returned.
 */
typedef int (*kt_virt_domain_fn)(void *data, const char *name, const char *xml, int active);
int kt_virt_each_domain(struct kt_virt *v, kt_virt_domain_fn fn, void *data);

struct kt_mig_facts;
/* libvirt's and the hypervisor's versions, the networks and the storage pools into f. */
int kt_virt_mig_facts(struct kt_virt *v, struct kt_mig_facts *f);
