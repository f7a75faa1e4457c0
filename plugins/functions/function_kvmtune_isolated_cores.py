# SPDX-License-Identifier: LGPL-2.1-or-later
"""
tuned profile function kvmtune_isolated_cores: isolated_cores for a profile built on
cpu-partitioning, from the host's variables file or, when that sets none, a default
written there.

    [variables]
    include=/etc/tuned/kvm-latency-variables.conf
    isolated_cores=${f:kvmtune_isolated_cores:/etc/tuned/kvm-latency-variables.conf:${isolated_cores}}

The second argument is the value the file gave. A value is checked (a CPU list of online
CPUs that leaves some for the host); without one, every CPU but the first core of each
socket (with its SMT siblings) is isolated, written into the file and said once in
tuned's log. A bad value stops the profile from loading, with one line saying why (in
tuned's log and from tuned-adm). The
checks, the topology and the file are the library's (kt_isolated_cores_resolve).

tuned loads this module from tuned.profiles.functions and takes its first class derived
from base.Function, so no other such class may be imported here by name.
"""
from . import base
from tuned.plugins import kvmtune_tuned as kt
from tuned.profiles.exceptions import InvalidProfileException

NAME = "kvmtune_isolated_cores"


class kvmtune_isolated_cores(base.Function):
    def __init__(self):
        # variables file, then the value (absent or empty when unset)
        super(kvmtune_isolated_cores, self).__init__(NAME, 2, 1)

    def execute(self, args):
        if not super(kvmtune_isolated_cores, self).execute(args):
            return None
        value = args[1] if len(args) > 1 else None
        # tuned leaves a reference to a variable nobody defined as it was written.
        if value is not None and value.strip().startswith("${"):
            value = None
        try:
            return kt.make_context(NAME).isolated_cores(args[0], value)
        except (ValueError, OSError) as e:
            # tuned-adm gets the exception's text; tuned's log only "Failed to apply".
            message = "%s: %s" % (NAME, kt.reason(e))
            kt.log.error(message)
            raise InvalidProfileException(message)
