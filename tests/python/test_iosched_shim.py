# SPDX-License-Identifier: LGPL-2.1-or-later
"""plugin_kvm_iosched against tuned's plugin API as tuned 2.20, 2.21 and 2.25 define it, on
the iosched-6.18 fixture with its guests from libvirt's test driver. Without a kernel behind
the fixture, a written scheduler file holds the bare name: the scenario reads either form."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

from .test_shim import EXT, FIXTURES, HERE, PASS_ENV, SYSTEM_TUNED, TOP, VERSIONS


@unittest.skipUnless(os.path.isdir(SYSTEM_TUNED), "tuned is not installed for /usr/bin/python3")
class IoschedShimTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="kvmtune-iosched-shim-")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def run_scenario(self, version, scenario):
        pkgroot = os.path.join(self.tmp, "py-" + version)
        pkg = os.path.join(pkgroot, "tuned")
        shutil.copytree(SYSTEM_TUNED, pkg, ignore=shutil.ignore_patterns("__pycache__"))
        if VERSIONS[version]:
            VERSIONS[version](pkg)
        plugins = os.path.join(pkg, "plugins")
        for name in ("plugin_kvm_iosched.py", "kvmtune_tuned.py"):
            shutil.copy(os.path.join(TOP, "plugins", name), plugins)
        shutil.copy(EXT, plugins)
        root = os.path.join(self.tmp, "root-" + version)
        shutil.copytree(os.path.join(FIXTURES, "iosched-6.18"), root, symlinks=True)
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": pkgroot + ":" + HERE, "KVMTUNE_ROOT": root}
        env.update((k, os.environ[k]) for k in PASS_ENV if k in os.environ)
        out = subprocess.run([sys.executable, os.path.join(HERE, "iosched_scenario.py"), scenario],
                             env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        return json.loads(out.stdout)

    def errors(self, obs):
        return [m for level, m in obs["log"] if level == "ERROR" and "verify:" not in m]

    def check_lifecycle(self, version):
        obs = self.run_scenario(version, "normal")
        self.assertEqual(obs["class"], "KvmIoschedPlugin")
        applied = obs["applied"]
        # By class: NVMe and SSD none, HDD mq-deadline (bfq where four guests share it),
        # loop none; stacked and unused devices left alone; the override even unused.
        self.assertEqual(applied["nvme0n1"], "none/32")
        self.assertEqual(applied["sda"], "none/32")
        self.assertEqual(applied["sdb"], "mq-deadline/32")
        self.assertEqual(applied["sde"], "mq-deadline/32")
        self.assertEqual(applied["sdf"], "kyber/32")
        self.assertEqual(applied["loop0"], "none/32")
        self.assertEqual(applied["loop1"], obs["before"]["loop1"])
        self.assertEqual(applied["dm-0"], obs["before"]["dm-0"])
        self.assertTrue(obs["connected"])
        self.assertTrue(obs["journal"])
        self.assertGreaterEqual(obs["stats"]["devices"], 6)
        self.assertGreaterEqual(obs["stats"]["events"], 1)
        self.assertTrue(obs["verify"])
        self.assertFalse(obs["verify_after_drift"])
        self.assertIn("verify: failed: 'iosched.sdb.scheduler' = 'bfq', expected 'mq-deadline'",
                      [m for _, m in obs["log"]])
        self.assertEqual(obs["restored"], obs["before"])
        self.assertFalse(obs["journal_after"])
        self.assertEqual(self.errors(obs), [])
        self.assertTrue(any(m.startswith("kvm_iosched[iosched]: sda: scheduler mq-deadline -> none")
                            for _, m in obs["log"]), obs["log"])

    def test_lifecycle_tuned_2_20(self):
        self.check_lifecycle("2.20")

    def test_lifecycle_tuned_2_21(self):
        self.check_lifecycle("2.21")

    def test_lifecycle_tuned_2_25(self):
        self.check_lifecycle("2.25")

    def test_rollback_none_keeps_tuning_and_journal(self):
        obs = self.run_scenario("2.21", "rollback-none")
        self.assertEqual(obs["after_none"]["sda"], "none/32")
        self.assertTrue(obs["journal_after_none"])
        self.assertEqual(obs["restored"], obs["before"])
        self.assertFalse(obs["journal_after"])
        self.assertEqual(self.errors(obs), [])

    def test_guests_seen_through_events(self):
        for version in VERSIONS:
            obs = self.run_scenario(version, "events")
            # No tuned update involved: the shared event loop runs while the tuning lives.
            self.assertFalse(obs["dynamic"], version)
            self.assertEqual(obs["loop_users"], 1)
            self.assertTrue(obs["connected"])
            # test:///default's own guest has no disk on the fixture: nothing to change.
            self.assertEqual(obs["applied"], obs["before"])
            # A guest started on sde: the HDD gets mq-deadline at its event.
            self.assertTrue(obs["started_seen"])
            self.assertEqual(obs["started"]["sde"], "mq-deadline/" +
                             obs["before"]["sde"].split("/")[1], version)
            self.assertEqual(dict((k, v) for k, v in obs["started"].items() if k != "sde"),
                             dict((k, v) for k, v in obs["before"].items() if k != "sde"))
            self.assertTrue(obs["verify_started"])
            # And its original back once it stops, the journal keeping nothing of it.
            self.assertTrue(obs["stopped_seen"])
            self.assertEqual(obs["stopped"], obs["before"])
            self.assertNotIn("sde.", obs["journal_stopped"])
            self.assertEqual(obs["loop_users_after"], 0)
            self.assertEqual(obs["restored"], obs["before"])
            self.assertFalse(obs["journal_after"])
            self.assertEqual(self.errors(obs), [])
            self.assertTrue(any("sde: scheduler none -> mq-deadline" in m
                                for _, m in obs["log"]), obs["log"])

    def test_bad_values_refused_in_one_line(self):
        for version in VERSIONS:
            obs = self.run_scenario(version, "bad")
            self.assertEqual(obs["applied"], obs["before"], version)
            self.assertFalse(obs["journal"])
            self.assertEqual(obs["applied_override"], obs["before"], version)
            self.assertFalse(obs["journal_override"])
            errors = [m for m in self.errors(obs) if "block queues left as they were" in m]
            self.assertEqual(len(errors), 2, obs["log"])
            for part in ("kvm_iosched[iosched]: ", "nr_requests=1 is invalid: expected an "
                         "integer 4..65536", "hdd_scheduler=../bfq is invalid",
                         "unknown option 'bogus'"):
                self.assertIn(part, errors[0])
            self.assertIn("overrides=sdf:bfq is invalid for sdf (hdd): it offers mq-deadline, "
                          "kyber, none", errors[1])
            self.assertEqual(obs["applied_good"]["sda"], "none/64")
            self.assertEqual(obs["restored"], obs["before"])


class IoschedOptionTableTest(unittest.TestCase):
    def test_shim_options_match_library(self):
        sys.path.insert(0, os.path.dirname(EXT))
        try:
            import _kvmtune
        finally:
            sys.path.remove(os.path.dirname(EXT))
        with open(os.path.join(TOP, "plugins", "plugin_kvm_iosched.py")) as f:
            text = f.read()
        table = re.search(r"\nOPTIONS = \((.*?)\)\n", text, re.S).group(1)
        self.assertEqual(tuple(re.findall(r'"(\w+)"', table)), _kvmtune.iosched_options())


if __name__ == "__main__":
    unittest.main()
