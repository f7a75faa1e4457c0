# SPDX-License-Identifier: LGPL-2.1-or-later
"""`kvmtune profile` as a user runs it, on a fixture root holding the tree's kvm-dense (and a
stand-in for tuned's virtual-host) in the directories of tuned <= 2.22: new, lint with its
exit status and --json, options, dirs and the refusals."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
KVMTUNE = os.path.join(TOP, "build", "kvmtune")
FIXTURES = os.path.join(TOP, "tests", "fixtures")
DIRS = ["--system-dir=/usr/lib/tuned", "--user-dir=/etc/tuned"]


class ProfileCommand(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="kvmtune-profile-")
        self.root = os.path.join(self.tmp, "root")
        shutil.copytree(os.path.join(FIXTURES, "check-2node"), self.root, symlinks=True)
        system = os.path.join(self.root, "usr", "lib", "tuned")
        shutil.copytree(os.path.join(TOP, "profiles", "kvm-dense"),
                        os.path.join(system, "kvm-dense"))
        # kvm-dense's own include of its variables file is what the packages enable.
        os.makedirs(os.path.join(system, "virtual-host"))
        with open(os.path.join(system, "virtual-host", "tuned.conf"), "w") as f:
            f.write("[main]\nsummary=tuned's virtual-host\n[vm]\ntransparent_hugepages=always\n")
        os.makedirs(os.path.join(self.root, "etc", "tuned"), exist_ok=True)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def run_kt(self, *args):
        p = subprocess.run([KVMTUNE, "--root=" + self.root, "profile", *args, *DIRS],
                           capture_output=True, text=True, timeout=60)
        return p.returncode, p.stdout, p.stderr

    def conf(self, name):
        return os.path.join(self.root, "etc", "tuned", name, "tuned.conf")

    def test_new_lint_and_a_bad_value(self):
        rc, out, err = self.run_kt("new", "mine", "--from", "kvm-dense")
        self.assertEqual((rc, out, err), (0, "/etc/tuned/mine/tuned.conf\n", ""))
        with open(self.conf("mine")) as f:
            text = f.read()
        self.assertIn("\ninclude=kvm-dense\n", text)
        self.assertIn("\n#ksm_cpu_budget=50\n", text)
        self.assertIn("\n#use_zero_pages=1\n", text)
        rc, out, err = self.run_kt("lint", "mine")
        self.assertEqual((rc, out.splitlines()[-1]), (0, "mine: 0 errors, 0 warnings"), err)

        with open(self.conf("mine"), "w") as f:
            f.write(text.replace("\n#pages_to_scan=\n", "\npages_to_scan=-5\n")
                        .replace("\n#ksm_cpu_budget=50\n", "\nksm_cpu_budget=${nowhere}\n"))
        rc, out, err = self.run_kt("lint", "mine")
        self.assertEqual(rc, 1)
        self.assertIn("error: kvm_ksm: pages_to_scan=-5 is invalid: expected an integer "
                      "0..100000\n", out)
        self.assertIn("error: [kvm_ksm] cpu_budget: ${ksm_cpu_budget} is not defined: its value "
                      "${nowhere} uses a variable nothing defines\n", out)
        self.assertEqual(out.splitlines()[-1], "mine: 2 errors, 0 warnings")

        rc, out, err = self.run_kt("lint", "--json", "mine")
        self.assertEqual(rc, 1)
        doc = json.loads(out)
        self.assertEqual((doc["profile"], doc["ok"], doc["errors"], doc["warnings"]),
                         ("mine", False, 2, 0))
        self.assertIn({"level": "error", "text": "kvm_ksm: pages_to_scan=-5 is invalid: "
                       "expected an integer 0..100000"}, doc["messages"])

        # A directory, given as a path, reads the same.
        rc, out, err = self.run_kt("lint", "/etc/tuned/mine")
        self.assertEqual(rc, 1)

    def test_refusals(self):
        self.assertEqual(self.run_kt("new", "mine", "--from", "kvm-dense")[0], 0)
        rc, out, err = self.run_kt("new", "mine", "--from", "kvm-dense")
        self.assertEqual((rc, err), (1, "kvmtune: error: profile 'mine' exists: /etc/tuned/mine; "
                                        "choose another name or remove it first\n"))
        for name in ("../x", "a/b", ".hidden", "tab\tname", "x" * 65):
            rc, out, err = self.run_kt("new", name, "--from", "kvm-dense")
            self.assertEqual(rc, 1, name)
            self.assertIn("profile name '%s' is invalid" % name, err)
            self.assertFalse(os.path.exists(self.conf(name.replace("/", "_"))))
        rc, out, err = self.run_kt("new", "other", "--from", "nowhere")
        self.assertEqual((rc, err), (1, "kvmtune: error: no profile 'nowhere' in /etc/tuned, "
                                        "/usr/lib/tuned\n"))
        self.assertEqual(self.run_kt("new", "other")[0], 2)
        self.assertEqual(self.run_kt("lint", "nowhere")[0], 1)
        self.assertEqual(self.run_kt("frobnicate")[0], 2)

    def test_options_and_dirs(self):
        rc, out, err = self.run_kt("options")
        self.assertEqual(rc, 0)
        for plugin in ("kvm_ksm", "kvm_hugepages", "kvm_pin", "kvm_iosched"):
            self.assertIn("\n%s: " % plugin, "\n" + out)
        self.assertIn("  interval=5 ", out)
        rc, out, err = self.run_kt("options", "--man", "kvm_pin")
        self.assertEqual(rc, 0)
        self.assertTrue(out.startswith(".SS kvm_pin\n"))
        self.assertEqual(self.run_kt("options", "kvm_nope")[0], 2)
        rc, out, err = self.run_kt("dirs")
        self.assertEqual((rc, out), (0, "system /usr/lib/tuned\nuser   /etc/tuned\n"))


if __name__ == "__main__":
    unittest.main()
