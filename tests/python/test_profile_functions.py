# SPDX-License-Identifier: LGPL-2.1-or-later
"""kvmtune's tuned profile functions (kvmtune_isolated_cores, kvmtune_bootloader) loaded
by tuned's own function repository and expanded as its profile loader expands
[variables]: tuned 2.20 (this machine's package) and, where test-tuned-2.25.sh downloaded
it, tuned 2.25, whose repository loads classes differently."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(TOP, "tests", "fixtures")
EXT = os.environ.get("KVMTUNE_EXT", os.path.join(TOP, "build", "_kvmtune.abi3.so"))
PASS_ENV = ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")
PACKAGES = {
    "2.20": "/usr/lib/python3/dist-packages/tuned",
    "2.25": os.path.join(os.environ.get("KT_TUNED_CACHE", "/var/cache/kvmtune/tuned-2.25"),
                         "root/usr/lib/python3/dist-packages/tuned"),
}
VARREL = "etc/tuned/kvm-latency-variables.conf"


class ProfileFunctionsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="kvmtune-functions-")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def run_scenario(self, version, varfile, what="isolated", grub=False):
        if not os.path.isdir(PACKAGES[version]):
            self.skipTest("tuned %s is not at %s (scripts/deps-debian.sh --test fetches it)"
                          % (version, PACKAGES[version]))
        work = tempfile.mkdtemp(dir=self.tmp)
        pkg = os.path.join(work, "py", "tuned")
        shutil.copytree(PACKAGES[version], pkg, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(os.path.join(TOP, "plugins", "kvmtune_tuned.py"), os.path.join(pkg, "plugins"))
        shutil.copy(EXT, os.path.join(pkg, "plugins"))
        for name in os.listdir(os.path.join(TOP, "plugins", "functions")):
            shutil.copy(os.path.join(TOP, "plugins", "functions", name),
                        os.path.join(pkg, "profiles", "functions"))
        root = os.path.join(work, "root")
        shutil.copytree(os.path.join(FIXTURES, "topo-2cpu"), root)
        os.makedirs(os.path.join(root, "etc", "tuned"))
        with open(os.path.join(root, VARREL), "w") as f:
            f.write(varfile)
        if grub:
            os.makedirs(os.path.join(root, "boot", "grub"))
            open(os.path.join(root, "boot", "grub", "grub.cfg"), "w").close()
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": os.path.join(work, "py"),
               "KVMTUNE_ROOT": root}
        env.update((k, os.environ[k]) for k in PASS_ENV if k in os.environ)
        out = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "functions_scenario.py"),
                              what], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        with open(os.path.join(root, VARREL)) as f:
            return json.loads(out.stdout), f.read()

    def check_versions(self, fn):
        for version in PACKAGES:
            with self.subTest(tuned=version):
                fn(version)

    def test_default_written_and_said(self):
        def check(version):
            out, text = self.run_scenario(version, "# the host\nno_balance_cores=\n")
            self.assertEqual(out["isolated_cores"], "1")
            self.assertTrue(text.startswith("# the host\nno_balance_cores=\n# "), text)
            self.assertTrue(text.endswith("\nisolated_cores=1\n"), text)
            self.assertEqual([level for level, _ in out["log"]], ["WARNING"])
            self.assertIn("wrote isolated_cores=1 to /" + VARREL, out["log"][0][1])
        self.check_versions(check)

    def test_value_kept(self):
        def check(version):
            out, text = self.run_scenario(version, "isolated_cores = 1\n")
            self.assertEqual(out["isolated_cores"], "1")
            self.assertEqual(text, "isolated_cores = 1\n")
            self.assertEqual(out["log"], [])
        self.check_versions(check)

    def test_bad_value_refused(self):
        def check(version):
            out, text = self.run_scenario(version, "isolated_cores=0-1\n")
            self.assertNotIn("isolated_cores", out)
            self.assertIn("isolated_cores=0-1 in /%s is invalid: it leaves no CPU" % VARREL,
                          out["refused"])
            self.assertEqual([level for level, _ in out["log"]], ["ERROR"])
            self.assertEqual(text, "isolated_cores=0-1\n")
        self.check_versions(check)

    def test_bootloader(self):
        def check(version):
            out, _ = self.run_scenario(version, "isolated_cores=1\n", "bootloader")
            self.assertEqual(out["uname_regex"], "(?!)")
            self.assertEqual(len(out["log"]), 1)
            self.assertIn("the kernel command line of kvm-latency's [bootloader] (skew_tick) "
                          "is not set", out["log"][0][1])
            out, _ = self.run_scenario(version, "isolated_cores=1\n", "bootloader", grub=True)
            self.assertEqual(out["uname_regex"], "")
            self.assertEqual(out["log"], [])
        self.check_versions(check)


if __name__ == "__main__":
    unittest.main()
