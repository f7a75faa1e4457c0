# SPDX-License-Identifier: LGPL-2.1-or-later
"""_kvmtune never crashes its host process (tuned), whatever Python passes it."""
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
EXT = os.environ.get("KVMTUNE_EXT", os.path.join(TOP, "build", "_kvmtune.abi3.so"))
PASS_ENV = ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")


class HostileArgumentsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="kvmtune-hostile-")
        self.root = os.path.join(self.tmp, "root")
        shutil.copytree(os.path.join(TOP, "tests", "fixtures", "ksm-6.18"), self.root)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_every_callable_survives_hostile_arguments(self):
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": os.path.dirname(EXT), "KVMTUNE_ROOT": self.root}
        env.update((k, os.environ[k]) for k in PASS_ENV if k in os.environ)
        out = subprocess.run([sys.executable, os.path.join(HERE, "hostile.py")], env=env,
                             capture_output=True, text=True, timeout=300)
        self.assertEqual(out.returncode, 0, "the interpreter died: %s" % out.stderr[-4000:])
        lines = [json.loads(l) for l in out.stdout.splitlines()]
        self.assertEqual(lines[-1].get("done"), True)
        calls = collections.defaultdict(set)
        for l in lines[:-1]:
            calls[l["call"]].add(l["outcome"])
        # Every public callable was tried, on both initialised contexts and a bare one.
        for name in ("Context.ksm_apply", "Context.ksm_verify", "Context.ksm_status",
                     "Context.ksm_restore", "Context.restore_orphans", "_kvmtune.ksm_knobs",
                     "_kvmtune.ksm_controller_option_known", "Context.iosched_apply",
                     "Context.iosched_verify", "Context.iosched_restore",
                     "_kvmtune.iosched_options"):
            self.assertIn(name, calls)
            self.assertTrue(calls[name] - {"returned"}, "%s never refused anything" % name)
        self.assertEqual(calls["Tuning()"], {"TypeError"})
        self.assertEqual(calls["Tuning.__new__"], {"TypeError"})
        self.assertEqual(calls["Context.__init__ twice"], {"RuntimeError"})
        self.assertEqual(calls["Tuning.unapply again"], {"RuntimeError"})
        self.assertEqual(calls["Tuning.unapply"], {"returned"})
        before, running, after = map(int, calls["dropped tuning: threads"].pop().split())
        self.assertEqual((running - before, after - before), (1, 0))
        self.assertEqual(calls["apply after a dropped tuning"], {"returned"})
        # What was unapplied with restore left no journal; what was dropped keeps its own.
        journals = os.path.join(self.root, "var/lib/kvmtune")
        left = sorted(f for f in os.listdir(journals) if f.endswith(".journal"))
        self.assertEqual(left, ["kvm_ksm-hostile2.journal", "kvm_ksm-hostile3.journal"])


if __name__ == "__main__":
    unittest.main()
