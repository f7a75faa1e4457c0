# SPDX-License-Identifier: LGPL-2.1-or-later
"""Drives plugin_kvm_hugepages through a plugin lifecycle inside one tuned package, the way
the tuned daemon does, and prints what it observed as JSON. Run by test_hugepages_shim.py
in a fresh interpreter per tuned version, with PYTHONPATH at that version's package and
KVMTUNE_ROOT at a copy of tests/fixtures/numa2-2m1g-6.18."""
import json
import logging
import os
import sys

from shim_scenario import Capture, GlobalCfg, StorageFactory, make_instance, plugin_class

ROOT = os.environ["KVMTUNE_ROOT"]
STATE = os.path.join(ROOT, "var/lib/kvmtune")
POOLS = {
    "node0.2M": "sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages",
    "node1.2M": "sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages",
    "node0.1G": "sys/devices/system/node/node0/hugepages/hugepages-1048576kB/nr_hugepages",
    "node1.1G": "sys/devices/system/node/node1/hugepages/hugepages-1048576kB/nr_hugepages",
}


def pools():
    out = {}
    for name, rel in POOLS.items():
        with open(os.path.join(ROOT, rel)) as f:
            out[name] = int(f.read())
    return out


def kernel_frees():
    """What the kernel shows after it grew a pool nobody maps: every new page is free.
    Node 0's 2M pool keeps the fixture's 256 pages in use."""
    for name, rel in POOLS.items():
        with open(os.path.join(ROOT, rel)) as f:
            nr = int(f.read())
        in_use = 256 if name == "node0.2M" else 0
        with open(os.path.join(ROOT, rel.replace("nr_hugepages", "free_hugepages")), "w") as f:
            f.write(str(max(nr - in_use, 0)))


def journals():
    return sorted(os.listdir(STATE)) if os.path.isdir(STATE) else []


def main():
    scenario = sys.argv[1]
    capture = Capture()
    logging.getLogger("tuned").addHandler(capture)
    logging.getLogger("tuned").setLevel(logging.DEBUG)

    import tuned.consts as consts
    import tuned.plugins.base as base
    import tuned.plugins.instance
    import tuned.profiles.variables
    import tuned.plugins.plugin_kvm_hugepages as module

    variables = tuned.profiles.variables.Variables()
    variables.add_variable("node1_2m", "1G")
    cls = plugin_class(module, base)
    plugin = cls(None, StorageFactory(), None, None, None, tuned.plugins.instance.Factory(),
                 GlobalCfg(), variables)
    plugin.init_devices()
    obs = {"class": cls.__name__, "commands": len(getattr(plugin, "_commands", {})),
           "before": pools()}
    if scenario == "bad":
        inst = make_instance(plugin, "hugepages_2m", {
            "pages": "-1", "size": "3M", "min_available": "100T", "bogus": "1",
            "libvirt_uri": "none"})
        plugin.instance_apply_tuning(inst)
        obs["applied"] = pools()
        obs["journals"] = journals()
        obs["verify"] = plugin.instance_verify_tuning(inst, False)
        insts = [inst]
    else:
        i2 = make_instance(plugin, "hugepages_2m", {
            "type": None, "size": "2M", "pages": "0:1G,1:${node1_2m}", "libvirt_uri": "none"})
        i1 = make_instance(plugin, "hugepages_1g", {
            "size": "1G", "pages": "1:2G", "libvirt_uri": "none"})
        insts = [i2, i1]
        for inst in insts:
            plugin.instance_apply_tuning(inst)
        kernel_frees()
        obs["applied"] = pools()
        obs["journals"] = journals()
        obs["verify"] = all(plugin.instance_verify_tuning(i, False) for i in insts)
        with open(os.path.join(ROOT, POOLS["node1.2M"]), "w") as f:
            f.write("7")
        obs["verify_after_drift"] = plugin.instance_verify_tuning(i2, False)
        with open(os.path.join(ROOT, POOLS["node1.2M"]), "w") as f:
            f.write("512")
        if scenario == "rollback-none":
            for inst in insts:
                plugin.instance_unapply_tuning(inst, consts.ROLLBACK_NONE)
            obs["after_none"] = pools()
            obs["journals_after_none"] = journals()
            for inst in insts:
                plugin.instance_unapply_tuning(inst, consts.ROLLBACK_FULL)
        else:
            for inst in reversed(insts):
                if hasattr(consts, "ROLLBACK_SOFT"):
                    plugin.instance_unapply_tuning(inst, consts.ROLLBACK_SOFT)
                else:
                    plugin.instance_unapply_tuning(inst, False)
        obs["restored"] = pools()
        obs["journals_after"] = journals()
    for inst in insts:
        plugin.destroy_instance(inst)
    obs["log"] = capture.records
    print(json.dumps(obs))


if __name__ == "__main__":
    main()
