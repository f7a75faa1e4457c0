# SPDX-License-Identifier: LGPL-2.1-or-later
"""`kvmtune hugepages status|reserve|release` on a copy of the 2-node fixture."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from tests.python.test_shim import BUILD, FIXTURES

KVMTUNE = os.path.join(BUILD, "kvmtune")
NODE = "sys/devices/system/node/node%d/hugepages/hugepages-%dkB/%s"


class HugepagesCommandTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="kvmtune-hp-cmd-")
        self.root = os.path.join(self.tmp, "root")
        shutil.copytree(os.path.join(FIXTURES, "numa2-2m1g-6.18"), self.root)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def run_cmd(self, *args):
        return subprocess.run([KVMTUNE, "--root=" + self.root, "hugepages"] + list(args),
                              capture_output=True, text=True, timeout=30)

    def pool(self, node, kb, name="nr_hugepages"):
        with open(os.path.join(self.root, NODE % (node, kb, name))) as f:
            return int(f.read())

    def test_status_json(self):
        out = self.run_cmd("status", "--json", "--libvirt-uri=none")
        self.assertEqual(out.returncode, 0, out.stderr)
        st = json.loads(out.stdout)
        self.assertEqual([s["size_kb"] for s in st["sizes"]], [2048, 1048576])
        two = st["sizes"][0]
        self.assertTrue(two["default"])
        self.assertEqual((two["total"], two["free"], two["in_use"]), (512, 256, 256))
        self.assertEqual(two["nodes"][0], {"node": 0, "total": 512, "free": 256, "in_use": 256,
                                           "surplus": 0, "domains": 0, "auto": 256})
        self.assertIsNone(two["controlled_by"])

    def test_reserve_and_release(self):
        out = self.run_cmd("reserve", "--size=1G", "--pages=1:2G", "--libvirt-uri=none")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(self.pool(1, 1048576), 2)
        self.assertEqual(self.pool(0, 1048576), 1)
        # The fixture has no kernel behind it: say the new pages are free.
        with open(os.path.join(self.root, NODE % (1, 1048576, "free_hugepages")), "w") as f:
            f.write("2")
        out = self.run_cmd("release", "--size=1G")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual((self.pool(0, 1048576), self.pool(1, 1048576)), (0, 0))
        # Release never takes the 256 2M pages in use.
        out = self.run_cmd("release")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(self.pool(0, 2048), 256)
        self.assertIn("node0.2M: 0 pages asked, 256 kept: they are in use", out.stderr)

    def test_bad_input_one_line_nothing_changed(self):
        cases = (
            (["reserve", "--pages=-1"], "pages=-1 is invalid"),
            (["reserve", "--pages=1G", "--size=3M"], "size=3M is invalid: this kernel has no "
             "pool of that page size; it has 2M, 1G"),
            (["reserve", "--pages=7:1G"], "node 7 does not exist"),
            (["reserve", "--pages=1G", "--min-available=1T"], "min_available=1T is invalid"),
            (["reserve"], "reserve needs --pages"),
            (["release", "--pages=3"], "release takes --size only"),
        )
        for args, message in cases:
            out = self.run_cmd(*args, *(["--libvirt-uri=none"] if args[0] == "reserve" and
                                        len(args) > 1 else []))
            self.assertNotEqual(out.returncode, 0, args)
            lines = [l for l in out.stderr.splitlines() if "error" in l]
            self.assertEqual(len(lines), 1, out.stderr)
            self.assertIn(message, lines[0])
            self.assertEqual((self.pool(0, 2048), self.pool(1, 2048)), (512, 0))
            self.assertFalse(os.path.exists(os.path.join(self.root, "var/lib/kvmtune")) and
                             os.listdir(os.path.join(self.root, "var/lib/kvmtune")))


if __name__ == "__main__":
    unittest.main()
