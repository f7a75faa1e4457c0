/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * _kvmtune: the kvmtune library for the tuned plugin shims, on the Python Limited API
 * (abi3) so that one binary serves every newer Python. module.c holds what every area
 * shares: the Context (a library context and where its messages go), the one -errno to
 * exception translation, and the Tuning type that keeps an applied tuning and its
 * background loop. Each area (ksm.c, ...) adds Context methods.
 */
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <stdbool.h>

#include "ctx.h"
#include "kvlist.h"
#include "virt-events.h"

/*
 * Where a context's messages go. Errors raised by the call running on the calling thread
 * are gathered and raised as its exception (one line in tuned's log); everything else,
 * and messages of the library's own threads, reach log(prio, text) at once.
 */
struct kt_py_sink {
	PyObject *log;
	pthread_mutex_t lock;
	bool in_call;
	pthread_t call_thread;
	char errors[2048];
};

typedef struct {
	PyObject_HEAD struct kt_ctx *ctx;
	struct kt_py_sink sink;
} kt_py_context;

/* What an area's applied tuning does when it is undone; impl is the library's object. */
struct kt_py_tuning_ops {
	/* Stops its loop, restores when asked, frees impl; called with the GIL released. */
	int (*unapply)(void *impl, bool restore);
	/* A dict of what it is doing, with the GIL held; NULL for no stats. */
	PyObject *(*stats)(void *impl);
	/* [(name, wanted, current, ok)] of what it keeps up now, with the GIL held; optional. */
	PyObject *(*verify)(void *impl);
	/* Looks again at what it tunes (guests come and go), GIL released; NULL for none. */
	int (*refresh)(void *impl, bool force);
};

/* Context methods return NULL with an exception set unless the context is initialised. */
int kt_py_check(kt_py_context *c);
void kt_py_call_begin(kt_py_context *c);
/*
 * Ends the call: a negative r becomes an exception carrying the gathered errors (ValueError
 * for invalid input, OSError with the errno otherwise, naming what); errors of a call that
 * succeeded are logged rather than dropped. Returns -1 when an exception is set.
 */
int kt_py_call_end(kt_py_context *c, int r, const char *what);
/* str (or anything str() accepts) -> UTF-8 without NULs; *ret_bytes owns *ret. */
int kt_py_utf8(PyObject *o, const char *what, PyObject **ret_bytes, const char **ret);
/* dict[str, object] -> kt_kvlist; None values (options left unset) are skipped. */
int kt_py_kvlist_from_dict(PyObject *dict, struct kt_kvlist *ret);

/*
 * What a verify call returns to the shim: a list of (name, wanted, current or None, ok).
 * A library callback adds one result at a time; with gil, add() takes the GIL itself (for
 * calls made with it released). finish() ends the call begun with kt_py_call_begin and
 * returns the list, or NULL with an exception set.
 */
struct kt_py_verified {
	PyObject *list;
	bool failed;
	bool gil;
};
int kt_py_verified_init(struct kt_py_verified *v, bool gil);
void kt_py_verified_add(struct kt_py_verified *v, const char *name, const char *want,
			const char *current, bool ok);
PyObject *kt_py_verified_finish(kt_py_context *c, struct kt_py_verified *v, int r,
				const char *what);
/* A journal or instance name as the library accepts it, else ValueError. */
int kt_py_check_name(const char *what, const char *name);
/* A Tuning owning impl; on failure impl is unapplied without restoring. */
PyObject *kt_py_tuning_new(kt_py_context *c, const struct kt_py_tuning_ops *ops, void *impl);

/*
 * fn(data) subscribed to the process's libvirt event loop for uri, which starts with its
 * first user (called with the GIL held); -EINVAL (logged) when it serves another URI.
 * The front-end unsubscribes *ret_sub, then releases *ret_events.
 */
int kt_py_events_subscribe(kt_py_context *c, const char *uri, kt_virt_event_fn fn, void *data,
			    struct kt_virt_events **ret_events, int *ret_sub);
/* Called without the GIL: the last user stops and joins the loop. Accepts NULL. */
void kt_py_events_release(struct kt_virt_events *e);

/* Each area's Context methods and module functions, gathered by module.c. */
PyObject *kt_py_ksm_apply(PyObject *self, PyObject *args);
PyObject *kt_py_ksm_verify(PyObject *self, PyObject *args);
PyObject *kt_py_ksm_status(PyObject *self, PyObject *args);
PyObject *kt_py_ksm_restore(PyObject *self, PyObject *args);
PyObject *kt_py_ksm_knobs(PyObject *module, PyObject *args);
PyObject *kt_py_ksm_controller_option_known(PyObject *module, PyObject *arg);

PyObject *kt_py_hugepages_apply(PyObject *self, PyObject *args);
PyObject *kt_py_hugepages_verify(PyObject *self, PyObject *args);
PyObject *kt_py_hugepages_status(PyObject *self, PyObject *args);
PyObject *kt_py_hugepages_restore(PyObject *self, PyObject *args);
PyObject *kt_py_hugepages_options(PyObject *module, PyObject *args);

#define KT_PY_KSM_METHODS                                                                       \
	{ "ksm_apply", kt_py_ksm_apply, METH_VARARGS,                                           \
	  "ksm_apply(journal, holder, options) -> Tuning: check every option, take the KSM "    \
	  "lock, journal the originals, apply, and start the controller of mode=dynamic|advisor" }, \
	{ "ksm_verify", kt_py_ksm_verify, METH_VARARGS,                                         \
	  "ksm_verify(options) -> [(knob, wanted, current or None, ok)]" },                     \
	{ "ksm_status", kt_py_ksm_status, METH_NOARGS, "ksm_status() -> dict" },                \
	{ "ksm_restore", kt_py_ksm_restore, METH_VARARGS,                                       \
	  "ksm_restore(journal): put back what the journal holds and remove it" },

#define KT_PY_KSM_FUNCTIONS                                                                     \
	{ "ksm_knobs", kt_py_ksm_knobs, METH_NOARGS,                                            \
	  "ksm_knobs() -> names of every KSM knob kvmtune knows" },                             \
	{ "ksm_controller_option_known", kt_py_ksm_controller_option_known, METH_O,             \
	  "ksm_controller_option_known(name) -> whether name is a controller option" },

#define KT_PY_HUGEPAGES_METHODS                                                                 \
	{ "hugepages_apply", kt_py_hugepages_apply, METH_VARARGS,                               \
	  "hugepages_apply(journal, holder, options) -> Tuning: check every option, plan, take " \
	  "the page size's lock, journal every node's pool and allocate node by node" },        \
	{ "hugepages_verify", kt_py_hugepages_verify, METH_VARARGS,                             \
	  "hugepages_verify(options) -> [(node.size, wanted, current, ok)]" },                  \
	{ "hugepages_status", kt_py_hugepages_status, METH_VARARGS,                             \
	  "hugepages_status(libvirt_uri='none') -> [dict per page size]" },                     \
	{ "hugepages_restore", kt_py_hugepages_restore, METH_VARARGS,                           \
	  "hugepages_restore(journal): put back the pools the journal holds and remove it" },

#define KT_PY_HUGEPAGES_FUNCTIONS                                                               \
	{ "hugepages_options", kt_py_hugepages_options, METH_NOARGS,                            \
	  "hugepages_options() -> names of every kvm_hugepages option" },

PyObject *kt_py_pin_apply(PyObject *self, PyObject *args);
PyObject *kt_py_pin_restore(PyObject *self, PyObject *args);
PyObject *kt_py_pin_plan(PyObject *self, PyObject *args);
PyObject *kt_py_pin_options(PyObject *module, PyObject *args);

#define KT_PY_PIN_METHODS                                                                       \
	{ "pin_apply", kt_py_pin_apply, METH_VARARGS,                                           \
	  "pin_apply(journal, holder, options) -> Tuning: check every option, take the pin "    \
	  "lock, and pin every running domain and each one that starts, on the shared libvirt " \
	  "event loop, journalling the originals" },                                            \
	{ "pin_restore", kt_py_pin_restore, METH_VARARGS,                                       \
	  "pin_restore(journal, missing_ok=False): put back the pinning and QoS the journal " \
	  "holds, remove it" },  \
	{ "pin_plan", kt_py_pin_plan, METH_VARARGS,                                             \
	  "pin_plan(options) -> [dict]: where every running domain would go" },

#define KT_PY_PIN_FUNCTIONS                                                                     \
	{ "pin_options", kt_py_pin_options, METH_NOARGS,                                        \
	  "pin_options() -> names of every kvm_pin option" },

PyObject *kt_py_iosched_apply(PyObject *self, PyObject *args);
PyObject *kt_py_iosched_verify(PyObject *self, PyObject *args);
PyObject *kt_py_iosched_restore(PyObject *self, PyObject *args);
PyObject *kt_py_iosched_options(PyObject *module, PyObject *args);

#define KT_PY_IOSCHED_METHODS                                                                   \
	{ "iosched_apply", kt_py_iosched_apply, METH_VARARGS,                                   \
	  "iosched_apply(journal, holder, options) -> Tuning: resolve the guests' disks to the "  \
	  "devices beneath them, check every option, take the iosched lock, journal the "        \
	  "originals and set the schedulers and queue knobs" },                                 \
	{ "iosched_verify", kt_py_iosched_verify, METH_VARARGS,                                 \
	  "iosched_verify(options) -> [(device.knob, wanted, current or None, ok)]" },           \
	{ "iosched_restore", kt_py_iosched_restore, METH_VARARGS,                               \
	  "iosched_restore(journal): put back what the journal holds and remove it" },

#define KT_PY_IOSCHED_FUNCTIONS                                                                 \
	{ "iosched_options", kt_py_iosched_options, METH_NOARGS,                                \
	  "iosched_options() -> names of every kvm_iosched option" },

PyObject *kt_py_isolated_cores(PyObject *self, PyObject *args);

#define KT_PY_ISOLATED_METHODS                                                                  \
	{ "isolated_cores", kt_py_isolated_cores, METH_VARARGS,                                 \
	  "isolated_cores(variables_file, value or None) -> CPU list: value checked (online "   \
	  "CPUs, some left for the host), or, when None or blank, the default (all but the "    \
	  "first core of each socket) written into variables_file and logged" },
