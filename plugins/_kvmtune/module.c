// SPDX-License-Identifier: LGPL-2.1-or-later
#include <string.h>

#include "io.h"
#include "journal.h"
#include "module.h"
#include "restore.h"
#include "virt-events.h"

typedef struct {
	PyTypeObject *context_type;
	PyTypeObject *tuning_type;
} module_state;

typedef struct {
	PyObject_HEAD kt_py_context *owner;
	const struct kt_py_tuning_ops *ops;
	void *impl;
} kt_py_tuning;

static void sink_log(void *data, enum kt_log_prio prio, const char *msg)
{
	struct kt_py_sink *sink = data;
	PyObject *type, *value, *tb, *res;
	PyGILState_STATE gil;

	pthread_mutex_lock(&sink->lock);
	if (prio == KT_LOG_ERR && sink->in_call && pthread_equal(sink->call_thread, pthread_self())) {
		size_t len = strlen(sink->errors);

		snprintf(sink->errors + len, sizeof(sink->errors) - len, "%s%s", len ? "; " : "", msg);
		pthread_mutex_unlock(&sink->lock);
		return;
	}
	pthread_mutex_unlock(&sink->lock);
	/* The library's threads log too: each message takes the GIL for itself. */
	gil = PyGILState_Ensure();
	if (sink->log && sink->log != Py_None) {
		/* A failing callback must not turn into the exception of an unrelated call. */
		PyErr_Fetch(&type, &value, &tb);
		res = PyObject_CallFunction(sink->log, "is", (int)prio, msg);
		if (res)
			Py_DECREF(res);
		else
			PyErr_Clear();
		PyErr_Restore(type, value, tb);
	}
	PyGILState_Release(gil);
}

int kt_py_check(kt_py_context *c)
{
	if (!c->ctx) {
		PyErr_SetString(PyExc_RuntimeError, "Context.__init__ was not called");
		return -1;
	}
	return 0;
}

void kt_py_call_begin(kt_py_context *c)
{
	pthread_mutex_lock(&c->sink.lock);
	c->sink.in_call = true;
	c->sink.call_thread = pthread_self();
	c->sink.errors[0] = '\0';
	pthread_mutex_unlock(&c->sink.lock);
}

static int raise_errno(int r, const char *text, const char *what)
{
	PyObject *args;

	if (r == -EINVAL || r == -ERANGE || r == -EBADMSG) {
		PyErr_SetString(PyExc_ValueError, text && *text ? text : strerror(-r));
		return -1;
	}
	if (text && *text)
		args = Py_BuildValue("(is)", -r, text);
	else if (what)
		args = Py_BuildValue("(iss)", -r, strerror(-r), what);
	else
		args = Py_BuildValue("(is)", -r, strerror(-r));
	if (args) {
		PyErr_SetObject(PyExc_OSError, args);
		Py_DECREF(args);
	}
	return -1;
}

int kt_py_call_end(kt_py_context *c, int r, const char *what)
{
	char errors[sizeof(c->sink.errors)];

	pthread_mutex_lock(&c->sink.lock);
	c->sink.in_call = false;
	memcpy(errors, c->sink.errors, sizeof(errors));
	c->sink.errors[0] = '\0';
	pthread_mutex_unlock(&c->sink.lock);
	if (r < 0)
		return raise_errno(r, errors, what);
	/* Nothing else would report them: a message is never dropped because the call succeeded. */
	if (errors[0])
		sink_log(&c->sink, KT_LOG_ERR, errors);
	return PyErr_Occurred() ? -1 : 0;
}

int kt_py_verified_init(struct kt_py_verified *v, bool gil)
{
	v->list = PyList_New(0);
	v->failed = false;
	v->gil = gil;
	return v->list ? 0 : -1;
}

void kt_py_verified_add(struct kt_py_verified *v, const char *name, const char *want,
			const char *current, bool ok)
{
	PyGILState_STATE gil = PyGILState_UNLOCKED;
	PyObject *t;

	if (v->failed)
		return;
	if (v->gil)
		gil = PyGILState_Ensure();
	t = Py_BuildValue("(sszO)", name, want, current, ok ? Py_True : Py_False);
	if (!t || PyList_Append(v->list, t) < 0)
		v->failed = true;
	Py_XDECREF(t);
	if (v->gil)
		PyGILState_Release(gil);
}

PyObject *kt_py_verified_finish(kt_py_context *c, struct kt_py_verified *v, int r,
				const char *what)
{
	if (kt_py_call_end(c, r, what) < 0 || v->failed) {
		Py_CLEAR(v->list);
		return NULL;
	}
	return v->list;
}

int kt_py_utf8(PyObject *o, const char *what, PyObject **ret_bytes, const char **ret)
{
	PyObject *s;

	if (PyUnicode_Check(o)) {
		Py_INCREF(o);
		s = o;
	} else if (PyLong_Check(o) || PyFloat_Check(o) || PyBool_Check(o)) {
		/* tuned hands some values over as numbers: their str() is what a profile said. */
		s = PyObject_Str(o);
		if (!s)
			return -1;
	} else {
		PyErr_Format(PyExc_TypeError, "%s must be a str", what);
		return -1;
	}
	*ret_bytes = PyUnicode_AsUTF8String(s);
	Py_DECREF(s);
	if (!*ret_bytes)
		return -1;
	*ret = PyBytes_AsString(*ret_bytes);
	if (!*ret || strlen(*ret) != (size_t)PyBytes_Size(*ret_bytes)) {
		if (*ret)
			PyErr_Format(PyExc_ValueError, "%s contains a NUL character", what);
		Py_CLEAR(*ret_bytes);
		return -1;
	}
	return 0;
}

int kt_py_kvlist_from_dict(PyObject *dict, struct kt_kvlist *ret)
{
	PyObject *key, *value;
	Py_ssize_t pos = 0;

	if (!PyDict_Check(dict)) {
		PyErr_SetString(PyExc_TypeError, "options must be a dict");
		return -1;
	}
	while (PyDict_Next(dict, &pos, &key, &value)) {
		PyObject *kb = NULL, *vb = NULL;
		const char *k, *v;
		int r;

		if (value == Py_None)
			continue;
		if (kt_py_utf8(key, "an option name", &kb, &k) < 0)
			return -1;
		if (kt_py_utf8(value, "an option value", &vb, &v) < 0) {
			Py_DECREF(kb);
			return -1;
		}
		r = kt_kvlist_set(ret, k, v);
		Py_DECREF(kb);
		Py_DECREF(vb);
		if (r < 0) {
			PyErr_NoMemory();
			return -1;
		}
	}
	return 0;
}

int kt_py_check_name(const char *what, const char *name)
{
	if (kt_name_is_safe(name))
		return 0;
	PyErr_Format(PyExc_ValueError,
		     "%s '%s' is invalid: expected 1..64 of [A-Za-z0-9_.-], not starting with '.'",
		     what, name);
	return -1;
}

/*
 * One libvirt event loop per process: libvirt's default event implementation is
 * process-wide, so every plugin instance that needs domain events subscribes to this one.
 * It runs while it has users; the Context it logs through is kept alive meanwhile.
 */
static struct {
	pthread_mutex_t lock;
	struct kt_virt_events *events;
	PyObject *owner;
	int users;
} shared_events = { PTHREAD_MUTEX_INITIALIZER, NULL, NULL, 0 };

static int events_acquire(kt_py_context *c, const char *uri, struct kt_virt_events **ret)
{
	struct kt_virt_events *e = NULL;
	bool created = false;
	int r = 0;

	Py_BEGIN_ALLOW_THREADS
	pthread_mutex_lock(&shared_events.lock);
	if (shared_events.events && strcmp(kt_virt_events_uri(shared_events.events), uri) != 0) {
		kt_err(c->ctx, "libvirt_uri=%s differs from %s, which the running event loop "
			       "serves: expected one URI for every kvm_* section",
		       uri, kt_virt_events_uri(shared_events.events));
		r = -EINVAL;
	} else if (!shared_events.events) {
		r = kt_virt_events_new(c->ctx, uri, &shared_events.events);
		if (r == 0) {
			r = kt_virt_events_start(shared_events.events);
			if (r < 0)
				shared_events.events = kt_virt_events_free(shared_events.events);
		}
		created = r == 0;
	}
	if (r == 0) {
		shared_events.users++;
		e = shared_events.events;
	}
	pthread_mutex_unlock(&shared_events.lock);
	Py_END_ALLOW_THREADS
	if (created) {
		Py_INCREF(c);
		shared_events.owner = (PyObject *)c;
	}
	if (r == 0)
		*ret = e;
	return r;
}

int kt_py_events_subscribe(kt_py_context *c, const char *uri, kt_virt_event_fn fn, void *data,
			    struct kt_virt_events **ret_events, int *ret_sub)
{
	struct kt_virt_events *e = NULL;
	int r = events_acquire(c, uri, &e), sub = -1;

	if (r < 0)
		return r;
	Py_BEGIN_ALLOW_THREADS
	sub = kt_virt_events_subscribe(e, fn, data);
	if (sub < 0)
		kt_py_events_release(e);
	Py_END_ALLOW_THREADS
	if (sub < 0)
		return sub;
	*ret_events = e;
	*ret_sub = sub;
	return 0;
}

void kt_py_events_release(struct kt_virt_events *e)
{
	struct kt_virt_events *stop = NULL;
	PyObject *owner = NULL;
	PyGILState_STATE gil;

	pthread_mutex_lock(&shared_events.lock);
	if (e && e == shared_events.events && --shared_events.users == 0) {
		stop = shared_events.events;
		owner = shared_events.owner;
		shared_events.events = NULL;
		shared_events.owner = NULL;
	}
	pthread_mutex_unlock(&shared_events.lock);
	/* Joined without the GIL: the loop's thread may be waiting for it to log. */
	kt_virt_events_free(stop);
	if (owner) {
		gil = PyGILState_Ensure();
		Py_DECREF(owner);
		PyGILState_Release(gil);
	}
}

static PyObject *events_running(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(args))
{
	int users;

	pthread_mutex_lock(&shared_events.lock);
	users = shared_events.events ? shared_events.users : 0;
	pthread_mutex_unlock(&shared_events.lock);
	return PyLong_FromLong(users);
}

/* Context */

static int Context_init(PyObject *op, PyObject *args, PyObject *kwds)
{
	kt_py_context *self = (kt_py_context *)op;
	static char *kwlist[] = { "root", "log", NULL };
	const char *root = "/";
	PyObject *log = Py_None;
	struct kt_ctx *ctx;
	int r;

	if (self->ctx) {
		PyErr_SetString(PyExc_RuntimeError, "Context is initialised already");
		return -1;
	}
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "|sO", kwlist, &root, &log))
		return -1;
	if (log != Py_None && !PyCallable_Check(log)) {
		PyErr_SetString(PyExc_TypeError, "log must be callable or None");
		return -1;
	}
	r = kt_ctx_new(root, &ctx);
	if (r < 0)
		return raise_errno(r, NULL, root);
	Py_INCREF(log);
	self->sink.log = log;
	kt_ctx_set_log_fn(ctx, sink_log, &self->sink);
	self->ctx = ctx;
	return 0;
}

static PyObject *Context_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	allocfunc alloc = (allocfunc)PyType_GetSlot(type, Py_tp_alloc);
	kt_py_context *self;

	(void)args;
	(void)kwds;
	self = (kt_py_context *)alloc(type, 0);
	if (!self)
		return NULL;
	pthread_mutex_init(&self->sink.lock, NULL);
	return (PyObject *)self;
}

static int Context_traverse(PyObject *op, visitproc visit, void *arg)
{
	Py_VISIT(((kt_py_context *)op)->sink.log);
	Py_VISIT(Py_TYPE(op));
	return 0;
}

static int Context_clear(PyObject *op)
{
	kt_py_context *self = (kt_py_context *)op;
	PyObject *log;

	pthread_mutex_lock(&self->sink.lock);
	log = self->sink.log;
	self->sink.log = NULL;
	pthread_mutex_unlock(&self->sink.lock);
	Py_XDECREF(log);
	return 0;
}

static void Context_dealloc(PyObject *op)
{
	kt_py_context *self = (kt_py_context *)op;
	PyTypeObject *tp = Py_TYPE(op);
	freefunc tp_free = (freefunc)PyType_GetSlot(tp, Py_tp_free);

	PyObject_GC_UnTrack(op);
	Context_clear(op);
	self->ctx = kt_ctx_unref(self->ctx);
	pthread_mutex_destroy(&self->sink.lock);
	tp_free(op);
	Py_DECREF(tp);
}

static PyObject *Context_restore_orphans(PyObject *op, PyObject *Py_UNUSED(args))
{
	kt_py_context *self = (kt_py_context *)op;
	int r;

	if (kt_py_check(self) < 0)
		return NULL;
	kt_py_call_begin(self);
	r = kt_restore_orphans(self->ctx, "tuned (restore of orphaned journals)");
	if (kt_py_call_end(self, r, "/" KT_STATE_DIR) < 0)
		return NULL;
	return PyLong_FromLong(r);
}

static PyMethodDef Context_methods[] = {
	KT_PY_KSM_METHODS
	KT_PY_HUGEPAGES_METHODS
	KT_PY_PIN_METHODS
	KT_PY_IOSCHED_METHODS
	KT_PY_ISOLATED_METHODS
	{ "restore_orphans", Context_restore_orphans, METH_NOARGS,
	  "restore_orphans() -> count: put back every journal nobody holds" },
	{ NULL, NULL, 0, NULL },
};

static PyType_Slot Context_slots[] = {
	{ Py_tp_doc, "Context(root='/', log=None): kvmtune library context rooted at root; "
		     "messages go to log(prio, text)." },
	{ Py_tp_new, Context_new },
	{ Py_tp_init, Context_init },
	{ Py_tp_dealloc, Context_dealloc },
	{ Py_tp_traverse, Context_traverse },
	{ Py_tp_clear, Context_clear },
	{ Py_tp_methods, Context_methods },
	{ 0, NULL },
};

static PyType_Spec Context_spec = {
	.name = "_kvmtune.Context",
	.basicsize = sizeof(kt_py_context),
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.slots = Context_slots,
};

/* Tuning */

PyObject *kt_py_tuning_new(kt_py_context *c, const struct kt_py_tuning_ops *ops, void *impl)
{
	PyObject *module = PyType_GetModule(Py_TYPE(c));
	module_state *st;
	kt_py_tuning *t = NULL;

	if (module) {
		st = PyModule_GetState(module);
		t = (kt_py_tuning *)PyType_GenericAlloc(st->tuning_type, 0);
	}
	if (!t) {
		Py_BEGIN_ALLOW_THREADS
		ops->unapply(impl, false);
		Py_END_ALLOW_THREADS
		return NULL;
	}
	Py_INCREF(c);
	t->owner = c;
	t->ops = ops;
	t->impl = impl;
	return (PyObject *)t;
}

static PyObject *Tuning_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	(void)type;
	(void)args;
	(void)kwds;
	PyErr_SetString(PyExc_TypeError,
			"cannot create '_kvmtune.Tuning' instances: Context.ksm_apply() makes them");
	return NULL;
}

static PyObject *Tuning_unapply(PyObject *op, PyObject *args, PyObject *kwds)
{
	kt_py_tuning *self = (kt_py_tuning *)op;
	static char *kwlist[] = { "restore", NULL };
	int restore = 1, r;
	void *impl;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "|p:unapply", kwlist, &restore))
		return NULL;
	if (!self->impl) {
		PyErr_SetString(PyExc_RuntimeError, "the tuning was unapplied already");
		return NULL;
	}
	impl = self->impl;
	self->impl = NULL;
	kt_py_call_begin(self->owner);
	/* Joining a thread that may wait for the GIL to log: let it have it meanwhile. */
	Py_BEGIN_ALLOW_THREADS
	r = self->ops->unapply(impl, restore);
	Py_END_ALLOW_THREADS
	if (kt_py_call_end(self->owner, r, NULL) < 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyObject *Tuning_stats(PyObject *op, PyObject *Py_UNUSED(args))
{
	kt_py_tuning *self = (kt_py_tuning *)op;

	if (!self->impl || !self->ops->stats)
		return PyDict_New();
	return self->ops->stats(self->impl);
}

static PyObject *Tuning_verify(PyObject *op, PyObject *Py_UNUSED(args))
{
	kt_py_tuning *self = (kt_py_tuning *)op;

	if (!self->impl || !self->ops->verify)
		return PyList_New(0);
	return self->ops->verify(self->impl);
}

static PyObject *Tuning_refresh(PyObject *op, PyObject *args, PyObject *kwds)
{
	kt_py_tuning *self = (kt_py_tuning *)op;
	static char *kwlist[] = { "force", NULL };
	int force = 0, r;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "|p:refresh", kwlist, &force))
		return NULL;
	if (!self->impl) {
		PyErr_SetString(PyExc_RuntimeError, "the tuning was unapplied already");
		return NULL;
	}
	if (!self->ops->refresh)
		return PyLong_FromLong(0);
	kt_py_call_begin(self->owner);
	Py_BEGIN_ALLOW_THREADS
	r = self->ops->refresh(self->impl, force);
	Py_END_ALLOW_THREADS
	if (kt_py_call_end(self->owner, r, NULL) < 0)
		return NULL;
	return PyLong_FromLong(r);
}

static int Tuning_traverse(PyObject *op, visitproc visit, void *arg)
{
	Py_VISIT((PyObject *)((kt_py_tuning *)op)->owner);
	Py_VISIT(Py_TYPE(op));
	return 0;
}

static void Tuning_dealloc(PyObject *op)
{
	kt_py_tuning *self = (kt_py_tuning *)op;
	PyTypeObject *tp = Py_TYPE(op);
	freefunc tp_free = (freefunc)PyType_GetSlot(tp, Py_tp_free);

	PyObject_GC_UnTrack(op);
	/* Dropped without unapply: the loop stops, the journal keeps the originals. */
	if (self->impl) {
		void *impl = self->impl;

		self->impl = NULL;
		Py_BEGIN_ALLOW_THREADS
		self->ops->unapply(impl, false);
		Py_END_ALLOW_THREADS
	}
	Py_CLEAR(self->owner);
	tp_free(op);
	Py_DECREF(tp);
}

static PyMethodDef Tuning_methods[] = {
	{ "unapply", (PyCFunction)(void (*)(void))Tuning_unapply, METH_VARARGS | METH_KEYWORDS,
	  "unapply(restore=True): stop its loop, put the originals back (or leave them to the "
	  "journal), release the lock" },
	{ "stats", Tuning_stats, METH_NOARGS, "stats() -> dict of what it is doing" },
	{ "verify", Tuning_verify, METH_NOARGS,
	  "verify() -> [(name, wanted, current, ok)] of what it keeps up now" },
	{ "refresh", (PyCFunction)(void (*)(void))Tuning_refresh, METH_VARARGS | METH_KEYWORDS,
	  "refresh(force=False) -> 1 when it looked again at what it tunes (guests came or "
	  "went), 0 when nothing changed" },
	{ NULL, NULL, 0, NULL },
};

static PyType_Slot Tuning_slots[] = {
	{ Py_tp_doc, "An applied tuning and its background loop, made by Context.*_apply()." },
	{ Py_tp_new, Tuning_new },
	{ Py_tp_dealloc, Tuning_dealloc },
	{ Py_tp_traverse, Tuning_traverse },
	{ Py_tp_methods, Tuning_methods },
	{ 0, NULL },
};

static PyType_Spec Tuning_spec = {
	.name = "_kvmtune.Tuning",
	.basicsize = sizeof(kt_py_tuning),
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.slots = Tuning_slots,
};

/* The module */

static PyMethodDef module_methods[] = {
	KT_PY_KSM_FUNCTIONS
	KT_PY_HUGEPAGES_FUNCTIONS
	KT_PY_PIN_FUNCTIONS
	{ "event_loop_users", events_running, METH_NOARGS,
	  "event_loop_users() -> how many tunings share the libvirt event loop (0: not running)" },
	KT_PY_IOSCHED_FUNCTIONS
	{ NULL, NULL, 0, NULL },
};

static int add_type(PyObject *m, PyType_Spec *spec, const char *name, PyTypeObject **ret)
{
	*ret = (PyTypeObject *)PyType_FromModuleAndSpec(m, spec, NULL);
	if (!*ret)
		return -1;
	Py_INCREF(*ret);
	if (PyModule_AddObject(m, name, (PyObject *)*ret) < 0) {
		Py_DECREF(*ret);
		return -1;
	}
	return 0;
}

static int module_exec(PyObject *m)
{
	module_state *st = PyModule_GetState(m);

	if (add_type(m, &Context_spec, "Context", &st->context_type) < 0 ||
	    add_type(m, &Tuning_spec, "Tuning", &st->tuning_type) < 0)
		return -1;
	if (PyModule_AddStringConstant(m, "__version__", KT_VERSION) < 0 ||
	    PyModule_AddStringConstant(m, "STATE_DIR", "/" KT_STATE_DIR) < 0)
		return -1;
	return 0;
}

static int module_traverse(PyObject *m, visitproc visit, void *arg)
{
	module_state *st = PyModule_GetState(m);

	Py_VISIT(st->context_type);
	Py_VISIT(st->tuning_type);
	return 0;
}

static int module_clear(PyObject *m)
{
	module_state *st = PyModule_GetState(m);

	Py_CLEAR(st->context_type);
	Py_CLEAR(st->tuning_type);
	return 0;
}

static void module_free(void *m)
{
	module_clear((PyObject *)m);
}

static PyModuleDef_Slot module_slots[] = {
	{ Py_mod_exec, module_exec },
	{ 0, NULL },
};

static struct PyModuleDef module_def = {
	PyModuleDef_HEAD_INIT,
	.m_name = "_kvmtune",
	.m_doc = "kvmtune library bindings for the tuned plugins",
	.m_size = sizeof(module_state),
	.m_methods = module_methods,
	.m_slots = module_slots,
	.m_traverse = module_traverse,
	.m_clear = module_clear,
	.m_free = module_free,
};

PyMODINIT_FUNC PyInit__kvmtune(void);
PyMODINIT_FUNC PyInit__kvmtune(void)
{
	return PyModuleDef_Init(&module_def);
}
