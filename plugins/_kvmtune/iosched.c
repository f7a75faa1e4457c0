// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * I/O schedulers: Context.iosched_apply/verify/restore for plugin_kvm_iosched, the tuning
 * kept up on the shared libvirt event loop.
 */
#include <string.h>

#include "iosched.h"
#include "journal.h"
#include "module.h"
#include "virt-events.h"

struct py_iosched {
	/* Borrowed: the Tuning that owns this keeps its Context alive. */
	kt_py_context *owner;
	struct kt_iosched_tuning *tuning;
	struct kt_virt_events *events;
	int sub;
};

static int iosched_unapply(void *impl, bool restore)
{
	struct py_iosched *p = impl;
	int r;

	/* No event reaches the tuning from here on. */
	if (p->sub >= 0)
		kt_virt_events_unsubscribe(p->events, p->sub);
	r = kt_iosched_tuning_unapply(p->tuning, restore);
	kt_py_events_release(p->events);
	free(p);
	return r;
}

static PyObject *iosched_stats(void *impl)
{
	struct py_iosched *p = impl;

	return Py_BuildValue("{s:I,s:I,s:I}", "devices", kt_iosched_tuning_devices(p->tuning),
			     "writes", kt_iosched_tuning_writes(p->tuning), "events",
			     kt_iosched_tuning_events(p->tuning));
}

static int iosched_refresh(void *impl, bool force)
{
	struct py_iosched *p = impl;

	return kt_iosched_tuning_refresh(p->tuning, force);
}

/* Called with the GIL released: kt_py_verified_add takes it. */
static void verify_cb(void *data, const char *device, enum kt_iosched_knob knob, const char *want,
		      const char *current, bool ok)
{
	char name[96];

	snprintf(name, sizeof(name), "%s.%s", device, kt_iosched_knob_name(knob));
	kt_py_verified_add(data, name, want, current, ok);
}

static PyObject *iosched_verify(void *impl)
{
	struct py_iosched *p = impl;
	struct kt_py_verified acc;
	int r;

	if (kt_py_verified_init(&acc, true) < 0)
		return NULL;
	kt_py_call_begin(p->owner);
	/* Waits for an event's refresh to finish, which may want the GIL to log. */
	Py_BEGIN_ALLOW_THREADS
	r = kt_iosched_tuning_verify(p->tuning, verify_cb, &acc);
	Py_END_ALLOW_THREADS
	return kt_py_verified_finish(p->owner, &acc, r, "/sys/class/block");
}

static const struct kt_py_tuning_ops iosched_ops = {
	.unapply = iosched_unapply,
	.stats = iosched_stats,
	.verify = iosched_verify,
	.refresh = iosched_refresh,
};

static int options_of(PyObject *args, const char *format, const char **journal,
		      const char **holder, struct kt_kvlist *kv)
{
	PyObject *opts;
	int ok;

	if (journal)
		ok = PyArg_ParseTuple(args, format, journal, holder, &PyDict_Type, &opts);
	else
		ok = PyArg_ParseTuple(args, format, &PyDict_Type, &opts);
	if (!ok || (journal && kt_py_check_name("journal name", *journal) < 0))
		return -1;
	if (kt_py_kvlist_from_dict(opts, kv) < 0) {
		kt_kvlist_clear(kv);
		return -1;
	}
	return 0;
}

PyObject *kt_py_iosched_apply(PyObject *op, PyObject *args)
{
	kt_py_context *self = (kt_py_context *)op;
	struct kt_kvlist kv = KT_KVLIST_INIT;
	const char *journal, *holder;
	struct py_iosched *p;
	int r;

	if (kt_py_check(self) < 0 || options_of(args, "ssO!:iosched_apply", &journal, &holder, &kv) < 0)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p) {
		kt_kvlist_clear(&kv);
		return PyErr_NoMemory();
	}
	p->owner = self;
	p->sub = -1;
	kt_py_call_begin(self);
	/* libvirt and sysfs may take a while: other threads of tuned go on meanwhile. */
	Py_BEGIN_ALLOW_THREADS
	r = kt_iosched_tuning_apply(self->ctx, journal, holder, &kv, &p->tuning);
	Py_END_ALLOW_THREADS
	kt_kvlist_clear(&kv);
	/* Guests that start or stop from now on. A new subscriber gets CONNECTED first, so a
	 * guest that came between the apply and the subscription is seen too. */
	if (r == 0)
		r = kt_py_events_subscribe(self, kt_iosched_tuning_uri(p->tuning),
					   kt_iosched_tuning_on_event, p->tuning, &p->events, &p->sub);
	if (r < 0 && p->tuning) {
		Py_BEGIN_ALLOW_THREADS
		iosched_unapply(p, true);
		Py_END_ALLOW_THREADS
		p = NULL;
	} else if (r < 0) {
		free(p);
		p = NULL;
	}
	if (kt_py_call_end(self, r, "/sys/class/block") < 0)
		return NULL;
	return kt_py_tuning_new(self, &iosched_ops, p);
}

PyObject *kt_py_iosched_verify(PyObject *op, PyObject *args)
{
	kt_py_context *self = (kt_py_context *)op;
	struct kt_py_verified acc;
	struct kt_kvlist kv = KT_KVLIST_INIT;
	int r;

	if (kt_py_check(self) < 0 || options_of(args, "O!:iosched_verify", NULL, NULL, &kv) < 0)
		return NULL;
	if (kt_py_verified_init(&acc, true) < 0) {
		kt_kvlist_clear(&kv);
		return NULL;
	}
	kt_py_call_begin(self);
	Py_BEGIN_ALLOW_THREADS
	r = kt_iosched_verify_options(self->ctx, &kv, verify_cb, &acc);
	Py_END_ALLOW_THREADS
	kt_kvlist_clear(&kv);
	return kt_py_verified_finish(self, &acc, r, "/sys/class/block");
}

PyObject *kt_py_iosched_restore(PyObject *op, PyObject *args)
{
	kt_py_context *self = (kt_py_context *)op;
	const char *journal;
	int r;

	if (kt_py_check(self) < 0 || !PyArg_ParseTuple(args, "s:iosched_restore", &journal) ||
	    kt_py_check_name("journal name", journal) < 0)
		return NULL;
	kt_py_call_begin(self);
	r = kt_iosched_restore_journal(self->ctx, journal, "tuned");
	if (kt_py_call_end(self, r, KT_STATE_DIR) < 0)
		return NULL;
	Py_RETURN_NONE;
}

PyObject *kt_py_iosched_options(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(args))
{
	PyObject *t;
	Py_ssize_t n = 0;

	while (kt_iosched_options[n])
		n++;
	t = PyTuple_New(n);
	if (!t)
		return NULL;
	for (Py_ssize_t i = 0; i < n; i++) {
		PyObject *s = PyUnicode_FromString(kt_iosched_options[i]);

		if (!s) {
			Py_DECREF(t);
			return NULL;
		}
		PyTuple_SetItem(t, i, s);
	}
	return t;
}
