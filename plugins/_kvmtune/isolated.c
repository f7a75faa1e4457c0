// SPDX-License-Identifier: LGPL-2.1-or-later
/* isolated_cores for profiles built on cpu-partitioning: Context.isolated_cores(). */
#include <stdlib.h>

#include "isolated.h"
#include "macro.h"
#include "module.h"

PyObject *kt_py_isolated_cores(PyObject *op, PyObject *args)
{
	kt_py_context *self = (kt_py_context *)op;
	kt_cleanup_free char *list = NULL;
	const char *varfile, *value = NULL;
	int r;

	if (kt_py_check(self) < 0 ||
	    !PyArg_ParseTuple(args, "sz:isolated_cores", &varfile, &value))
		return NULL;
	kt_py_call_begin(self);
	Py_BEGIN_ALLOW_THREADS
	r = kt_isolated_cores_resolve(self->ctx, varfile, value, &list);
	Py_END_ALLOW_THREADS
	if (kt_py_call_end(self, r, varfile) < 0)
		return NULL;
	return PyUnicode_FromString(list);
}
