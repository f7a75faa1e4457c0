// SPDX-License-Identifier: LGPL-2.1-or-later
/* Hugepages: Context.hugepages_apply/verify/status/restore for plugin_kvm_hugepages. */
#include <string.h>

#include "hugepages-tuning.h"
#include "journal.h"
#include "module.h"

static int hp_unapply(void *impl, bool restore)
{
	return kt_hp_tuning_unapply(impl, restore);
}

static PyObject *hp_stats(void *impl)
{
	return Py_BuildValue("{s:K}", "short_pages", (unsigned long long)kt_hp_tuning_short(impl));
}

static const struct kt_py_tuning_ops hp_ops = {
	.unapply = hp_unapply,
	.stats = hp_stats,
};

PyObject *kt_py_hugepages_apply(PyObject *op, PyObject *args)
{
	kt_py_context *self = (kt_py_context *)op;
	struct kt_kvlist kv = KT_KVLIST_INIT;
	struct kt_hp_tuning *t = NULL;
	const char *journal, *holder;
	PyObject *opts;
	int r;

	if (kt_py_check(self) < 0 ||
	    !PyArg_ParseTuple(args, "ssO!:hugepages_apply", &journal, &holder, &PyDict_Type,
			      &opts) ||
	    kt_py_check_name("journal name", journal) < 0)
		return NULL;
	if (kt_py_kvlist_from_dict(opts, &kv) < 0) {
		kt_kvlist_clear(&kv);
		return NULL;
	}
	kt_py_call_begin(self);
	/* Allocation compacts memory and may take seconds: other tuned threads run meanwhile. */
	Py_BEGIN_ALLOW_THREADS
	r = kt_hp_tuning_apply(self->ctx, journal, holder, &kv, &t);
	Py_END_ALLOW_THREADS
	kt_kvlist_clear(&kv);
	if (kt_py_call_end(self, r, KT_HP_DIR) < 0)
		return NULL;
	return kt_py_tuning_new(self, &hp_ops, t);
}

static void verify_cb(void *data, const char *name, const char *want, const char *current,
		      bool ok)
{
	kt_py_verified_add(data, name, want, current, ok);
}

PyObject *kt_py_hugepages_verify(PyObject *op, PyObject *args)
{
	kt_py_context *self = (kt_py_context *)op;
	struct kt_py_verified acc;
	struct kt_kvlist kv = KT_KVLIST_INIT;
	PyObject *opts;
	int r;

	if (kt_py_check(self) < 0 ||
	    !PyArg_ParseTuple(args, "O!:hugepages_verify", &PyDict_Type, &opts))
		return NULL;
	if (kt_py_kvlist_from_dict(opts, &kv) < 0 || kt_py_verified_init(&acc, false) < 0) {
		kt_kvlist_clear(&kv);
		return NULL;
	}
	kt_py_call_begin(self);
	/* verify_cb builds Python objects: the GIL stays held. */
	r = kt_hp_verify_options(self->ctx, &kv, verify_cb, &acc);
	kt_kvlist_clear(&kv);
	return kt_py_verified_finish(self, &acc, r, KT_HP_DIR);
}

static int append_steal(PyObject *list, PyObject *item)
{
	int r;

	if (!item)
		return -1;
	r = PyList_Append(list, item);
	Py_DECREF(item);
	return r;
}

static PyObject *size_dict(const struct kt_hp_host *h, const struct kt_hp_plan *plan)
{
	PyObject *nodes = PyList_New(0), *doms = PyList_New(0), *d = NULL;

	if (!nodes || !doms)
		goto out;
	for (unsigned i = 0; i < h->n; i++) {
		const struct kt_hp_counts *c = &h->counts[i];

		if (append_steal(nodes, Py_BuildValue("{s:i,s:K,s:K,s:K,s:K,s:K,s:K}", "node",
						      h->nodes[i].node, "total",
						      (unsigned long long)c->nr, "free",
						      (unsigned long long)c->free, "surplus",
						      (unsigned long long)c->surplus, "in_use",
						      (unsigned long long)kt_hp_in_use(c), "domains",
						      (unsigned long long)plan->nodes[i].domains,
						      "auto", (unsigned long long)plan->nodes[i].target)) <
		    0)
			goto out;
	}
	for (unsigned i = 0; i < h->n_doms; i++) {
		PyObject *needs = PyDict_New();

		if (!needs)
			goto out;
		for (unsigned j = 0; j < h->doms[i].n; j++) {
			PyObject *k = PyLong_FromLong(h->doms[i].needs[j].node);
			PyObject *v = PyLong_FromUnsignedLongLong(h->doms[i].needs[j].pages);

			if (!k || !v || PyDict_SetItem(needs, k, v) < 0) {
				Py_XDECREF(k);
				Py_XDECREF(v);
				Py_DECREF(needs);
				goto out;
			}
			Py_DECREF(k);
			Py_DECREF(v);
		}
		if (append_steal(doms, Py_BuildValue("{s:s,s:N}", "name", h->doms[i].name, "pages",
						     needs)) < 0)
			goto out;
	}
	d = Py_BuildValue("{s:K,s:K,s:K,s:K,s:K,s:K,s:O,s:O,s:z}", "size_kb",
			  (unsigned long long)h->page_kb, "total", (unsigned long long)h->global.nr,
			  "free", (unsigned long long)h->global.free, "reserved",
			  (unsigned long long)h->global.resv, "surplus",
			  (unsigned long long)h->global.surplus, "in_use",
			  (unsigned long long)kt_hp_in_use(&h->global), "nodes", nodes, "domains",
			  doms, "libvirt_error", h->libvirt_error[0] ? h->libvirt_error : NULL);
out:
	Py_XDECREF(nodes);
	Py_XDECREF(doms);
	return d;
}

PyObject *kt_py_hugepages_status(PyObject *op, PyObject *args)
{
	kt_py_context *self = (kt_py_context *)op;
	uint64_t sizes[KT_HP_SIZES_MAX];
	const char *uri = "none";
	PyObject *list;
	unsigned n = 0;
	int r;

	if (kt_py_check(self) < 0 || !PyArg_ParseTuple(args, "|s:hugepages_status", &uri))
		return NULL;
	kt_py_call_begin(self);
	r = kt_hp_sizes(self->ctx, sizes, &n);
	if (kt_py_call_end(self, r, KT_HP_DIR) < 0)
		return NULL;
	list = PyList_New(0);
	for (unsigned i = 0; list && i < n; i++) {
		struct kt_hp_host h;
		struct kt_hp_plan plan;

		kt_py_call_begin(self);
		Py_BEGIN_ALLOW_THREADS
		r = kt_hp_status_read(self->ctx, sizes[i], uri, &h, &plan);
		Py_END_ALLOW_THREADS
		if (kt_py_call_end(self, r, KT_HP_DIR) < 0) {
			Py_CLEAR(list);
			break;
		}
		if (append_steal(list, size_dict(&h, &plan)) < 0)
			Py_CLEAR(list);
		kt_hp_host_clear(&h);
	}
	return list;
}

PyObject *kt_py_hugepages_restore(PyObject *op, PyObject *args)
{
	kt_py_context *self = (kt_py_context *)op;
	const char *journal;
	int r;

	if (kt_py_check(self) < 0 || !PyArg_ParseTuple(args, "s:hugepages_restore", &journal) ||
	    kt_py_check_name("journal name", journal) < 0)
		return NULL;
	kt_py_call_begin(self);
	Py_BEGIN_ALLOW_THREADS
	r = kt_hp_restore_journal(self->ctx, journal, "tuned");
	Py_END_ALLOW_THREADS
	if (kt_py_call_end(self, r, KT_STATE_DIR) < 0)
		return NULL;
	Py_RETURN_NONE;
}

PyObject *kt_py_hugepages_options(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(args))
{
	Py_ssize_t n = 0;
	PyObject *t;

	while (kt_hp_option_names[n])
		n++;
	t = PyTuple_New(n);
	if (!t)
		return NULL;
	for (Py_ssize_t i = 0; i < n; i++) {
		PyObject *s = PyUnicode_FromString(kt_hp_option_names[i]);

		if (!s) {
			Py_DECREF(t);
			return NULL;
		}
		PyTuple_SetItem(t, i, s);
	}
	return t;
}
