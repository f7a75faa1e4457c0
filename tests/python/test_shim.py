# SPDX-License-Identifier: LGPL-2.1-or-later
"""plugin_kvm_ksm against tuned's plugin API as tuned 2.20, 2.21 and 2.25 define it.

The 2.20 case runs the real tuned package of this machine. The later ones are the same
package with base.py and consts.py changed the way those releases changed them: unapply
takes rollback=consts.ROLLBACK_* (2.21) and commands get an instance argument (2.25)."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(TOP, "build")
FIXTURES = os.path.join(TOP, "tests", "fixtures")
SYSTEM_TUNED = "/usr/lib/python3/dist-packages/tuned"
# make check-python-asan points this at the sanitized build and preloads libasan.
EXT = os.environ.get("KVMTUNE_EXT", os.path.join(BUILD, "_kvmtune.abi3.so"))
PASS_ENV = ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")

ROLLBACK_CONSTS = "\nROLLBACK_NONE = 0\nROLLBACK_SOFT = 1\nROLLBACK_FULL = 2\n"


def patch_221(pkg):
    base = os.path.join(pkg, "plugins", "base.py")
    with open(base) as f:
        text = f.read()
    text = text.replace("full_rollback = False", "rollback = consts.ROLLBACK_SOFT")
    text = re.sub(r"full_rollback = full_rollback", "rollback = rollback", text)
    text = re.sub(r"\(instance, full_rollback\)", "(instance, rollback)", text)
    text = text.replace("if full_rollback:", "if rollback == consts.ROLLBACK_FULL:")
    with open(base, "w") as f:
        f.write(text)
    with open(os.path.join(pkg, "consts.py"), "a") as f:
        f.write(ROLLBACK_CONSTS)


def patch_225(pkg):
    patch_221(pkg)
    base = os.path.join(pkg, "plugins", "base.py")
    with open(base) as f:
        text = f.read()
    # 2.25 hands the instance to every @command_set function.
    calls = (('command["set"](new_value, sim = False)', 'command["set"](new_value, instance, sim = False)'),
             ('command["set"](new_value, True)', 'command["set"](new_value, instance, True)'),
             ('command["set"](old_value, sim = False)', 'command["set"](old_value, instance, sim = False)'))
    for old, new in calls:
        if old not in text:
            raise AssertionError("tuned's base.py no longer has %s" % old)
        text = text.replace(old, new)
    with open(base, "w") as f:
        f.write(text)


VERSIONS = {"2.20": None, "2.21": patch_221, "2.25": patch_225}


@unittest.skipUnless(os.path.isdir(SYSTEM_TUNED), "tuned is not installed for /usr/bin/python3")
class ShimTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="kvmtune-shim-")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def run_scenario(self, version, scenario, fixture="ksm-6.18"):
        pkgroot = os.path.join(self.tmp, "py-" + version)
        pkg = os.path.join(pkgroot, "tuned")
        shutil.copytree(SYSTEM_TUNED, pkg, ignore=shutil.ignore_patterns("__pycache__"))
        if VERSIONS[version]:
            VERSIONS[version](pkg)
        plugins = os.path.join(pkg, "plugins")
        for name in ("plugin_kvm_ksm.py", "kvmtune_tuned.py"):
            shutil.copy(os.path.join(TOP, "plugins", name), plugins)
        shutil.copy(EXT, plugins)
        root = os.path.join(self.tmp, "root-" + version)
        shutil.copytree(os.path.join(FIXTURES, fixture), root)
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": pkgroot, "KVMTUNE_ROOT": root}
        env.update((k, os.environ[k]) for k in PASS_ENV if k in os.environ)
        out = subprocess.run([sys.executable, os.path.join(HERE, "shim_scenario.py"), scenario],
                             env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        return json.loads(out.stdout)

    def errors(self, obs):
        return [m for level, m in obs["log"] if level == "ERROR" and "verify:" not in m]

    def check_lifecycle(self, version):
        obs = self.run_scenario(version, "normal")
        self.assertEqual(obs["class"], "KvmKsmPlugin")
        self.assertEqual(obs["commands"], 0)
        self.assertEqual(obs["applied"]["run"], "1")
        self.assertEqual(obs["applied"]["pages_to_scan"], "700")
        self.assertEqual(obs["applied"]["use_zero_pages"], "1")
        self.assertTrue(obs["journal"])
        self.assertTrue(obs["verify"])
        self.assertFalse(obs["verify_after_drift"])
        self.assertIn("verify: failed: 'ksm.pages_to_scan' = '64', expected '700'",
                      [m for _, m in obs["log"]])
        self.assertEqual(obs["restored"], obs["before"])
        self.assertFalse(obs["journal_after"])
        self.assertEqual(self.errors(obs), [])

    def test_lifecycle_tuned_2_20(self):
        self.check_lifecycle("2.20")

    def test_lifecycle_tuned_2_21(self):
        self.check_lifecycle("2.21")

    def test_lifecycle_tuned_2_25(self):
        self.check_lifecycle("2.25")

    def test_rollback_none_keeps_tuning_and_journal(self):
        obs = self.run_scenario("2.21", "rollback-none")
        self.assertEqual(obs["after_none"], obs["before_unapply"])
        self.assertEqual(obs["after_none"]["run"], "1")
        self.assertTrue(obs["journal_after_none"])
        self.assertEqual(obs["restored"], obs["before"])
        self.assertFalse(obs["journal_after"])

    def test_bad_values_refused_in_one_line(self):
        for version in VERSIONS:
            obs = self.run_scenario(version, "bad")
            self.assertEqual(obs["applied"], obs["before"], version)
            self.assertFalse(obs["journal"])
            self.assertFalse(obs["verify"])
            errors = [m for m in self.errors(obs) if "KSM left as it was" in m]
            self.assertEqual(len(errors), 1, obs["log"])
            # The switch away asks for no journal: the refused instance wrote none.
            self.assertEqual([m for m in self.errors(obs) if "journal" in m], [], version)
            self.assertEqual(obs["restored"], obs["before"], version)
            for part in ("kvm_ksm[ksm]: ", "run=7 is invalid", "pages_to_scan=-5 is invalid: "
                         "expected an integer 0..100000", "advisor_mode=fast is invalid",
                         "unknown option 'bogus'", "mode=turbo is invalid: expected static, "
                         "dynamic or advisor"):
                self.assertIn(part, errors[0])

    def test_dynamic_mode_thread_lifecycle(self):
        obs = self.run_scenario("2.20", "dynamic")
        # The controller engaged at its merge rate, paced to a full scan per 2 s of the
        # fixture's 768 MiB of qemu memory (983 pages every 10 ms); the static
        # pages_to_scan was dropped.
        self.assertEqual(obs["applied"]["run"], "1")
        self.assertEqual(obs["applied"]["pages_to_scan"], "983")
        self.assertEqual(obs["applied"]["sleep_millisecs"], "10")
        self.assertEqual(obs["applied"]["use_zero_pages"], "1")
        self.assertEqual(obs["threads_added"], 1)
        self.assertTrue(obs["journal"])
        self.assertTrue(obs["verify"])
        self.assertEqual(obs["threads_after"], 0)
        self.assertEqual(obs["restored"], obs["before"])
        self.assertFalse(obs["journal_after"])
        messages = [m for _, m in obs["log"]]
        self.assertIn("kvm_ksm[ksm]: pages_to_scan is decided by the controller with "
                      "mode=dynamic, ignoring", messages)
        # libvirt_uri=none: the guests' memory is the fixture's two qemu processes' RSS.
        self.assertTrue(any(m.startswith("kvm_ksm[ksm]: merging: guests 768 MiB") for m in messages),
                        messages)
        self.assertEqual(self.errors(obs), [])

    def test_dynamic_mode_turns_the_advisor_off(self):
        obs = self.run_scenario("2.20", "dynamic-advisor")
        self.assertEqual(obs["before"]["advisor_mode"], "scan-time")
        self.assertEqual(obs["applied"]["advisor_mode"], "none")
        self.assertEqual(obs["restored"]["advisor_mode"], "scan-time")
        self.assertEqual(self.errors(obs), [])

    def test_old_kernel_reports_unsupported(self):
        obs = self.run_scenario("2.20", "normal", fixture="ksm-6.1")
        self.assertEqual(obs["applied"]["pages_to_scan"], "700")
        self.assertTrue(obs["verify"])
        self.assertIn("kvm_ksm[ksm]: advisor_mode is not supported by this kernel, ignoring",
                      [m for level, m in obs["log"] if level == "WARNING"])
        self.assertEqual(obs["restored"], obs["before"])


class OptionTableTest(unittest.TestCase):
    def test_shim_options_match_library(self):
        sys.path.insert(0, os.path.dirname(EXT))
        try:
            import _kvmtune
        finally:
            sys.path.remove(os.path.dirname(EXT))
        with open(os.path.join(TOP, "plugins", "plugin_kvm_ksm.py")) as f:
            text = f.read()
        table = re.search(r"\nOPTIONS = \((.*?)\)\n", text, re.S).group(1)
        self.assertEqual(tuple(re.findall(r'"(\w+)"', table)), _kvmtune.ksm_knobs())
        table = re.search(r"\nCONTROLLER_OPTIONS = \((.*?)\)\n", text, re.S).group(1)
        names = re.findall(r'"(\w+)"', table)
        self.assertGreater(len(names), 5)
        for name in names:
            self.assertTrue(_kvmtune.ksm_controller_option_known(name), name)
        self.assertFalse(_kvmtune.ksm_controller_option_known("pages_to_scan"))


if __name__ == "__main__":
    unittest.main()
