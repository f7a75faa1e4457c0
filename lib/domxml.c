// SPDX-License-Identifier: LGPL-2.1-or-later
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <string.h>

#include "domxml.h"
#include "macro.h"
#include "parse.h"

/* libvirt's own limit for a domain's XML (VIR_DOMAIN_XML_MAX) is far below this. */
#define DOMXML_MAX (16u << 20)

struct kt_domxml_node {
	const struct kt_domxml *doc;
	xmlNodePtr node;
};

struct kt_domxml {
	xmlDocPtr doc;
	struct kt_domxml_node root;
};

/* libxml2 prints to stderr unless told otherwise: a library never does. */
static void quiet(void *data, const xmlError *err)
{
	(void)data;
	(void)err;
}

int kt_domxml_parse(const char *xml, size_t len, struct kt_domxml **ret)
{
	struct kt_domxml *d;
	xmlDocPtr doc;

	if (!xml || len > DOMXML_MAX)
		return -EINVAL;
	doc = xmlReadMemory(xml, (int)len, "domain.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return -EBADMSG;
	if (!xmlDocGetRootElement(doc)) {
		xmlFreeDoc(doc);
		return -EBADMSG;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		xmlFreeDoc(doc);
		return -ENOMEM;
	}
	d->doc = doc;
	d->root.doc = d;
	d->root.node = xmlDocGetRootElement(doc);
	*ret = d;
	return 0;
}

struct kt_domxml *kt_domxml_free(struct kt_domxml *d)
{
	if (!d)
		return NULL;
	xmlFreeDoc(d->doc);
	free(d);
	return NULL;
}

const struct kt_domxml_node *kt_domxml_root(const struct kt_domxml *d)
{
	return &d->root;
}

static int eval(const struct kt_domxml_node *node, const char *expr, xmlXPathContextPtr *ret_ctx,
		xmlXPathObjectPtr *ret_obj)
{
	xmlXPathContextPtr ctx;
	xmlXPathObjectPtr obj;

	if (!node || !expr)
		return -EINVAL;
	ctx = xmlXPathNewContext(node->doc->doc);
	if (!ctx)
		return -ENOMEM;
	xmlSetStructuredErrorFunc(NULL, (xmlStructuredErrorFunc)quiet);
	ctx->error = (xmlStructuredErrorFunc)quiet;
	ctx->node = node->node;
	if (xmlXPathRegisterNs(ctx, BAD_CAST "kt", BAD_CAST KT_DOMXML_NS) < 0) {
		xmlXPathFreeContext(ctx);
		return -ENOMEM;
	}
	obj = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	xmlSetStructuredErrorFunc(NULL, NULL);
	if (!obj) {
		xmlXPathFreeContext(ctx);
		return -EINVAL;
	}
	*ret_ctx = ctx;
	*ret_obj = obj;
	return 0;
}

static int nodes_of(xmlXPathObjectPtr obj)
{
	if (obj->type != XPATH_NODESET || !obj->nodesetval)
		return 0;
	return obj->nodesetval->nodeNr;
}

int kt_domxml_string(const struct kt_domxml_node *node, const char *expr, char **ret)
{
	xmlXPathContextPtr ctx;
	xmlXPathObjectPtr obj;
	xmlChar *s = NULL;
	int r;

	r = eval(node, expr, &ctx, &obj);
	if (r < 0)
		return r;
	if (obj->type == XPATH_NODESET) {
		if (nodes_of(obj) > 0)
			s = xmlXPathCastNodeToString(obj->nodesetval->nodeTab[0]);
		else
			r = -ENOENT;
	} else {
		s = xmlXPathCastToString(obj);
	}
	if (r == 0 && !s)
		r = -ENOMEM;
	if (r == 0) {
		*ret = strdup((const char *)s);
		if (!*ret)
			r = -ENOMEM;
	}
	xmlFree(s);
	xmlXPathFreeObject(obj);
	xmlXPathFreeContext(ctx);
	return r;
}

int kt_domxml_u64(const struct kt_domxml_node *node, const char *expr, uint64_t *ret)
{
	kt_cleanup_free char *s = NULL;
	long long v;
	int r;

	r = kt_domxml_string(node, expr, &s);
	if (r < 0)
		return r;
	r = kt_parse_int(s, 0, INT64_MAX, &v);
	if (r < 0)
		return -EINVAL;
	*ret = (uint64_t)v;
	return 0;
}

int kt_domxml_each(const struct kt_domxml_node *node, const char *expr, kt_domxml_fn fn,
		   void *data)
{
	xmlXPathContextPtr ctx;
	xmlXPathObjectPtr obj;
	int r, n;

	r = eval(node, expr, &ctx, &obj);
	if (r < 0)
		return r;
	n = nodes_of(obj);
	for (int i = 0; i < n && r == 0; i++) {
		struct kt_domxml_node child = { node->doc, obj->nodesetval->nodeTab[i] };

		r = fn(data, &child);
	}
	xmlXPathFreeObject(obj);
	xmlXPathFreeContext(ctx);
	return r;
}

int kt_domxml_count(const struct kt_domxml_node *node, const char *expr)
{
	xmlXPathContextPtr ctx;
	xmlXPathObjectPtr obj;
	int r;

	r = eval(node, expr, &ctx, &obj);
	if (r < 0)
		return r;
	r = nodes_of(obj);
	xmlXPathFreeObject(obj);
	xmlXPathFreeContext(ctx);
	return r;
}
