// SPDX-License-Identifier: LGPL-2.1-or-later
/* Pinning: Context.pin_apply/restore/plan for plugin_kvm_pin, on the shared event loop. */
#include <stdio.h>
#include <string.h>

#include "journal.h"
#include "module.h"
#include "pin-tuning.h"
#include "virt-events.h"

struct py_pin {
	struct kt_pin_tuning *tuning;
	struct kt_virt_events *events;
	int sub;
};

static int pin_unapply(void *impl, bool restore)
{
	struct py_pin *p = impl;
	struct kt_virt *v = NULL;
	int r;

	/* No event reaches the tuning from here on. */
	if (p->sub >= 0)
		kt_virt_events_unsubscribe(p->events, p->sub);
	if (p->events && kt_virt_events_connection(p->events, &v) < 0)
		v = NULL;
	r = kt_pin_tuning_unapply(p->tuning, v, restore);
	kt_virt_close(v);
	kt_py_events_release(p->events);
	free(p);
	return r;
}

static PyObject *pin_stats(void *impl)
{
	struct py_pin *p = impl;
	unsigned pinned;
	int subs;

	/* Both wait for the loop's thread, which may be waiting for the GIL to log. */
	Py_BEGIN_ALLOW_THREADS
	pinned = kt_pin_tuning_pinned(p->tuning);
	subs = p->events ? kt_virt_events_subscribers(p->events) : 0;
	Py_END_ALLOW_THREADS
	return Py_BuildValue("{s:I,s:i}", "pinned", pinned, "event_loop_subscribers", subs);
}

struct verified {
	char what[160];
	char want[128];
	char current[128];
	bool ok;
};

struct verify_acc {
	struct verified *items;
	size_t n, cap;
};

static void verify_cb(void *data, const char *what, const char *want, const char *current,
		      bool ok)
{
	struct verify_acc *acc = data;
	struct verified *v;

	if (acc->n == acc->cap) {
		size_t cap = acc->cap ? acc->cap * 2 : 16;
		struct verified *items = realloc(acc->items, cap * sizeof(*items));

		if (!items)
			return;
		acc->items = items;
		acc->cap = cap;
	}
	v = &acc->items[acc->n++];
	snprintf(v->what, sizeof(v->what), "%s", what);
	snprintf(v->want, sizeof(v->want), "%s", want);
	snprintf(v->current, sizeof(v->current), "%s", current);
	v->ok = ok;
}

static PyObject *pin_verify(void *impl)
{
	struct py_pin *p = impl;
	struct verify_acc acc = { NULL, 0, 0 };
	struct kt_virt *v = NULL;
	struct kt_py_verified list;

	/* libvirt is asked without the GIL: the loop's thread may want it meanwhile. */
	Py_BEGIN_ALLOW_THREADS
	if (p->events && kt_virt_events_connection(p->events, &v) == 0) {
		kt_pin_tuning_verify(p->tuning, v, verify_cb, &acc);
		kt_virt_close(v);
	}
	Py_END_ALLOW_THREADS
	if (kt_py_verified_init(&list, false) == 0) {
		for (size_t i = 0; i < acc.n; i++)
			kt_py_verified_add(&list, acc.items[i].what, acc.items[i].want,
					   acc.items[i].current, acc.items[i].ok);
		if (list.failed)
			Py_CLEAR(list.list);
	}
	free(acc.items);
	return list.list;
}

static const struct kt_py_tuning_ops pin_ops = {
	.unapply = pin_unapply,
	.stats = pin_stats,
	.verify = pin_verify,
};

PyObject *kt_py_pin_apply(PyObject *op, PyObject *args)
{
	kt_py_context *self = (kt_py_context *)op;
	struct kt_kvlist kv = KT_KVLIST_INIT;
	const char *journal, *holder;
	struct py_pin *p;
	PyObject *opts;
	int r;

	if (kt_py_check(self) < 0 ||
	    !PyArg_ParseTuple(args, "ssO!:pin_apply", &journal, &holder, &PyDict_Type, &opts) ||
	    kt_py_check_name("journal name", journal) < 0)
		return NULL;
	if (kt_py_kvlist_from_dict(opts, &kv) < 0) {
		kt_kvlist_clear(&kv);
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		kt_kvlist_clear(&kv);
		return PyErr_NoMemory();
	}
	p->sub = -1;
	kt_py_call_begin(self);
	/* Messages of the loop's thread take the GIL: nothing here may hold it and wait. */
	Py_BEGIN_ALLOW_THREADS
	r = kt_pin_tuning_new(self->ctx, journal, holder, &kv, &p->tuning);
	Py_END_ALLOW_THREADS
	kt_kvlist_clear(&kv);
	if (r == 0)
		r = kt_py_events_subscribe(self, kt_pin_tuning_options(p->tuning)->libvirt_uri,
					   kt_pin_tuning_on_event, p->tuning, &p->events, &p->sub);
	if (r < 0 && p->tuning) {
		Py_BEGIN_ALLOW_THREADS
		pin_unapply(p, true);
		Py_END_ALLOW_THREADS
		p = NULL;
	} else if (r < 0) {
		free(p);
		p = NULL;
	}
	if (kt_py_call_end(self, r, "/" KT_STATE_DIR) < 0)
		return NULL;
	return kt_py_tuning_new(self, &pin_ops, p);
}

PyObject *kt_py_pin_restore(PyObject *op, PyObject *args)
{
	kt_py_context *self = (kt_py_context *)op;
	struct kt_kvlist kv = KT_KVLIST_INIT;
	const char *journal;
	int missing_ok = 0, r;

	if (kt_py_check(self) < 0 ||
	    !PyArg_ParseTuple(args, "s|p:pin_restore", &journal, &missing_ok) ||
	    kt_py_check_name("journal name", journal) < 0)
		return NULL;
	/* Unapplied with nothing applied (refused options): nothing to put back, and no error. */
	if (missing_ok && kt_journal_read(self->ctx, journal, &kv) == -ENOENT)
		Py_RETURN_NONE;
	kt_kvlist_clear(&kv);
	kt_py_call_begin(self);
	Py_BEGIN_ALLOW_THREADS
	r = kt_pin_restore_journal(self->ctx, journal, "tuned");
	Py_END_ALLOW_THREADS
	if (kt_py_call_end(self, r, KT_STATE_DIR) < 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyObject *cpus_str(const struct kt_cpuset *set)
{
	char buf[1024];

	if (kt_cpulist_format(set, buf, sizeof(buf)) < 0)
		buf[0] = '\0';
	return PyUnicode_FromString(buf);
}

struct plan_acc {
	PyObject *list;
	bool failed;
};

static void plan_cb(void *data, const struct kt_pin_domain_view *d)
{
	struct plan_acc *acc = data;
	PyObject *item, *vcpus = NULL, *emu = NULL;

	if (acc->failed)
		return;
	if (d->pl && d->pinned) {
		vcpus = PyList_New(0);
		for (unsigned v = 0; vcpus && v < d->pl->vcpus; v++) {
			struct kt_cpuset one;
			PyObject *s;

			if (d->pl->policy == KT_PIN_SHARED) {
				one = d->pl->shared;
			} else {
				kt_cpuset_clear(&one);
				kt_cpuset_add(&one, d->pl->vcpu_cpu[v]);
			}
			s = cpus_str(&one);
			if (!s || PyList_Append(vcpus, s) < 0)
				Py_CLEAR(vcpus);
			Py_XDECREF(s);
		}
		emu = cpus_str(&d->pl->emulator_cpus);
	}
	item = Py_BuildValue("{s:s,s:s,s:O,s:z,s:s,s:O,s:O}", "name", d->name, "uuid", d->uuid,
			     "placed", d->pinned ? Py_True : Py_False, "reason", d->error, "policy",
			     d->pl ? kt_pin_policy_name(d->pl->policy) : "",
			     "vcpus", vcpus ? vcpus : Py_None, "emulator", emu ? emu : Py_None);
	if (!item || PyList_Append(acc->list, item) < 0)
		acc->failed = true;
	Py_XDECREF(item);
	Py_XDECREF(vcpus);
	Py_XDECREF(emu);
}

PyObject *kt_py_pin_plan(PyObject *op, PyObject *args)
{
	kt_py_context *self = (kt_py_context *)op;
	struct plan_acc acc = { NULL, false };
	struct kt_kvlist kv = KT_KVLIST_INIT;
	struct kt_pin_options o;
	struct kt_topology *t = NULL;
	struct kt_virt *v = NULL;
	char *err = NULL;
	PyObject *opts;
	int r;

	if (kt_py_check(self) < 0 || !PyArg_ParseTuple(args, "O!:pin_plan", &PyDict_Type, &opts))
		return NULL;
	if (kt_py_kvlist_from_dict(opts, &kv) < 0) {
		kt_kvlist_clear(&kv);
		return NULL;
	}
	acc.list = PyList_New(0);
	if (!acc.list) {
		kt_kvlist_clear(&kv);
		return NULL;
	}
	kt_py_call_begin(self);
	r = kt_topology_read(self->ctx, &t);
	if (r == 0)
		r = kt_pin_options_parse(self->ctx, t, &kv, &o);
	if (r == 0) {
		r = kt_virt_connect(o.libvirt_uri, true, &v, &err);
		if (r < 0)
			kt_err(self->ctx, "cannot connect to %s: %s", o.libvirt_uri,
			       err ? err : strerror(-r));
		free(err);
	}
	/* Called back with the GIL held: plan_cb builds Python objects. */
	if (r == 0)
		r = kt_pin_plan_only(self->ctx, v, &kv, plan_cb, &acc, NULL);
	kt_virt_close(v);
	kt_topology_free(t);
	kt_kvlist_clear(&kv);
	if (kt_py_call_end(self, r, "pin") < 0 || acc.failed) {
		Py_DECREF(acc.list);
		return NULL;
	}
	return acc.list;
}

PyObject *kt_py_pin_options(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(args))
{
	PyObject *t;
	Py_ssize_t n = 0;

	while (kt_pin_option_names[n])
		n++;
	t = PyTuple_New(n);
	if (!t)
		return NULL;
	for (Py_ssize_t i = 0; i < n; i++) {
		PyObject *s = PyUnicode_FromString(kt_pin_option_names[i]);

		if (!s) {
			Py_DECREF(t);
			return NULL;
		}
		PyTuple_SetItem(t, i, s);
	}
	return t;
}
