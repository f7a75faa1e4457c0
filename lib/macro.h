/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define KT_ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define KT_UNUSED __attribute__((unused))
#define KT_PRINTF(a, b) __attribute__((format(printf, a, b)))

static inline void kt_freep(void *p)
{
	free(*(void **)p);
}

static inline void kt_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;

		close(*fd);
		errno = saved;
	}
}

#define kt_cleanup_free __attribute__((cleanup(kt_freep)))
#define kt_cleanup_close __attribute__((cleanup(kt_closep)))

/* Returns -errno of the last failed libc call, never 0, so a caller can return it as is. */
static inline int kt_negerrno(void)
{
	return errno > 0 ? -errno : -EIO;
}
