// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * _kvmtune: the kvmtune library for the tuned plugin shims. Built against the Limited API
 * (abi3) so that one binary keeps working across Python upgrades.
 *
 * Messages of the library reach the Python callable given as log=(prio, text); error
 * messages are gathered and raised instead, so that a refused apply is one log line.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#include "ctx.h"
#include "io.h"
#include "journal.h"
#include "ksm-status.h"
#include "ksm.h"
#include "ksmctl-run.h"

typedef struct {
	PyTypeObject *context_type;
	PyTypeObject *controller_type;
} module_state;

/* A running controller: its own library context, whose log callback may run on its thread. */
typedef struct {
	PyObject_HEAD struct kt_ctx *ctx;
	struct kt_ksmctl_runner *runner;
	PyObject *log;
} ControllerObject;

typedef struct {
	PyObject_HEAD struct kt_ctx *ctx;
	PyObject *log;
} ContextObject;

/* Per call: where library messages go while the GIL is held by the calling thread. */
struct call_log {
	PyObject *log;
	char errors[2048];
	bool failed_log;
};

static void call_log_fn(void *data, enum kt_log_prio prio, const char *msg)
{
	struct call_log *cl = data;
	PyObject *res;

	if (prio == KT_LOG_ERR) {
		size_t len = strlen(cl->errors);

		snprintf(cl->errors + len, sizeof(cl->errors) - len, "%s%s", len ? "; " : "", msg);
		return;
	}
	if (!cl->log || cl->log == Py_None || cl->failed_log)
		return;
	res = PyObject_CallFunction(cl->log, "is", (int)prio, msg);
	if (!res) {
		/* Keep the first exception of the callback; stop calling it. */
		cl->failed_log = true;
		return;
	}
	Py_DECREF(res);
}

static void call_begin(ContextObject *self, struct call_log *cl)
{
	memset(cl, 0, sizeof(*cl));
	cl->log = self->log;
	kt_ctx_set_log_fn(self->ctx, call_log_fn, cl);
}

/* Turns a library result into a Python exception; returns -1 when one is set. */
static int call_end(ContextObject *self, struct call_log *cl, int r, const char *what)
{
	kt_ctx_set_log_fn(self->ctx, NULL, NULL);
	if (cl->failed_log)
		return -1;
	if (r >= 0)
		return 0;
	if (r == -EINVAL || r == -ERANGE || r == -EBADMSG) {
		PyErr_SetString(PyExc_ValueError, cl->errors[0] ? cl->errors : strerror(-r));
		return -1;
	}
	errno = -r;
	if (cl->errors[0])
		PyErr_Format(PyExc_OSError, "%s", cl->errors);
	else
		PyErr_SetFromErrnoWithFilename(PyExc_OSError, what);
	return -1;
}

static int utf8(PyObject *o, const char *what, PyObject **ret_bytes, const char **ret)
{
	PyObject *s = o;

	if (!PyUnicode_Check(o)) {
		s = PyObject_Str(o);
		if (!s)
			return -1;
	} else {
		Py_INCREF(s);
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

/* dict[str, object] -> kt_kvlist; None values (options left unset) are skipped. */
static int kvlist_from_dict(PyObject *dict, struct kt_kvlist *ret)
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
		if (utf8(key, "an option name", &kb, &k) < 0)
			return -1;
		if (utf8(value, "an option value", &vb, &v) < 0) {
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

static PyObject *dict_from_values(const struct kt_ksm_values *vals)
{
	PyObject *d = PyDict_New();

	if (!d)
		return NULL;
	for (int k = 0; k < KT_KSM_KNOB_MAX; k++) {
		PyObject *v;

		if (!vals->set[k])
			continue;
		v = PyUnicode_FromString(vals->value[k]);
		if (!v || PyDict_SetItemString(d, kt_ksm_knob_name(k), v) < 0) {
			Py_XDECREF(v);
			Py_DECREF(d);
			return NULL;
		}
		Py_DECREF(v);
	}
	return d;
}

static int values_from_dict(ContextObject *self, PyObject *dict, struct kt_ksm_values *ret)
{
	struct kt_kvlist kv = KT_KVLIST_INIT;
	struct call_log cl;
	int r;

	if (kvlist_from_dict(dict, &kv) < 0) {
		kt_kvlist_clear(&kv);
		return -1;
	}
	call_begin(self, &cl);
	r = kt_ksm_values_from_options(self->ctx, &kv, ret);
	kt_kvlist_clear(&kv);
	return call_end(self, &cl, r, NULL);
}

static int Context_init(PyObject *op, PyObject *args, PyObject *kwds)
{
	ContextObject *self = (ContextObject *)op;
	static char *kwlist[] = { "root", "log", NULL };
	const char *root = "/";
	PyObject *log = Py_None;
	struct kt_ctx *ctx;
	int r;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "|sO", kwlist, &root, &log))
		return -1;
	if (log != Py_None && !PyCallable_Check(log)) {
		PyErr_SetString(PyExc_TypeError, "log must be callable or None");
		return -1;
	}
	r = kt_ctx_new(root, &ctx);
	if (r < 0) {
		errno = -r;
		PyErr_SetFromErrnoWithFilename(PyExc_OSError, root);
		return -1;
	}
	kt_ctx_unref(self->ctx);
	self->ctx = ctx;
	Py_INCREF(log);
	Py_XDECREF(self->log);
	self->log = log;
	return 0;
}

static int Context_traverse(PyObject *op, visitproc visit, void *arg)
{
	ContextObject *self = (ContextObject *)op;

	Py_VISIT(self->log);
	Py_VISIT(Py_TYPE(op));
	return 0;
}

static int Context_clear(PyObject *op)
{
	Py_CLEAR(((ContextObject *)op)->log);
	return 0;
}

static void Context_dealloc(PyObject *op)
{
	ContextObject *self = (ContextObject *)op;
	PyTypeObject *tp = Py_TYPE(op);
	freefunc tp_free = (freefunc)PyType_GetSlot(tp, Py_tp_free);

	PyObject_GC_UnTrack(op);
	Context_clear(op);
	self->ctx = kt_ctx_unref(self->ctx);
	tp_free(op);
	Py_DECREF(tp);
}

static int check_ctx(ContextObject *self)
{
	if (!self->ctx) {
		PyErr_SetString(PyExc_RuntimeError, "Context.__init__ was not called");
		return -1;
	}
	return 0;
}

static int check_name(const char *name)
{
	if (kt_name_is_safe(name))
		return 0;
	PyErr_Format(PyExc_ValueError,
		     "journal name '%s' is invalid: expected 1..64 of [A-Za-z0-9_.-], not starting with '.'",
		     name);
	return -1;
}

static PyObject *Context_ksm_tune(PyObject *op, PyObject *args)
{
	ContextObject *self = (ContextObject *)op;
	struct kt_ksm_values want, orig;
	struct call_log cl;
	const char *name;
	PyObject *opts;
	int r;

	if (check_ctx(self) < 0 || !PyArg_ParseTuple(args, "sO:ksm_tune", &name, &opts) ||
	    check_name(name) < 0)
		return NULL;
	if (values_from_dict(self, opts, &want) < 0)
		return NULL;
	call_begin(self, &cl);
	r = kt_ksm_tune(self->ctx, name, &want, &orig);
	if (call_end(self, &cl, r, KT_KSM_DIR) < 0)
		return NULL;
	return dict_from_values(&orig);
}

static PyObject *Context_ksm_untune(PyObject *op, PyObject *args)
{
	ContextObject *self = (ContextObject *)op;
	struct kt_ksm_values orig;
	struct call_log cl;
	PyObject *saved = Py_None;
	const char *name;
	int r;

	if (check_ctx(self) < 0 || !PyArg_ParseTuple(args, "s|O:ksm_untune", &name, &saved) ||
	    check_name(name) < 0)
		return NULL;
	memset(&orig, 0, sizeof(orig));
	if (saved != Py_None && values_from_dict(self, saved, &orig) < 0)
		return NULL;
	call_begin(self, &cl);
	r = kt_ksm_untune(self->ctx, name, &orig);
	if (call_end(self, &cl, r, KT_KSM_DIR) < 0)
		return NULL;
	Py_RETURN_NONE;
}

struct verify_acc {
	PyObject *list;
	bool failed;
};

static void verify_cb(void *data, enum kt_ksm_knob knob, const char *want, const char *current,
		      bool ok)
{
	struct verify_acc *acc = data;
	PyObject *t;

	if (acc->failed)
		return;
	t = Py_BuildValue("(sszO)", kt_ksm_knob_name(knob), want, current, ok ? Py_True : Py_False);
	if (!t || PyList_Append(acc->list, t) < 0)
		acc->failed = true;
	Py_XDECREF(t);
}

static PyObject *Context_ksm_verify(PyObject *op, PyObject *args)
{
	ContextObject *self = (ContextObject *)op;
	struct verify_acc acc = { NULL, false };
	struct kt_ksm_values want;
	struct call_log cl;
	PyObject *opts;
	int r;

	if (check_ctx(self) < 0 || !PyArg_ParseTuple(args, "O:ksm_verify", &opts))
		return NULL;
	if (values_from_dict(self, opts, &want) < 0)
		return NULL;
	acc.list = PyList_New(0);
	if (!acc.list)
		return NULL;
	call_begin(self, &cl);
	r = kt_ksm_verify(self->ctx, &want, verify_cb, &acc);
	if (call_end(self, &cl, r, KT_KSM_DIR) < 0 || acc.failed) {
		Py_DECREF(acc.list);
		return NULL;
	}
	return acc.list;
}

static PyObject *Context_ksm_status(PyObject *op, PyObject *Py_UNUSED(args))
{
	ContextObject *self = (ContextObject *)op;
	struct kt_ksm_status st;
	PyObject *d, *knobs, *counters;
	int r;

	if (check_ctx(self) < 0)
		return NULL;
	r = kt_ksm_status_read(self->ctx, &st);
	if (r < 0) {
		errno = -r;
		return PyErr_SetFromErrnoWithFilename(PyExc_OSError, KT_KSM_DIR);
	}
	knobs = dict_from_values(&st.knobs);
	counters = PyDict_New();
	if (!knobs || !counters)
		goto fail;
	for (int c = 0; c < KT_KSM_COUNTER_MAX; c++) {
		PyObject *v;

		if (!st.have[c])
			continue;
		v = PyLong_FromLongLong(st.counter[c]);
		if (!v || PyDict_SetItemString(counters, kt_ksm_counter_name(c), v) < 0) {
			Py_XDECREF(v);
			goto fail;
		}
		Py_DECREF(v);
	}
	d = Py_BuildValue("{s:O,s:O,s:O,s:K,s:K,s:d}", "available", st.available ? Py_True : Py_False,
			  "knobs", knobs, "counters", counters, "page_size",
			  (unsigned long long)st.page_size, "saved_bytes",
			  (unsigned long long)st.saved_bytes, "ksmd_cpu_seconds", st.ksmd_cpu_seconds);
	Py_DECREF(knobs);
	Py_DECREF(counters);
	return d;
fail:
	Py_XDECREF(knobs);
	Py_XDECREF(counters);
	return NULL;
}

static void thread_log_fn(void *data, enum kt_log_prio prio, const char *msg)
{
	ControllerObject *self = data;
	PyGILState_STATE gil;
	PyObject *res;

	if (!self->log || self->log == Py_None)
		return;
	gil = PyGILState_Ensure();
	res = PyObject_CallFunction(self->log, "is", (int)prio, msg);
	if (res)
		Py_DECREF(res);
	else
		PyErr_Clear();
	PyGILState_Release(gil);
}

static PyObject *Context_ksm_controller(PyObject *op, PyObject *args, PyObject *kwds)
{
	ContextObject *self = (ContextObject *)op;
	static char *kwlist[] = { "options", NULL };
	struct kt_kvlist kv = KT_KVLIST_INIT;
	struct kt_ksmctl_config cfg;
	struct call_log cl;
	ControllerObject *ctl;
	PyObject *opts, *module;
	module_state *st;
	int r = 0;

	if (check_ctx(self) < 0 ||
	    !PyArg_ParseTupleAndKeywords(args, kwds, "O:ksm_controller", kwlist, &opts))
		return NULL;
	if (kvlist_from_dict(opts, &kv) < 0) {
		kt_kvlist_clear(&kv);
		return NULL;
	}
	kt_ksmctl_config_default(&cfg);
	call_begin(self, &cl);
	for (size_t i = 0; i < kv.n; i++) {
		int e = kt_ksmctl_config_set(self->ctx, &cfg, kv.items[i].key, kv.items[i].value);

		if (e < 0 && r == 0)
			r = e;
	}
	kt_kvlist_clear(&kv);
	if (call_end(self, &cl, r, NULL) < 0)
		return NULL;
	module = PyType_GetModule(Py_TYPE(op));
	if (!module)
		return NULL;
	st = PyModule_GetState(module);
	ctl = (ControllerObject *)PyType_GenericAlloc(st->controller_type, 0);
	if (!ctl)
		return NULL;
	r = kt_ctx_new(kt_ctx_root(self->ctx), &ctl->ctx);
	if (r == 0) {
		kt_ctx_set_log_fn(ctl->ctx, thread_log_fn, ctl);
		/* A debug line per cycle would take the GIL every few seconds for nothing. */
		kt_ctx_set_log_priority(ctl->ctx, KT_LOG_INFO);
		r = kt_ksmctl_runner_new(ctl->ctx, &cfg, &ctl->runner);
	}
	if (r < 0) {
		Py_DECREF(ctl);
		errno = -r;
		return PyErr_SetFromErrno(PyExc_OSError);
	}
	Py_INCREF(self->log);
	ctl->log = self->log;
	return (PyObject *)ctl;
}

static PyObject *Controller_start(PyObject *op, PyObject *Py_UNUSED(args))
{
	ControllerObject *self = (ControllerObject *)op;
	int r = kt_ksmctl_runner_start(self->runner);

	if (r < 0 && r != -EALREADY) {
		errno = -r;
		return PyErr_SetFromErrno(PyExc_OSError);
	}
	Py_RETURN_NONE;
}

static PyObject *Controller_stop(PyObject *op, PyObject *Py_UNUSED(args))
{
	ControllerObject *self = (ControllerObject *)op;

	/* The thread may be waiting for the GIL to log: let it have it while we join. */
	Py_BEGIN_ALLOW_THREADS
	kt_ksmctl_runner_stop(self->runner);
	Py_END_ALLOW_THREADS
	Py_RETURN_NONE;
}

static PyObject *Controller_step(PyObject *op, PyObject *Py_UNUSED(args))
{
	ControllerObject *self = (ControllerObject *)op;
	struct kt_ksmctl_decision d;
	int r;

	r = kt_ksmctl_runner_step(self->runner, &d);
	if (r < 0) {
		errno = -r;
		return PyErr_SetFromErrno(PyExc_OSError);
	}
	return Py_BuildValue("{s:s,s:O,s:i,s:I,s:I,s:s}", "phase", kt_ksmctl_phase_name(d.phase),
			     "write", d.write ? Py_True : Py_False, "run", d.run, "pages_to_scan",
			     d.pages_to_scan, "sleep_millisecs", d.sleep_ms, "reason", d.reason);
}

static PyObject *Controller_stats(PyObject *op, PyObject *Py_UNUSED(args))
{
	ControllerObject *self = (ControllerObject *)op;
	unsigned cycles;
	double cpu;

	kt_ksmctl_runner_cpu(self->runner, &cpu, &cycles);
	return Py_BuildValue("{s:s,s:I,s:d}", "phase",
			     kt_ksmctl_phase_name(kt_ksmctl_runner_phase(self->runner)), "cycles",
			     cycles, "cpu_seconds", cpu);
}

static int Controller_traverse(PyObject *op, visitproc visit, void *arg)
{
	Py_VISIT(((ControllerObject *)op)->log);
	Py_VISIT(Py_TYPE(op));
	return 0;
}

static void Controller_dealloc(PyObject *op)
{
	ControllerObject *self = (ControllerObject *)op;
	PyTypeObject *tp = Py_TYPE(op);
	freefunc tp_free = (freefunc)PyType_GetSlot(tp, Py_tp_free);

	PyObject_GC_UnTrack(op);
	if (self->runner) {
		Py_BEGIN_ALLOW_THREADS
		kt_ksmctl_runner_stop(self->runner);
		Py_END_ALLOW_THREADS
		self->runner = kt_ksmctl_runner_free(self->runner);
	}
	self->ctx = kt_ctx_unref(self->ctx);
	Py_CLEAR(self->log);
	tp_free(op);
	Py_DECREF(tp);
}

static PyMethodDef Controller_methods[] = {
	{ "start", Controller_start, METH_NOARGS, "start(): run the controller on its own thread" },
	{ "stop", Controller_stop, METH_NOARGS, "stop(): stop the thread and wait for it" },
	{ "step", Controller_step, METH_NOARGS, "step() -> decision: one cycle, on this thread" },
	{ "stats", Controller_stats, METH_NOARGS, "stats() -> {phase, cycles, cpu_seconds}" },
	{ NULL, NULL, 0, NULL },
};

static PyType_Slot Controller_slots[] = {
	{ Py_tp_doc, "A dynamic KSM controller, made by Context.ksm_controller()." },
	{ Py_tp_dealloc, Controller_dealloc },
	{ Py_tp_traverse, Controller_traverse },
	{ Py_tp_methods, Controller_methods },
	{ 0, NULL },
};

static PyType_Spec Controller_spec = {
	.name = "_kvmtune.Controller",
	.basicsize = sizeof(ControllerObject),
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.slots = Controller_slots,
};

static PyObject *Context_ksm_add_current(PyObject *op, PyObject *args)
{
	ContextObject *self = (ContextObject *)op;
	PyObject *opts, *names, *iter, *item;

	if (check_ctx(self) < 0 || !PyArg_ParseTuple(args, "OO:ksm_add_current", &opts, &names))
		return NULL;
	if (!PyDict_Check(opts)) {
		PyErr_SetString(PyExc_TypeError, "options must be a dict");
		return NULL;
	}
	iter = PyObject_GetIter(names);
	if (!iter)
		return NULL;
	while ((item = PyIter_Next(iter))) {
		PyObject *b = NULL, *v;
		const char *name;
		char value[KT_KSM_VALUE_MAX];
		enum kt_ksm_knob k;

		if (utf8(item, "a knob name", &b, &name) < 0) {
			Py_DECREF(item);
			break;
		}
		k = kt_ksm_knob_from_name(name);
		if (k >= 0 && PyDict_GetItem(opts, item) == NULL && kt_ksm_knob_supported(self->ctx, k) &&
		    kt_ksm_read(self->ctx, k, value) == 0) {
			v = PyUnicode_FromString(value);
			if (!v || PyDict_SetItem(opts, item, v) < 0) {
				Py_XDECREF(v);
				Py_DECREF(b);
				Py_DECREF(item);
				break;
			}
			Py_DECREF(v);
		}
		Py_DECREF(b);
		Py_DECREF(item);
	}
	Py_DECREF(iter);
	if (PyErr_Occurred())
		return NULL;
	Py_RETURN_NONE;
}

static PyMethodDef Context_methods[] = {
	{ "ksm_tune", Context_ksm_tune, METH_VARARGS,
	  "ksm_tune(journal, options) -> originals: validate, journal the originals, apply." },
	{ "ksm_untune", Context_ksm_untune, METH_VARARGS,
	  "ksm_untune(journal, originals=None): restore the journal's values (else originals)." },
	{ "ksm_verify", Context_ksm_verify, METH_VARARGS,
	  "ksm_verify(options) -> [(knob, wanted, current or None, ok)]" },
	{ "ksm_status", Context_ksm_status, METH_NOARGS, "ksm_status() -> dict" },
	{ "ksm_controller", (PyCFunction)(void (*)(void))Context_ksm_controller,
	  METH_VARARGS | METH_KEYWORDS,
	  "ksm_controller(options) -> Controller: validate options, prepare, not started" },
	{ "ksm_add_current", Context_ksm_add_current, METH_VARARGS,
	  "ksm_add_current(options, names): add each knob's current value unless options has it" },
	{ NULL, NULL, 0, NULL },
};

static PyType_Slot Context_slots[] = {
	{ Py_tp_doc, "Context(root='/', log=None): kvmtune library context rooted at root." },
	{ Py_tp_init, Context_init },
	{ Py_tp_dealloc, Context_dealloc },
	{ Py_tp_traverse, Context_traverse },
	{ Py_tp_clear, Context_clear },
	{ Py_tp_methods, Context_methods },
	{ 0, NULL },
};

static PyType_Spec Context_spec = {
	.name = "_kvmtune.Context",
	.basicsize = sizeof(ContextObject),
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.slots = Context_slots,
};

static PyObject *ksm_knobs(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(args))
{
	PyObject *t = PyTuple_New(KT_KSM_KNOB_MAX);

	if (!t)
		return NULL;
	for (int k = 0; k < KT_KSM_KNOB_MAX; k++) {
		PyObject *s = PyUnicode_FromString(kt_ksm_knob_name(k));

		if (!s) {
			Py_DECREF(t);
			return NULL;
		}
		PyTuple_SetItem(t, k, s);
	}
	return t;
}

static PyObject *ksm_controller_option_known(PyObject *Py_UNUSED(module), PyObject *arg)
{
	PyObject *b = NULL;
	const char *name;
	bool known;

	if (utf8(arg, "an option name", &b, &name) < 0)
		return NULL;
	known = kt_ksmctl_option_known(name);
	Py_DECREF(b);
	return PyBool_FromLong(known);
}

static PyMethodDef module_methods[] = {
	{ "ksm_knobs", ksm_knobs, METH_NOARGS, "ksm_knobs() -> names of every KSM knob kvmtune knows" },
	{ "ksm_controller_option_known", ksm_controller_option_known, METH_O,
	  "ksm_controller_option_known(name) -> whether name is a controller option" },
	{ NULL, NULL, 0, NULL },
};

static int module_exec(PyObject *m)
{
	module_state *st = PyModule_GetState(m);

	st->context_type = (PyTypeObject *)PyType_FromModuleAndSpec(m, &Context_spec, NULL);
	if (!st->context_type)
		return -1;
	if (PyModule_AddObject(m, "Context", (PyObject *)st->context_type) < 0)
		return -1;
	Py_INCREF(st->context_type);
	st->controller_type = (PyTypeObject *)PyType_FromModuleAndSpec(m, &Controller_spec, NULL);
	if (!st->controller_type)
		return -1;
	if (PyModule_AddObject(m, "Controller", (PyObject *)st->controller_type) < 0)
		return -1;
	Py_INCREF(st->controller_type);
	if (PyModule_AddStringConstant(m, "__version__", KT_VERSION) < 0 ||
	    PyModule_AddStringConstant(m, "STATE_DIR", "/" KT_STATE_DIR) < 0)
		return -1;
	return 0;
}

static int module_traverse(PyObject *m, visitproc visit, void *arg)
{
	module_state *st = PyModule_GetState(m);

	Py_VISIT(st->context_type);
	Py_VISIT(st->controller_type);
	return 0;
}

static int module_clear(PyObject *m)
{
	module_state *st = PyModule_GetState(m);

	Py_CLEAR(st->context_type);
	Py_CLEAR(st->controller_type);
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
