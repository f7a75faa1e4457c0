/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* Pressure stall information of one resource (Documentation/accounting/psi.rst). */
struct kt_psi {
	double some_avg10;
	double some_avg60;
	bool have_full;
	double full_avg10;
};

/* Parses "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull ..."; -EINVAL without a some line. */
int kt_psi_parse(const char *text, struct kt_psi *ret);
