// SPDX-License-Identifier: LGPL-2.1-or-later
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cpulist.h"
#include "domxml.h"
#include "hugepages-plan.h"
#include "macro.h"
#include "parse.h"

static bool all_digits(const char *s, size_t len)
{
	if (!len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* "4096" is a count, anything else a size ("8G", "512M"); "" is neither. */
static int parse_amount(const char *s, bool *ret_bytes, uint64_t *ret)
{
	long long v;
	size_t len = strlen(s);

	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	if (all_digits(s, len)) {
		int r = kt_parse_int(s, 0, INT64_MAX, &v);

		if (r < 0)
			return r;
		*ret_bytes = false;
		*ret = (uint64_t)v;
		return 0;
	}
	*ret_bytes = true;
	return kt_parse_size(s, ret);
}

static int parse_nodes(const char *s, struct kt_hp_pages_spec *spec)
{
	char buf[1024], *save = NULL, *item;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", s);
	spec->n = 0;
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		struct kt_hp_node_amount *a;
		char *colon = strchr(item, ':');
		long long node;
		int r;

		if (!colon || spec->n >= KT_HP_NODES_MAX)
			return -EINVAL;
		*colon = '\0';
		r = kt_parse_int(item, 0, 1023, &node);
		if (r < 0)
			return -EINVAL;
		for (unsigned i = 0; i < spec->n; i++)
			if (spec->nodes[i].node == node)
				return -EINVAL;
		a = &spec->nodes[spec->n++];
		a->node = (int)node;
		r = parse_amount(colon + 1, &a->bytes, &a->value);
		if (r < 0)
			return r;
	}
	return spec->n ? 0 : -EINVAL;
}

int kt_hp_pages_parse(const char *s, struct kt_hp_pages_spec *ret)
{
	struct kt_hp_pages_spec spec;
	bool bytes;
	int r;

	if (!s)
		return -EINVAL;
	memset(&spec, 0, sizeof(spec));
	s += strspn(s, " \t");
	if (strncasecmp(s, "auto", 4) == 0 && !s[4 + strspn(s + 4, " \t\n")]) {
		spec.kind = KT_HP_PAGES_AUTO;
	} else if (strchr(s, ':')) {
		spec.kind = KT_HP_PAGES_NODES;
		r = parse_nodes(s, &spec);
		if (r < 0)
			return r;
	} else if (strchr(s, '%')) {
		unsigned pct;

		r = kt_parse_percent(s, &pct);
		if (r < 0)
			return r;
		spec.kind = KT_HP_PAGES_PERCENT;
		spec.value = pct;
	} else {
		r = parse_amount(s, &bytes, &spec.value);
		if (r < 0)
			return r;
		spec.kind = bytes ? KT_HP_PAGES_SIZE : KT_HP_PAGES_COUNT;
	}
	*ret = spec;
	return 0;
}

/* libvirt's units (virScaleInteger): b/bytes, then k/KiB = 1024 and KB = 1000, and so on. */
static int scale(const char *unit, uint64_t value, uint64_t *ret)
{
	static const char powers[] = "kmgtpe";
	const char *p;
	uint64_t base, mult = 1;

	if (!unit || !*unit || strcasecmp(unit, "b") == 0 || strcasecmp(unit, "byte") == 0 ||
	    strcasecmp(unit, "bytes") == 0) {
		*ret = value;
		return 0;
	}
	p = strchr(powers, tolower((unsigned char)unit[0]));
	if (!p)
		return -EINVAL;
	if (!unit[1] || strcasecmp(unit + 1, "iB") == 0)
		base = 1024;
	else if (tolower((unsigned char)unit[1]) == 'b' && !unit[2])
		base = 1000;
	else
		return -EINVAL;
	for (long i = 0; i <= p - powers; i++)
		mult *= base;
	if (value > UINT64_MAX / mult)
		return -ERANGE;
	*ret = value * mult;
	return 0;
}

/* An element's size in bytes from its text (or attr) and its unit attribute (default KiB). */
static int sized(const struct kt_domxml_node *n, const char *value_expr, const char *unit_expr,
		 uint64_t *ret)
{
	kt_cleanup_free char *unit = NULL;
	uint64_t v;
	int r;

	r = kt_domxml_u64(n, value_expr, &v);
	if (r < 0)
		return r;
	r = kt_domxml_string(n, unit_expr, &unit);
	if (r == -ENOENT)
		return scale("KiB", v, ret);
	if (r < 0)
		return r;
	return scale(unit, v, ret);
}

struct cell {
	unsigned id;
	uint64_t bytes;
};

struct cells {
	unsigned n;
	struct cell c[KT_HP_NODES_MAX];
	int error;
};

static int add_cell(void *data, const struct kt_domxml_node *node)
{
	struct cells *cs = data;
	uint64_t id;
	int r;

	if (cs->n >= KT_HP_NODES_MAX) {
		cs->error = -EINVAL;
		return 1;
	}
	r = kt_domxml_u64(node, "@id", &id);
	if (r == -ENOENT)
		id = cs->n;
	else if (r < 0 || id >= KT_HP_NODES_MAX) {
		cs->error = -EINVAL;
		return 1;
	}
	r = sized(node, "@memory", "@unit", &cs->c[cs->n].bytes);
	if (r < 0) {
		cs->error = r;
		return 1;
	}
	cs->c[cs->n++].id = (unsigned)id;
	return 0;
}

/* The page size (kB) libvirt gives guest cell id: the first <page> whose nodeset has it. */
struct pages {
	unsigned id;
	uint64_t default_kb;
	uint64_t kb;
	bool found;
	int error;
};

static int match_page(void *data, const struct kt_domxml_node *node)
{
	struct pages *p = data;
	kt_cleanup_free char *nodeset = NULL;
	uint64_t bytes;
	int r;

	r = kt_domxml_string(node, "@nodeset", &nodeset);
	if (r == 0) {
		struct kt_cpuset set;

		if (kt_cpulist_parse(nodeset, &set) < 0) {
			p->error = -EINVAL;
			return 1;
		}
		if (!kt_cpuset_has(&set, p->id))
			return 0;
	} else if (r != -ENOENT) {
		p->error = r;
		return 1;
	}
	r = sized(node, "@size", "@unit", &bytes);
	if (r < 0 || bytes < 1024) {
		p->error = r < 0 ? r : -EINVAL;
		return 1;
	}
	p->kb = bytes >> 10;
	p->found = true;
	return 1;
}

static int add_need(struct kt_hp_domain *d, int node, uint64_t pages)
{
	for (unsigned i = 0; i < d->n; i++)
		if (d->needs[i].node == node) {
			d->needs[i].pages += pages;
			return 0;
		}
	if (d->n >= KT_HP_NODES_MAX)
		return -EINVAL;
	d->needs[d->n].node = node;
	d->needs[d->n++].pages = pages;
	return 0;
}

/* Where cell id's memory lives on the host, split evenly over its nodeset. */
static int place(const struct kt_domxml_node *root, struct kt_hp_domain *d, unsigned id,
		 uint64_t pages)
{
	kt_cleanup_free char *nodeset = NULL;
	struct kt_cpuset set;
	char expr[128];
	unsigned count, k = 0;
	int r;

	snprintf(expr, sizeof(expr), "/domain/numatune/memnode[@cellid='%u']/@nodeset", id);
	r = kt_domxml_string(root, expr, &nodeset);
	if (r == -ENOENT)
		r = kt_domxml_string(root, "/domain/numatune/memory/@nodeset", &nodeset);
	if (r == -ENOENT)
		return add_need(d, -1, pages);
	if (r < 0)
		return r;
	if (kt_cpulist_parse(nodeset, &set) < 0)
		return -EINVAL;
	count = kt_cpuset_count(&set);
	if (!count)
		return add_need(d, -1, pages);
	for (unsigned node = 0; node < KT_CPU_MAX && k < count; node++) {
		uint64_t share;

		if (!kt_cpuset_has(&set, node))
			continue;
		/* Even shares, the remainder to the lowest nodes: the sum stays exact. */
		share = pages / count + (k < pages % count ? 1 : 0);
		k++;
		if (share) {
			r = add_need(d, (int)node, share);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int domain_needs(const struct kt_domxml_node *root, uint64_t page_kb, uint64_t default_kb,
			struct kt_hp_domain *d)
{
	kt_cleanup_free char *name = NULL;
	struct cells cs = { 0 };
	int r;

	if (kt_domxml_string(root, "/domain/name", &name) == 0)
		snprintf(d->name, sizeof(d->name), "%s", name);
	if (kt_domxml_count(root, "/domain/memoryBacking/hugepages") <= 0)
		return 0;
	r = kt_domxml_each(root, "/domain/cpu/numa/cell", add_cell, &cs);
	if (r < 0)
		return r;
	if (cs.error < 0)
		return cs.error;
	if (cs.n == 0) {
		/* No guest NUMA: one cell 0 holding all memory, as libvirt treats it. */
		r = sized(root, "/domain/memory", "/domain/memory/@unit", &cs.c[0].bytes);
		if (r < 0)
			return r == -ENOENT ? -EINVAL : r;
		cs.c[0].id = 0;
		cs.n = 1;
	}
	for (unsigned i = 0; i < cs.n; i++) {
		struct pages p = { cs.c[i].id, default_kb, default_kb, false, 0 };
		uint64_t page_bytes, pages;

		r = kt_domxml_each(root, "/domain/memoryBacking/hugepages/page", match_page, &p);
		if (r < 0)
			return r;
		if (p.error < 0)
			return p.error;
		/* <page> elements exist but none covers this cell: libvirt uses the default size. */
		if (!p.found)
			p.kb = default_kb;
		if (p.kb != page_kb)
			continue;
		page_bytes = page_kb << 10;
		pages = cs.c[i].bytes / page_bytes + (cs.c[i].bytes % page_bytes ? 1 : 0);
		r = place(root, d, cs.c[i].id, pages);
		if (r < 0)
			return r;
	}
	return 0;
}

int kt_hp_domain_parse(const char *xml, size_t len, uint64_t page_kb, uint64_t default_kb,
		       struct kt_hp_domain *ret)
{
	struct kt_domxml *doc = NULL;
	struct kt_hp_domain d;
	int r;

	if (!page_kb || !default_kb)
		return -EINVAL;
	memset(&d, 0, sizeof(d));
	r = kt_domxml_parse(xml, len, &doc);
	if (r < 0)
		return r;
	r = domain_needs(kt_domxml_root(doc), page_kb, default_kb, &d);
	kt_domxml_free(doc);
	if (r < 0)
		return r;
	*ret = d;
	return 0;
}

static const struct kt_hp_host_node *host_node(const struct kt_hp_plan_input *in, int node)
{
	for (unsigned i = 0; i < in->n_nodes; i++)
		if (in->nodes[i].node == node)
			return &in->nodes[i];
	return NULL;
}

/* Spreads pages over the nodes that have memory, as the kernel's global writes do. */
static int spread(struct kt_hp_plan *p, const struct kt_hp_plan_input *in, uint64_t pages,
		  bool domains)
{
	unsigned with_mem = 0, k = 0;

	for (unsigned i = 0; i < in->n_nodes; i++)
		if (in->nodes[i].mem_total)
			with_mem++;
	if (!with_mem)
		return pages ? -ERANGE : 0;
	for (unsigned i = 0; i < p->n; i++) {
		uint64_t share;

		if (!in->nodes[i].mem_total)
			continue;
		share = pages / with_mem + (k < pages % with_mem ? 1 : 0);
		k++;
		if (p->nodes[i].want > UINT64_MAX - share)
			return -ERANGE;
		p->nodes[i].want += share;
		if (domains)
			p->nodes[i].domains += share;
	}
	return 0;
}

int kt_hp_plan(const struct kt_hp_plan_input *in, struct kt_hp_plan *ret, char *why,
	       size_t why_size)
{
	const struct kt_hp_pages_spec *spec = in->spec;
	uint64_t page_bytes = in->page_kb << 10, anywhere = 0;
	struct kt_hp_plan p;
	int r = 0;

	if (!in->page_kb || in->n_nodes > KT_HP_NODES_MAX)
		return -EINVAL;
	memset(&p, 0, sizeof(p));
	p.page_kb = in->page_kb;
	p.n = in->n_nodes;
	for (unsigned i = 0; i < p.n; i++) {
		p.nodes[i].node = in->nodes[i].node;
		p.nodes[i].set = spec->kind != KT_HP_PAGES_NODES;
	}
	/* What the domains need is worked out for every kind: status shows it. */
	for (unsigned d = 0; d < in->n_doms; d++) {
		bool misplaced = false;

		for (unsigned j = 0; j < in->doms[d].n; j++) {
			const struct kt_hp_need *need = &in->doms[d].needs[j];
			bool found = false;

			for (unsigned i = 0; i < p.n; i++)
				if (p.nodes[i].node == need->node) {
					p.nodes[i].domains += need->pages;
					found = true;
				}
			if (!found) {
				anywhere += need->pages;
				misplaced |= need->node >= 0;
			}
		}
		p.misplaced += misplaced;
	}
	switch (spec->kind) {
	case KT_HP_PAGES_AUTO: {
		uint64_t headroom = in->headroom;

		if (in->headroom_bytes)
			headroom = headroom / page_bytes + (headroom % page_bytes ? 1 : 0);
		for (unsigned i = 0; i < p.n; i++)
			p.nodes[i].want = p.nodes[i].domains;
		r = spread(&p, in, anywhere, true);
		if (r == 0)
			r = spread(&p, in, headroom, false);
		break;
	}
	case KT_HP_PAGES_COUNT:
		r = spread(&p, in, spec->value, false);
		break;
	case KT_HP_PAGES_SIZE:
		r = spread(&p, in, spec->value / page_bytes + (spec->value % page_bytes ? 1 : 0),
			   false);
		break;
	case KT_HP_PAGES_PERCENT:
		for (unsigned i = 0; i < p.n; i++)
			p.nodes[i].want = in->nodes[i].mem_total / 100 * spec->value / page_bytes;
		break;
	case KT_HP_PAGES_NODES:
		for (unsigned k = 0; k < spec->n; k++) {
			const struct kt_hp_node_amount *a = &spec->nodes[k];
			unsigned i;

			if (!host_node(in, a->node)) {
				snprintf(why, why_size, "node %d does not exist on this host", a->node);
				return -ENXIO;
			}
			for (i = 0; p.nodes[i].node != a->node; i++)
				;
			p.nodes[i].set = true;
			p.nodes[i].want = a->bytes ? a->value / page_bytes +
							     (a->value % page_bytes ? 1 : 0)
						   : a->value;
		}
		break;
	default:
		return -EINVAL;
	}
	if (r < 0) {
		snprintf(why, why_size, "the numbers do not fit in 64 bits");
		return r;
	}
	for (unsigned i = 0; i < p.n; i++) {
		struct kt_hp_plan_node *n = &p.nodes[i];

		/* Pages backing a running guest are never taken from it. */
		n->target = n->want < in->nodes[i].in_use ? in->nodes[i].in_use : n->want;
		if (!n->set)
			n->target = in->nodes[i].nr;
	}
	*ret = p;
	return 0;
}
