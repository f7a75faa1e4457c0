/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by the lib/virt*.c files only: the one place outside them that sees libvirt is none. */
#pragma once

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "virt.h"

struct kt_virt {
	virConnectPtr conn;
	/* Borrowed from an event loop (kt_virt_events): closing leaves the connection open. */
	bool borrowed;
	/* The host's CPU count as libvirt sizes its CPU maps, once asked (0: not yet). */
	int ncpus;
};

/* Keeps libvirt's errors from stderr (once per process). */
void kt_virt_quiet(void);
/*
 * libvirt's last error as -errno (-ECONNREFUSED when the daemon is gone, -ENOENT for a
 * domain that is not there, -EOPNOTSUPP for what the driver cannot do), its message to
 * ret_error (optional, the caller's to free), and the error reset.
 */
int kt_virt_last_error(char **ret_error);
