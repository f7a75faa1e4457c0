// SPDX-License-Identifier: LGPL-2.1-or-later
/* The storage beneath a domain's disks, read from its XML with XPath (lib/domxml.c). */
#include <stdio.h>
#include <string.h>

#include "domxml.h"
#include "iosched.h"
#include "macro.h"

struct walk {
	kt_iosched_source_fn fn;
	void *data;
	const char *target;
};

/* A <source> of a <disk> or of a <backingStore> below it: its parent's type says which. */
static int one_source(void *data, const struct kt_domxml_node *src)
{
	struct walk *w = data;
	kt_cleanup_free char *type = NULL, *path = NULL, *protocol = NULL;
	struct kt_iosched_source s = { w->target, KT_IOSCHED_SRC_OTHER, NULL, 0 };
	uint64_t depth = 0;
	char other[96];

	if (kt_domxml_string(src, "string(../@type)", &type) < 0 ||
	    kt_domxml_u64(src, "count(ancestor::backingStore)", &depth) < 0)
		return 0;
	s.backing = (unsigned)depth;
	if (strcmp(type, "file") == 0 || strcmp(type, "block") == 0 || strcmp(type, "dir") == 0) {
		static const char *const attr[] = { "string(@file)", "string(@dev)", "string(@dir)" };
		int i = type[0] == 'f' ? 0 : type[0] == 'b' ? 1 : 2;

		if (kt_domxml_string(src, attr[i], &path) < 0 || !path[0])
			return 0;
		s.type = i == 0 ? KT_IOSCHED_SRC_FILE : i == 1 ? KT_IOSCHED_SRC_BLOCK :
								  KT_IOSCHED_SRC_DIR;
		s.path = path;
		return w->fn(w->data, &s);
	}
	if (kt_domxml_string(src, "string(@protocol)", &protocol) < 0)
		return 0;
	/* network (rbd, iscsi, nbd, gluster), volume (a pool's), nvme (a PCI device handed over). */
	snprintf(other, sizeof(other), "%s%s%s", type[0] ? type : "untyped",
		 protocol[0] ? " " : "", protocol);
	s.path = other;
	return w->fn(w->data, &s);
}

static int one_disk(void *data, const struct kt_domxml_node *disk)
{
	struct walk *w = data;
	kt_cleanup_free char *target = NULL;
	int r;

	if (kt_domxml_string(disk, "string(target/@dev)", &target) < 0)
		return 0;
	w->target = target;
	/* The disk's source first, then down its backing chain; a mirror is a copy in flight. */
	r = kt_domxml_each(disk, "source | .//backingStore/source", one_source, w);
	w->target = NULL;
	return r;
}

int kt_iosched_domain_sources(const char *xml, size_t len, char **ret_name,
			      kt_iosched_source_fn fn, void *data)
{
	struct kt_domxml *d = NULL;
	struct walk w = { fn, data, NULL };
	const struct kt_domxml_node *root;
	int r;

	r = kt_domxml_parse(xml, len, &d);
	if (r < 0)
		return r;
	root = kt_domxml_root(d);
	if (kt_domxml_count(root, "/domain") != 1) {
		kt_domxml_free(d);
		return -EBADMSG;
	}
	if (ret_name) {
		r = kt_domxml_string(root, "string(/domain/name)", ret_name);
		if (r < 0) {
			kt_domxml_free(d);
			return r;
		}
	}
	r = kt_domxml_each(root, "/domain/devices/disk", one_disk, &w);
	kt_domxml_free(d);
	if (r < 0 && ret_name) {
		free(*ret_name);
		*ret_name = NULL;
	}
	return r;
}
