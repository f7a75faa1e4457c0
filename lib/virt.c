// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "migrate.h"
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

int kt_virt_each_domain(struct kt_virt *v, kt_virt_domain_fn fn, void *data)
{
	virDomainPtr *doms = NULL;
	int n, r = 0;

	n = virConnectListAllDomains(v->conn, &doms, 0);
	if (n < 0)
		return last_error(NULL);
	for (int i = 0; i < n; i++) {
		char *xml = r == 0 ? virDomainGetXMLDesc(doms[i], 0) : NULL;

		/* A domain undefined since the listing is skipped. */
		if (xml)
			r = fn(data, virDomainGetName(doms[i]), xml, virDomainIsActive(doms[i]) == 1);
		else
			virResetLastError();
		free(xml);
		virDomainFree(doms[i]);
	}
	free(doms);
	return r;
}

static void version_str(unsigned long v, char *buf, size_t size)
{
	/* libvirt encodes major * 1,000,000 + minor * 1,000 + release. */
	snprintf(buf, size, "%lu.%lu.%lu", v / 1000000, v / 1000 % 1000, v % 1000);
}

int kt_virt_mig_facts(struct kt_virt *v, struct kt_mig_facts *f)
{
	virNetworkPtr *nets = NULL;
	virStoragePoolPtr *pools = NULL;
	unsigned long ver;
	int n, r = 0;

	if (virConnectGetLibVersion(v->conn, &ver) == 0)
		version_str(ver, f->libvirt_version, sizeof(f->libvirt_version));
	else
		virResetLastError();
	if (virConnectGetVersion(v->conn, &ver) == 0)
		version_str(ver, f->qemu_version, sizeof(f->qemu_version));
	else
		virResetLastError();
	n = virConnectListAllNetworks(v->conn, &nets, 0);
	if (n < 0)
		virResetLastError();
	for (int i = 0; i < n; i++) {
		char *bridge = virNetworkGetBridgeName(nets[i]);

		if (r >= 0)
			r = kt_strv_add(&f->networks, virNetworkGetName(nets[i]));
		/* A network's bridge is one the host has, for domains attached to it directly. */
		if (r >= 0 && bridge)
			r = kt_strv_add(&f->bridges, bridge);
		if (!bridge)
			virResetLastError();
		free(bridge);
		virNetworkFree(nets[i]);
	}
	free(nets);
	n = virConnectListAllStoragePools(v->conn, &pools, 0);
	if (n < 0)
		virResetLastError();
	for (int i = 0; i < n; i++) {
		if (r >= 0)
			r = kt_strv_add(&f->storage_pools, virStoragePoolGetName(pools[i]));
		virStoragePoolFree(pools[i]);
	}
	free(pools);
	return r;
}
