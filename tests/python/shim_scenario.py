# SPDX-License-Identifier: LGPL-2.1-or-later
"""Drives plugin_kvm_ksm through a plugin lifecycle inside one tuned package, the way the
tuned daemon does, and prints what it observed as JSON. Run by test_shim.py in a fresh
interpreter per tuned version, with PYTHONPATH at that version's package and KVMTUNE_ROOT
at a fixture tree."""
import inspect
import json
import logging
import os
import sys
import time

ROOT = os.environ["KVMTUNE_ROOT"]
KNOBS = ("run", "pages_to_scan", "sleep_millisecs", "use_zero_pages", "advisor_mode")
JOURNAL = os.path.join(ROOT, "var/lib/kvmtune/kvm_ksm-ksm.journal")


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append((record.levelname, record.getMessage()))


class Storage(object):
    def get(self, *args, **kwargs):
        return kwargs.get("default")

    def set(self, *args, **kwargs):
        pass

    def unset(self, *args, **kwargs):
        pass


class StorageFactory(object):
    def create(self, name):
        return Storage()


class GlobalCfg(object):
    def get(self, key, default=None):
        return default

    def get_bool(self, key, default=None):
        return default


def knobs():
    out = {}
    for k in KNOBS:
        path = os.path.join(ROOT, "sys/kernel/mm/ksm", k)
        if os.path.exists(path):
            with open(path) as f:
                v = f.read().strip()
            # advisor_mode reads "[none] scan-time": the bracketed word is the mode.
            out[k] = v[v.index("[") + 1:v.index("]")] if "[" in v else v
    return out


def plugin_class(module, base):
    # What tuned's PluginLoader does: the module's first class derived from Plugin.
    for name in module.__dict__:
        cls = getattr(module, name)
        if type(cls) is type and issubclass(cls, base.Plugin):
            return cls
    raise ImportError("no plugin class")


def make_instance(plugin, name, options):
    params = inspect.signature(plugin.create_instance).parameters
    args = {"name": name, "devices_expression": None, "devices_udev_regex": None,
            "script_pre": None, "script_post": None, "options": options}
    if "priority" in params:
        args["priority"] = 0
    instance = plugin.create_instance(**args)
    plugin.initialize_instance(instance)
    return instance


def main():
    scenario = sys.argv[1]
    capture = Capture()
    logging.getLogger("tuned").addHandler(capture)
    logging.getLogger("tuned").setLevel(logging.DEBUG)

    import tuned.consts as consts
    import tuned.plugins.base as base
    import tuned.plugins.instance
    import tuned.profiles.variables
    import tuned.plugins.plugin_kvm_ksm as module

    variables = tuned.profiles.variables.Variables()
    variables.add_variable("rate", "700")
    cls = plugin_class(module, base)
    plugin = cls(None, StorageFactory(), None, None, None, tuned.plugins.instance.Factory(),
                 GlobalCfg(), variables)
    plugin.init_devices()
    if scenario == "dynamic-advisor":
        with open(os.path.join(ROOT, "sys/kernel/mm/ksm/advisor_mode"), "w") as f:
            f.write("none [scan-time]\n")
    obs = {"class": cls.__name__, "commands": len(getattr(plugin, "_commands", {})),
           "before": knobs()}

    if scenario == "dynamic-advisor":
        inst = make_instance(plugin, "ksm", {"mode": "dynamic", "libvirt_uri": "none"})
        plugin.instance_apply_tuning(inst)
        obs["applied"] = knobs()
        plugin.instance_unapply_tuning(inst, False)
        obs["restored"] = knobs()
    elif scenario == "dynamic":
        # thres_coef=100: the threshold is all of RAM, so KSM is needed whatever runs.
        inst = make_instance(plugin, "ksm", {"mode": "dynamic", "interval": "1",
                                             "thres_coef": "100", "libvirt_uri": "none",
                                             "use_zero_pages": "1", "pages_to_scan": "900"})
        threads = len(os.listdir("/proc/self/task"))
        plugin.instance_apply_tuning(inst)
        deadline = time.time() + 10
        while knobs()["run"] != "1" and time.time() < deadline:
            time.sleep(0.1)
        obs["applied"] = knobs()
        obs["threads_added"] = len(os.listdir("/proc/self/task")) - threads
        obs["journal"] = os.path.exists(JOURNAL)
        obs["verify"] = plugin.instance_verify_tuning(inst, False)
        plugin.instance_unapply_tuning(inst, False)
        obs["threads_after"] = len(os.listdir("/proc/self/task")) - threads
        time.sleep(1.5)
        obs["restored"] = knobs()
        obs["journal_after"] = os.path.exists(JOURNAL)
    elif scenario == "bad":
        inst = make_instance(plugin, "ksm", {"run": "7", "pages_to_scan": "-5",
                                             "advisor_mode": "fast", "bogus": "1",
                                             "use_zero_pages": "1", "mode": "turbo"})
        plugin.instance_apply_tuning(inst)
        obs["applied"] = knobs()
        obs["journal"] = os.path.exists(JOURNAL)
        obs["verify"] = plugin.instance_verify_tuning(inst, False)
        # A profile switch after the refusal: nothing was journalled, nothing to restore.
        plugin.instance_unapply_tuning(inst, getattr(consts, "ROLLBACK_FULL", True))
        obs["restored"] = knobs()
    else:
        inst = make_instance(plugin, "ksm", {"run": "1", "pages_to_scan": "${rate}",
                                             "use_zero_pages": "true", "advisor_mode": "none"})
        plugin.instance_apply_tuning(inst)
        obs["applied"] = knobs()
        obs["journal"] = os.path.exists(JOURNAL)
        obs["verify"] = plugin.instance_verify_tuning(inst, False)
        with open(os.path.join(ROOT, "sys/kernel/mm/ksm/pages_to_scan"), "w") as f:
            f.write("64")
        obs["verify_after_drift"] = plugin.instance_verify_tuning(inst, False)
        obs["before_unapply"] = knobs()
        if scenario == "rollback-none":
            plugin.instance_unapply_tuning(inst, consts.ROLLBACK_NONE)
            obs["after_none"] = knobs()
            obs["journal_after_none"] = os.path.exists(JOURNAL)
            plugin.instance_unapply_tuning(inst, consts.ROLLBACK_FULL)
        elif hasattr(consts, "ROLLBACK_SOFT"):
            plugin.instance_unapply_tuning(inst, consts.ROLLBACK_SOFT)
        else:
            plugin.instance_unapply_tuning(inst, False)
        obs["restored"] = knobs()
        obs["journal_after"] = os.path.exists(JOURNAL)
    plugin.destroy_instance(inst)
    obs["log"] = capture.records
    print(json.dumps(obs))


if __name__ == "__main__":
    main()
