# SPDX-License-Identifier: LGPL-2.1-or-later
"""Drives plugin_kvm_pin through tuned's plugin lifecycle against libvirt's test driver
(test:///default: one running domain "test" with 2 vCPUs) on a fixture topology, and prints
what it observed as JSON. Run by test_pin_shim.py in a fresh interpreter."""
import json
import logging
import os
import sys
import threading
import time

from shim_scenario import Capture, GlobalCfg, StorageFactory, make_instance, plugin_class

ROOT = os.environ["KVMTUNE_ROOT"]
JOURNAL = os.path.join(ROOT, "var/lib/kvmtune/kvm_pin-pin.journal")
URI = "test:///default"


def wait_pinned(inst, want, seconds=10):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if inst._kt_tuning is not None and inst._kt_tuning.stats()["pinned"] == want:
            return True
        time.sleep(0.05)
    return False


def main():
    scenario = sys.argv[1]
    capture = Capture()
    logging.getLogger("tuned").addHandler(capture)
    logging.getLogger("tuned").setLevel(logging.DEBUG)

    import tuned.consts as consts
    import tuned.plugins.base as base
    import tuned.plugins.instance
    import tuned.profiles.variables
    import tuned.plugins.plugin_kvm_pin as module
    from tuned.plugins import _kvmtune

    variables = tuned.profiles.variables.Variables()
    variables.add_variable("dedicated", "2-7")
    cls = plugin_class(module, base)
    plugin = cls(None, StorageFactory(), None, None, None, tuned.plugins.instance.Factory(),
                 GlobalCfg(), variables)
    plugin.init_devices()
    obs = {"class": cls.__name__, "threads_before": threading.active_count(),
           "tasks_before": len(os.listdir("/proc/self/task"))}
    # tuned 2.20's full_rollback=False still restores; 2.21 asks with ROLLBACK_SOFT.
    soft = getattr(consts, "ROLLBACK_SOFT", False)
    good = {"default_policy": "dedicated", "dedicated_cpus": "${dedicated}", "libvirt_uri": URI}

    if scenario == "lifecycle":
        inst = make_instance(plugin, "pin", good)
        plugin.instance_apply_tuning(inst)
        obs["pinned"] = wait_pinned(inst, 1)
        obs["loop_users"] = _kvmtune.event_loop_users()
        obs["tasks_added"] = len(os.listdir("/proc/self/task")) - obs["tasks_before"]
        obs["journal"] = os.path.exists(JOURNAL)
        obs["verify"] = plugin.instance_verify_tuning(inst, False)
        obs["verified"] = inst._kt_tuning.verify()
        # A second instance wants the same lock: refused in one line, the first serves on.
        other = make_instance(plugin, "pin2", good)
        plugin.instance_apply_tuning(other)
        obs["second_applied"] = other._kt_tuning is not None
        obs["first_still"] = inst._kt_tuning is not None and inst._kt_tuning.stats()["pinned"] == 1
        plugin.instance_unapply_tuning(other, soft)
        # Applied again without an unapply: no second loop, no second subscriber.
        plugin.instance_apply_tuning(inst)
        obs["reapplied"] = wait_pinned(inst, 1)
        obs["loop_users_reapplied"] = _kvmtune.event_loop_users()
        plugin.instance_unapply_tuning(inst, soft)
        obs["loop_users_after"] = _kvmtune.event_loop_users()
        obs["tasks_after"] = len(os.listdir("/proc/self/task")) - obs["tasks_before"]
        obs["journal_after"] = os.path.exists(JOURNAL)
    elif scenario == "bad":
        inst = make_instance(plugin, "pin", {"default_policy": "fastest", "dedicated_cpus": "6-12",
                                             "libvirt_uri": URI})
        plugin.instance_apply_tuning(inst)
        obs["applied"] = inst._kt_tuning is not None
        obs["loop_users"] = _kvmtune.event_loop_users()
        obs["tasks_added"] = len(os.listdir("/proc/self/task")) - obs["tasks_before"]
        obs["journal"] = os.path.exists(JOURNAL)
        plugin.instance_unapply_tuning(inst, soft)
    obs["log"] = capture.records
    print(json.dumps(obs))


if __name__ == "__main__":
    main()
