// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "virt-internal.h"

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

void kt_virt_quiet(void)
{
	pthread_once(&quiet_once, install_quiet);
}

int kt_virt_last_error(char **ret_error)
{
	virErrorPtr err = virGetLastError();
	int r = -EIO;

	if (err && err->code == VIR_ERR_SYSTEM_ERROR && err->int1 > 0)
		r = -err->int1;
	else if (err && (err->code == VIR_ERR_NO_CONNECT || err->code == VIR_ERR_OPERATION_FAILED ||
			 err->code == VIR_ERR_RPC))
		r = -ECONNREFUSED;
	else if (err && err->code == VIR_ERR_NO_DOMAIN)
		r = -ENOENT;
	else if (err && (err->code == VIR_ERR_NO_SUPPORT ||
			 err->code == VIR_ERR_OPERATION_UNSUPPORTED ||
			 err->code == VIR_ERR_ARGUMENT_UNSUPPORTED))
		r = -EOPNOTSUPP;
	else if (err && err->code == VIR_ERR_OPERATION_INVALID)
		r = -EINVAL;
	if (ret_error)
		*ret_error = strdup(err && err->message ? err->message : "unknown libvirt error");
	virResetLastError();
	return r;
}

int kt_virt_open(const char *uri, struct kt_virt **ret, char **ret_error)
{
	return kt_virt_connect(uri, true, ret, ret_error);
}

int kt_virt_connect(const char *uri, bool read_only, struct kt_virt **ret, char **ret_error)
{
	struct kt_virt *v;

	kt_virt_quiet();
	if (ret_error)
		*ret_error = NULL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (read_only)
		v->conn = virConnectOpenReadOnly(uri ? uri : KT_VIRT_DEFAULT_URI);
	else
		v->conn = virConnectOpen(uri ? uri : KT_VIRT_DEFAULT_URI);
	if (!v->conn) {
		int r = kt_virt_last_error(ret_error);

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
	if (!v->borrowed)
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
		return kt_virt_last_error(NULL);
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
