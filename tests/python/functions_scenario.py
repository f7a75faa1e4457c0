# SPDX-License-Identifier: LGPL-2.1-or-later
"""Expands kvm-latency's isolated_cores and a [bootloader] uname_regex the way tuned's
profile loader does (tuned.profiles.variables), loading kvmtune's profile functions
through that tuned's own function repository, and prints what it saw as JSON. Run by
test_profile_functions.py in a fresh interpreter per tuned package, with KVMTUNE_ROOT at a
fixture tree whose etc/tuned holds the variables file."""
import json
import logging
import os
import sys

ROOT = os.environ["KVMTUNE_ROOT"]
VARFILE = "/etc/tuned/kvm-latency-variables.conf"
ISOLATED = "${f:kvmtune_isolated_cores:%s:${isolated_cores}}" % VARFILE


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        if record.levelno >= logging.WARNING:
            self.records.append((record.levelname, record.getMessage()))


def main():
    import tuned.consts as consts
    from tuned.profiles.exceptions import InvalidProfileException
    from tuned.profiles.variables import Variables

    capture = Capture()
    # tuned.logs.get() names a logger after its caller's module: every one is below "tuned".
    logging.getLogger("tuned").addHandler(capture)
    out = {}
    # As the loader merges kvm-latency into cpu-partitioning: the include first, then
    # isolated_cores in the place of cpu-partitioning's own line.
    cfg = {"include": os.path.join(ROOT, VARFILE.lstrip("/")), "isolated_cores": ISOLATED}
    variables = Variables()
    try:
        variables.add_from_cfg(cfg)
        out["isolated_cores"] = variables.expand("${isolated_cores}")
    except InvalidProfileException as e:
        out["refused"] = str(e)
    if sys.argv[1] == "bootloader":
        consts.GRUB2_CFG_FILES = [os.path.join(ROOT, "boot/grub/grub.cfg")]
        consts.BLS_ENTRIES_PATH = os.path.join(ROOT, "boot/loader/entries")
        out["uname_regex"] = variables.expand("${f:kvmtune_bootloader:kvm-latency:skew_tick}")
    out["log"] = capture.records
    print(json.dumps(out))


main()
