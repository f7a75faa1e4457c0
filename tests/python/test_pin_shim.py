# SPDX-License-Identifier: LGPL-2.1-or-later
"""plugin_kvm_pin in tuned's plugin lifecycle (the real tuned package of this machine, and
its 2.21 plugin API), against libvirt's test driver: the shared event loop's thread is
started on apply and joined on unapply, nothing leaks, bad options give one line."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

from tests.python.test_shim import EXT, FIXTURES, HERE, PASS_ENV, SYSTEM_TUNED, TOP, VERSIONS


@unittest.skipUnless(os.path.isdir(SYSTEM_TUNED), "tuned is not installed for /usr/bin/python3")
class PinShimTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="kvmtune-pin-shim-")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def run_scenario(self, version, scenario):
        pkgroot = os.path.join(self.tmp, "py-" + version)
        pkg = os.path.join(pkgroot, "tuned")
        shutil.copytree(SYSTEM_TUNED, pkg, ignore=shutil.ignore_patterns("__pycache__"))
        if VERSIONS[version]:
            VERSIONS[version](pkg)
        for name in ("plugin_kvm_pin.py", "kvmtune_tuned.py"):
            shutil.copy(os.path.join(TOP, "plugins", name), os.path.join(pkg, "plugins"))
        shutil.copy(EXT, os.path.join(pkg, "plugins"))
        root = os.path.join(self.tmp, "root-" + version)
        shutil.copytree(os.path.join(FIXTURES, "topo-1s-nosmt"), root)
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": pkgroot + ":" + HERE, "KVMTUNE_ROOT": root}
        env.update((k, os.environ[k]) for k in PASS_ENV if k in os.environ)
        out = subprocess.run([sys.executable, os.path.join(HERE, "pin_scenario.py"), scenario],
                             env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        return json.loads(out.stdout)

    def check_lifecycle(self, version):
        obs = self.run_scenario(version, "lifecycle")
        self.assertEqual(obs["class"], "KvmPinPlugin")
        self.assertTrue(obs["pinned"], obs["log"])
        self.assertEqual(obs["loop_users"], 1)
        self.assertEqual(obs["tasks_added"], 1)
        self.assertTrue(obs["journal"])
        self.assertTrue(obs["verify"])
        self.assertEqual(obs["verified"], [["test.vcpu0", "2", "2", True],
                                           ["test.vcpu1", "3", "3", True],
                                           ["test.emulator", "0-1", "0-1", True]])
        self.assertIn("verify: passed: 'pin.test.vcpu0' = '2'", [m for _, m in obs["log"]])
        self.assertFalse(obs["second_applied"])
        self.assertTrue(obs["first_still"])
        self.assertTrue(obs["reapplied"])
        self.assertEqual(obs["loop_users_reapplied"], 1)
        self.assertEqual(obs["loop_users_after"], 0)
        self.assertEqual(obs["tasks_after"], 0)
        self.assertFalse(obs["journal_after"])
        messages = [m for _, m in obs["log"]]
        self.assertIn("kvm_pin[pin]: domain test pinned, dedicated: vCPU 0->2 1->3, emulator on "
                      "0-1", messages)
        errors = [m for level, m in obs["log"] if level == "ERROR"]
        self.assertEqual(len(errors), 1, errors)
        self.assertIn("kvm_pin[pin2]: pin is held by tuned instance pin", errors[0])

    def test_lifecycle_tuned_2_20(self):
        self.check_lifecycle("2.20")

    def test_lifecycle_tuned_2_21(self):
        self.check_lifecycle("2.21")

    def test_bad_options_one_line(self):
        obs = self.run_scenario("2.20", "bad")
        self.assertFalse(obs["applied"])
        self.assertEqual(obs["loop_users"], 0)
        self.assertEqual(obs["tasks_added"], 0)
        self.assertFalse(obs["journal"])
        errors = [m for level, m in obs["log"] if level == "ERROR"]
        self.assertEqual(len(errors), 1, errors)
        for part in ("kvm_pin[pin]: ", "default_policy=fastest is invalid: expected shared or "
                     "dedicated", "dedicated_cpus=6-12 names CPUs that are offline or absent "
                     "(8-12): expected CPUs of 0-7", "guests left as they were"):
            self.assertIn(part, errors[0])


class PinOptionTableTest(unittest.TestCase):
    def test_shim_options_match_library(self):
        sys.path.insert(0, os.path.dirname(EXT))
        try:
            import _kvmtune
        finally:
            sys.path.remove(os.path.dirname(EXT))
        with open(os.path.join(TOP, "plugins", "plugin_kvm_pin.py")) as f:
            text = f.read()
        table = re.search(r"\nOPTIONS = \((.*?)\)\n", text, re.S).group(1)
        self.assertEqual(tuple(re.findall(r'"(\w+)"', table)), _kvmtune.pin_options())


if __name__ == "__main__":
    unittest.main()
