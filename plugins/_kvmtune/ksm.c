// SPDX-License-Identifier: LGPL-2.1-or-later
/* KSM: Context.ksm_apply/verify/status/restore for plugin_kvm_ksm. */
#include <string.h>

#include "journal.h"
#include "ksm-status.h"
#include "ksm-tuning.h"
#include "ksmctl.h"
#include "module.h"

static int ksm_unapply(void *impl, bool restore)
{
	return kt_ksm_tuning_unapply(impl, restore);
}

static PyObject *ksm_stats(void *impl)
{
	struct kt_ksmctl_runner *ctl = kt_ksm_tuning_controller(impl);
	static const char *const modes[] = { "static", "dynamic", "advisor" };
	enum kt_ksmctl_mode mode = kt_ksm_tuning_mode(impl);
	unsigned cycles = 0;
	double cpu = 0;

	if (!ctl)
		return Py_BuildValue("{s:s}", "mode", modes[mode]);
	kt_ksmctl_runner_cpu(ctl, &cpu, &cycles);
	return Py_BuildValue("{s:s,s:s,s:I,s:d}", "mode", modes[mode], "phase",
			     kt_ksmctl_phase_name(kt_ksmctl_runner_phase(ctl)), "cycles", cycles,
			     "cpu_seconds", cpu);
}

static const struct kt_py_tuning_ops ksm_ops = {
	.unapply = ksm_unapply,
	.stats = ksm_stats,
};

PyObject *kt_py_ksm_apply(PyObject *op, PyObject *args)
{
	kt_py_context *self = (kt_py_context *)op;
	struct kt_kvlist kv = KT_KVLIST_INIT;
	struct kt_ksm_tuning *t = NULL;
	struct kt_ksmctl_runner *ctl;
	const char *journal, *holder;
	PyObject *opts;
	int r;

	if (kt_py_check(self) < 0 ||
	    !PyArg_ParseTuple(args, "ssO!:ksm_apply", &journal, &holder, &PyDict_Type, &opts) ||
	    kt_py_check_name("journal name", journal) < 0)
		return NULL;
	if (kt_py_kvlist_from_dict(opts, &kv) < 0) {
		kt_kvlist_clear(&kv);
		return NULL;
	}
	kt_py_call_begin(self);
	r = kt_ksm_tuning_apply(self->ctx, journal, holder, &kv, KT_KSMCTL_STATIC, &t);
	kt_kvlist_clear(&kv);
	ctl = r >= 0 ? kt_ksm_tuning_controller(t) : NULL;
	/* Inside tuned the controller runs on a thread of its own until unapply. */
	if (ctl) {
		/* A debug line per cycle would take the GIL every few seconds for nothing. */
		kt_ctx_set_log_priority(self->ctx, KT_LOG_INFO);
		r = kt_ksmctl_runner_start(ctl);
		if (r < 0) {
			Py_BEGIN_ALLOW_THREADS
			kt_ksm_tuning_unapply(t, true);
			Py_END_ALLOW_THREADS
		}
	}
	if (kt_py_call_end(self, r, KT_KSM_DIR) < 0)
		return NULL;
	return kt_py_tuning_new(self, &ksm_ops, t);
}

static void verify_cb(void *data, enum kt_ksm_knob knob, const char *want, const char *current,
		      bool ok)
{
	kt_py_verified_add(data, kt_ksm_knob_name(knob), want, current, ok);
}

PyObject *kt_py_ksm_verify(PyObject *op, PyObject *args)
{
	kt_py_context *self = (kt_py_context *)op;
	struct kt_py_verified acc;
	struct kt_kvlist kv = KT_KVLIST_INIT;
	PyObject *opts;
	int r;

	if (kt_py_check(self) < 0 || !PyArg_ParseTuple(args, "O!:ksm_verify", &PyDict_Type, &opts))
		return NULL;
	if (kt_py_kvlist_from_dict(opts, &kv) < 0 || kt_py_verified_init(&acc, false) < 0) {
		kt_kvlist_clear(&kv);
		return NULL;
	}
	kt_py_call_begin(self);
	r = kt_ksm_verify_options(self->ctx, &kv, verify_cb, &acc);
	kt_kvlist_clear(&kv);
	return kt_py_verified_finish(self, &acc, r, KT_KSM_DIR);
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

PyObject *kt_py_ksm_status(PyObject *op, PyObject *Py_UNUSED(args))
{
	kt_py_context *self = (kt_py_context *)op;
	struct kt_ksm_status st;
	PyObject *d = NULL, *knobs, *counters;
	int r;

	if (kt_py_check(self) < 0)
		return NULL;
	kt_py_call_begin(self);
	r = kt_ksm_status_read(self->ctx, &st);
	if (kt_py_call_end(self, r, KT_KSM_DIR) < 0)
		return NULL;
	knobs = dict_from_values(&st.knobs);
	counters = PyDict_New();
	if (!knobs || !counters)
		goto out;
	for (int c = 0; c < KT_KSM_COUNTER_MAX; c++) {
		PyObject *v;

		if (!st.have[c])
			continue;
		v = PyLong_FromLongLong(st.counter[c]);
		if (!v || PyDict_SetItemString(counters, kt_ksm_counter_name(c), v) < 0) {
			Py_XDECREF(v);
			goto out;
		}
		Py_DECREF(v);
	}
	d = Py_BuildValue("{s:O,s:O,s:O,s:K,s:K,s:d}", "available", st.available ? Py_True : Py_False,
			  "knobs", knobs, "counters", counters, "page_size",
			  (unsigned long long)st.page_size, "saved_bytes",
			  (unsigned long long)st.saved_bytes, "ksmd_cpu_seconds", st.ksmd_cpu_seconds);
out:
	Py_XDECREF(knobs);
	Py_XDECREF(counters);
	return d;
}

PyObject *kt_py_ksm_restore(PyObject *op, PyObject *args)
{
	kt_py_context *self = (kt_py_context *)op;
	const char *journal;
	int r;

	if (kt_py_check(self) < 0 || !PyArg_ParseTuple(args, "s:ksm_restore", &journal) ||
	    kt_py_check_name("journal name", journal) < 0)
		return NULL;
	kt_py_call_begin(self);
	r = kt_ksm_restore_journal(self->ctx, journal, "tuned");
	if (kt_py_call_end(self, r, KT_STATE_DIR) < 0)
		return NULL;
	Py_RETURN_NONE;
}

PyObject *kt_py_ksm_knobs(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(args))
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

PyObject *kt_py_ksm_controller_option_known(PyObject *Py_UNUSED(module), PyObject *arg)
{
	PyObject *b = NULL;
	const char *name;
	bool known;

	if (kt_py_utf8(arg, "an option name", &b, &name) < 0)
		return NULL;
	known = kt_ksmctl_option_known(name);
	Py_DECREF(b);
	return PyBool_FromLong(known);
}
