# SPDX-License-Identifier: LGPL-2.1-or-later
"""plugin_kvm_hugepages against tuned's plugin API as tuned 2.20, 2.21 and 2.25 define it,
on a 2-node fixture with 2M and 1G pools: two sections side by side, verify, drift,
rollback (also ROLLBACK_NONE), and bad values refused in one line."""
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
class HugepagesShimTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="kvmtune-hp-shim-")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def run_scenario(self, version, scenario):
        pkgroot = os.path.join(self.tmp, "py-" + version)
        pkg = os.path.join(pkgroot, "tuned")
        shutil.copytree(SYSTEM_TUNED, pkg, ignore=shutil.ignore_patterns("__pycache__"))
        if VERSIONS[version]:
            VERSIONS[version](pkg)
        plugins = os.path.join(pkg, "plugins")
        for name in ("plugin_kvm_hugepages.py", "kvmtune_tuned.py"):
            shutil.copy(os.path.join(TOP, "plugins", name), plugins)
        shutil.copy(EXT, plugins)
        root = os.path.join(self.tmp, "root-" + version)
        shutil.copytree(os.path.join(FIXTURES, "numa2-2m1g-6.18"), root)
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": pkgroot + ":" + HERE,
               "KVMTUNE_ROOT": root}
        env.update((k, os.environ[k]) for k in PASS_ENV if k in os.environ)
        out = subprocess.run([sys.executable, os.path.join(HERE, "hugepages_scenario.py"),
                              scenario], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        return json.loads(out.stdout)

    def errors(self, obs):
        return [m for level, m in obs["log"] if level == "ERROR" and "verify:" not in m]

    def check_lifecycle(self, version):
        obs = self.run_scenario(version, "normal")
        self.assertEqual(obs["class"], "KvmHugepagesPlugin")
        self.assertEqual(obs["commands"], 0)
        self.assertEqual(obs["applied"], {"node0.2M": 512, "node1.2M": 512, "node0.1G": 1,
                                          "node1.1G": 2})
        self.assertEqual(obs["journals"], ["kvm_hugepages-hugepages_1g.journal",
                                           "kvm_hugepages-hugepages_2m.journal"])
        self.assertTrue(obs["verify"])
        self.assertFalse(obs["verify_after_drift"])
        self.assertIn("verify: failed: 'hugepages_2m.node1.2M' = '7', expected '512'",
                      [m for _, m in obs["log"]])
        self.assertEqual(obs["restored"], obs["before"])
        self.assertEqual(obs["journals_after"], [])
        self.assertEqual(self.errors(obs), [])

    def test_lifecycle_tuned_2_20(self):
        self.check_lifecycle("2.20")

    def test_lifecycle_tuned_2_21(self):
        self.check_lifecycle("2.21")

    def test_lifecycle_tuned_2_25(self):
        self.check_lifecycle("2.25")

    def test_rollback_none_keeps_pools_and_journals(self):
        obs = self.run_scenario("2.21", "rollback-none")
        self.assertEqual(obs["after_none"], obs["applied"])
        self.assertEqual(len(obs["journals_after_none"]), 2)
        self.assertEqual(obs["restored"], obs["before"])
        self.assertEqual(obs["journals_after"], [])

    def test_bad_values_refused_in_one_line(self):
        for version in VERSIONS:
            obs = self.run_scenario(version, "bad")
            self.assertEqual(obs["applied"], obs["before"], version)
            self.assertEqual(obs["journals"], [])
            self.assertFalse(obs["verify"])
            errors = [m for m in self.errors(obs) if "hugepage pools left as they were" in m]
            self.assertEqual(len(errors), 1, obs["log"])
            for part in ("kvm_hugepages[hugepages_2m]: ", "pages=-1 is invalid: expected auto",
                         "size=3M is invalid: this kernel has no pool of that page size; it "
                         "has 2M, 1G", "min_available=100T is invalid",
                         "unknown option 'bogus'"):
                self.assertIn(part, errors[0])


class HugepagesOptionTableTest(unittest.TestCase):
    def test_shim_options_match_library(self):
        sys.path.insert(0, os.path.dirname(EXT))
        try:
            import _kvmtune
        finally:
            sys.path.remove(os.path.dirname(EXT))
        with open(os.path.join(TOP, "plugins", "plugin_kvm_hugepages.py")) as f:
            text = f.read()
        table = re.search(r"\nOPTIONS = \((.*?)\)\n", text, re.S).group(1)
        self.assertEqual(tuple(re.findall(r'"(\w+)"', table)), _kvmtune.hugepages_options())

    def test_status_on_a_fixture(self):
        sys.path.insert(0, os.path.dirname(EXT))
        try:
            import _kvmtune
        finally:
            sys.path.remove(os.path.dirname(EXT))
        ctx = _kvmtune.Context(root=os.path.join(FIXTURES, "numa2-2m1g-6.18"))
        sizes = ctx.hugepages_status()
        self.assertEqual([s["size_kb"] for s in sizes], [2048, 1048576])
        self.assertEqual(sizes[0]["nodes"][0], {"node": 0, "total": 512, "free": 256,
                                                "surplus": 0, "in_use": 256, "domains": 0,
                                                "auto": 256})
        self.assertEqual(sizes[0]["domains"], [])
        self.assertIsNone(sizes[0]["libvirt_error"])


if __name__ == "__main__":
    unittest.main()
