// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "virt.h"

struct kt_virt {
	virConnectPtr conn;
};

static void quiet(void *data, virErrorPtr err)
{
	(void)data;
	(void)err;
}

/* libvirt prints every error to stderr unless a handler is installed, once per process. */
static pthread_once_t quiet_once = PTHREAD_ONCE_INIT;

static void install_quiet(void)
{
	virSetErrorFunc(NULL, quiet);
}

static int last_error(char **ret_error)
{
	virErrorPtr err = virGetLastError();
	int r = -EIO;

	if (err && err->code == VIR_ERR_SYSTEM_ERROR && err->int1 > 0)
		r = -err->int1;
	else if (err && (err->code == VIR_ERR_NO_CONNECT || err->code == VIR_ERR_OPERATION_FAILED))
		r = -ECONNREFUSED;
	if (ret_error)
		*ret_error = strdup(err && err->message ? err->message : "unknown libvirt error");
	virResetLastError();
	return r;
}

int kt_virt_open(const char *uri, struct kt_virt **ret, char **ret_error)
{
	struct kt_virt *v;

	pthread_once(&quiet_once, install_quiet);
	if (ret_error)
		*ret_error = NULL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->conn = virConnectOpenReadOnly(uri ? uri : KT_VIRT_DEFAULT_URI);
	if (!v->conn) {
		int r = last_error(ret_error);

		free(v);
		return r == -EIO ? -ECONNREFUSED : r;
	}
	*ret = v;
	return 0;
}

struct kt_virt *kt_virt_close(struct kt_virt *v)
{
	if (!v)
		return NULL;
	virConnectClose(v->conn);
	free(v);
	return NULL;
}

int kt_virt_committed(struct kt_virt *v, uint64_t *ret_bytes, unsigned *ret_domains)
{
	virDomainPtr *doms = NULL;
	uint64_t kib = 0;
	int n;

	n = virConnectListAllDomains(v->conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	if (n < 0)
		return last_error(NULL);
	for (int i = 0; i < n; i++) {
		virDomainInfo info;

		/* A domain that stopped since the listing is skipped. */
		if (virDomainGetInfo(doms[i], &info) == 0)
			kib += info.memory;
		else
			virResetLastError();
		virDomainFree(doms[i]);
	}
	free(doms);
	*ret_bytes = kib << 10;
	if (ret_domains)
		*ret_domains = (unsigned)n;
	return 0;
}

int kt_virt_each_domain(struct kt_virt *v, bool inactive, kt_virt_domain_fn fn, void *data)
{
	unsigned flags = VIR_CONNECT_LIST_DOMAINS_ACTIVE;
	virDomainPtr *doms = NULL;
	int n, r = 0;

	if (inactive)
		flags |= VIR_CONNECT_LIST_DOMAINS_INACTIVE;
	n = virConnectListAllDomains(v->conn, &doms, flags);
	if (n < 0)
		return last_error(NULL);
	for (int i = 0; i < n; i++) {
		const char *name = virDomainGetName(doms[i]);
		int active = virDomainIsActive(doms[i]);
		/* A domain that stopped or went away since the listing is skipped. */
		char *xml = r == 0 ? virDomainGetXMLDesc(doms[i], 0) : NULL;

		if (xml && name && active >= 0)
			r = fn(data, name, active == 1, xml);
		else
			virResetLastError();
		free(xml);
		virDomainFree(doms[i]);
	}
	free(doms);
	return r;
}
