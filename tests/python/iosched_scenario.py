# SPDX-License-Identifier: LGPL-2.1-or-later
"""Drives plugin_kvm_iosched through a plugin lifecycle inside one tuned package, the way
the tuned daemon does, and prints what it observed as JSON. Run by test_iosched_shim.py in
a fresh interpreter per tuned version, with PYTHONPATH at that version's package and
KVMTUNE_ROOT at a copy of tests/fixtures/iosched-6.18, whose guests libvirt's test driver
reads from libvirt-node.xml in that copy. The "events" scenario uses test:///default
instead, whose state every connection of the process shares: a guest started through a
connection of its own (libvirt's C API through ctypes) reaches the plugin's event loop."""
import ctypes
import json
import logging
import os
import sys
import time

from shim_scenario import Capture, GlobalCfg, StorageFactory, make_instance, plugin_class

ROOT = os.environ["KVMTUNE_ROOT"]
URI = "test://%s/libvirt-node.xml" % ROOT
DEVICES = ("nvme0n1", "sda", "sdb", "sdc", "sdd", "sde", "sdf", "loop0", "loop1", "dm-0")
JOURNAL = os.path.join(ROOT, "var/lib/kvmtune/kvm_iosched-iosched.journal")


def queues():
    """Each device's scheduler (the bracketed word) and nr_requests."""
    out = {}
    for dev in DEVICES:
        q = os.path.join(ROOT, "sys/class/block", dev, "queue")
        with open(os.path.join(q, "scheduler")) as f:
            v = f.read().strip()
        with open(os.path.join(q, "nr_requests")) as f:
            nr = f.read().strip()
        out[dev] = "%s/%s" % (v[v.index("[") + 1:v.index("]")] if "[" in v else v, nr)
    return out


def wait_events(inst, n):
    """Until the tuning has handled n libvirt events (10 s at most)."""
    for _ in range(1000):
        if inst._kt_tuning.stats()["events"] >= n:
            return True
        time.sleep(0.01)
    return False


class TestDriver(object):
    """A guest on libvirt's test:///default, started and destroyed through libvirt's C API."""

    def __init__(self):
        self.lv = ctypes.CDLL("libvirt.so.0")
        self.lv.virConnectOpen.restype = ctypes.c_void_p
        self.lv.virConnectOpen.argtypes = [ctypes.c_char_p]
        self.lv.virConnectClose.argtypes = [ctypes.c_void_p]
        self.lv.virDomainCreateXML.restype = ctypes.c_void_p
        self.lv.virDomainCreateXML.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint]
        self.lv.virDomainDestroy.argtypes = [ctypes.c_void_p]
        self.lv.virDomainFree.argtypes = [ctypes.c_void_p]
        self.conn = self.lv.virConnectOpen(b"test:///default")

    def start(self, name, dev):
        xml = ("<domain type='test'><name>%s</name><memory>131072</memory><os><type>hvm"
               "</type></os><devices><disk type='block' device='disk'><source dev='%s'/>"
               "<target dev='vda'/></disk></devices></domain>" % (name, dev))
        return self.lv.virDomainCreateXML(self.conn, xml.encode(), 0)

    def destroy(self, dom):
        self.lv.virDomainDestroy(dom)
        self.lv.virDomainFree(dom)

    def close(self):
        self.lv.virConnectClose(self.conn)


def unapply(plugin, inst, consts):
    """A profile switch: tuned 2.21+ says ROLLBACK_SOFT, 2.20 full_rollback=False."""
    plugin.instance_unapply_tuning(inst, getattr(consts, "ROLLBACK_SOFT", False))


def main():
    scenario = sys.argv[1]
    capture = Capture()
    logging.getLogger("tuned").addHandler(capture)
    logging.getLogger("tuned").setLevel(logging.DEBUG)

    import tuned.consts as consts
    import tuned.plugins.base as base
    import tuned.plugins.instance
    import tuned.profiles.variables
    import tuned.plugins.plugin_kvm_iosched as module

    variables = tuned.profiles.variables.Variables()
    variables.add_variable("uri", URI)
    cls = plugin_class(module, base)
    plugin = cls(None, StorageFactory(), None, None, None, tuned.plugins.instance.Factory(),
                 GlobalCfg(), variables)
    plugin.init_devices()
    obs = {"class": cls.__name__, "before": queues()}

    if scenario == "events":
        # Guests that start and stop after the apply, with no update from tuned at all.
        import tuned.plugins.kvmtune_tuned as kt
        inst = make_instance(plugin, "iosched", {"libvirt_uri": "test:///default"})
        plugin.instance_apply_tuning(inst)
        obs["dynamic"] = inst._has_dynamic_tuning
        obs["loop_users"] = kt._kvmtune.event_loop_users()
        obs["connected"] = wait_events(inst, 1)
        obs["applied"] = queues()
        driver = TestDriver()
        dom = driver.start("late", "/dev/sde")
        obs["started_seen"] = wait_events(inst, 2)
        obs["started"] = queues()
        obs["verify_started"] = plugin.instance_verify_tuning(inst, False)
        driver.destroy(dom)
        obs["stopped_seen"] = wait_events(inst, 3)
        obs["stopped"] = queues()
        obs["journal_stopped"] = open(JOURNAL).read() if os.path.exists(JOURNAL) else ""
        driver.close()
        unapply(plugin, inst, consts)
        obs["loop_users_after"] = kt._kvmtune.event_loop_users()
        obs["restored"] = queues()
        obs["journal_after"] = os.path.exists(JOURNAL)
    elif scenario == "bad":
        inst = make_instance(plugin, "iosched", {"libvirt_uri": "${uri}", "nr_requests": "1",
                                                 "hdd_scheduler": "../bfq", "bogus": "1"})
        plugin.instance_apply_tuning(inst)
        obs["applied"] = queues()
        obs["journal"] = os.path.exists(JOURNAL)
        unapply(plugin, inst, consts)
        plugin.destroy_instance(inst)
        # A scheduler the device does not offer: refused with the list it offers.
        inst = make_instance(plugin, "iosched", {"libvirt_uri": "${uri}",
                                                 "overrides": "sdf:bfq"})
        plugin.instance_apply_tuning(inst)
        obs["applied_override"] = queues()
        obs["journal_override"] = os.path.exists(JOURNAL)
        unapply(plugin, inst, consts)
        plugin.destroy_instance(inst)
        # And the plugin still works afterwards.
        inst = make_instance(plugin, "iosched", {"libvirt_uri": "${uri}"})
        plugin.instance_apply_tuning(inst)
        obs["applied_good"] = queues()
        unapply(plugin, inst, consts)
        obs["restored"] = queues()
    else:
        inst = make_instance(plugin, "iosched", {"libvirt_uri": "${uri}", "nr_requests": "32",
                                                 "overrides": "/dev/sdf:kyber",
                                                 "include_defined": "yes"})
        plugin.instance_apply_tuning(inst)
        # The event loop's first word (connected) checks every domain again: after it, the
        # drift below is the test's alone.
        obs["connected"] = wait_events(inst, 1)
        obs["applied"] = queues()
        obs["journal"] = os.path.exists(JOURNAL)
        obs["stats"] = inst._kt_tuning.stats() if inst._kt_tuning else None
        obs["verify"] = plugin.instance_verify_tuning(inst, False)
        with open(os.path.join(ROOT, "sys/class/block/sdb/queue/scheduler"), "w") as f:
            f.write("mq-deadline kyber [bfq] none\n")
        obs["verify_after_drift"] = plugin.instance_verify_tuning(inst, False)
        if scenario == "rollback-none":
            plugin.instance_unapply_tuning(inst, consts.ROLLBACK_NONE)
            obs["after_none"] = queues()
            obs["journal_after_none"] = os.path.exists(JOURNAL)
            plugin.instance_unapply_tuning(inst, consts.ROLLBACK_FULL)
        else:
            unapply(plugin, inst, consts)
        obs["restored"] = queues()
        obs["journal_after"] = os.path.exists(JOURNAL)
    plugin.destroy_instance(inst)
    obs["log"] = capture.records
    print(json.dumps(obs))


if __name__ == "__main__":
    main()
