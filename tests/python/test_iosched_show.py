# SPDX-License-Identifier: LGPL-2.1-or-later
"""kvmtune iosched show on the iosched-6.18 fixture, its guests from libvirt's test driver:
the tree people read and the JSON scripts read say the same."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from .test_shim import BUILD, FIXTURES

KVMTUNE = os.path.join(BUILD, "kvmtune")


@unittest.skipUnless(os.path.exists(KVMTUNE), "build/kvmtune is not built")
class IoschedShowTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="kvmtune-iosched-show-")
        self.root = os.path.join(self.tmp, "root")
        shutil.copytree(os.path.join(FIXTURES, "iosched-6.18"), self.root, symlinks=True)
        self.uri = "libvirt_uri=test://%s/libvirt-node.xml" % self.root

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def show(self, *args):
        return subprocess.run([KVMTUNE, "--root=" + self.root, "iosched", "show"] + list(args),
                              capture_output=True, text=True, timeout=60)

    def test_json(self):
        out = self.show("--json", self.uri, "nr_requests=32")
        self.assertEqual(out.returncode, 0, out.stderr)
        doc = json.loads(out.stdout)
        self.assertEqual([d["name"] for d in doc["domains"]],
                         ["batch1", "batch2", "batch3", "db1", "web1"])
        web1 = next(d for d in doc["domains"] if d["name"] == "web1")
        vdb = next(d for d in web1["disks"] if d["target"] == "vdb")
        self.assertEqual([(n["device"], n["depth"]) for n in vdb["chain"]],
                         [("dm-0", 0), ("md0", 1), ("sdb1", 2), ("sdb", 3), ("sdc1", 2),
                          ("sdc", 3)])
        vde = next(d for d in web1["disks"] if d["target"] == "vde")
        self.assertIn("network rbd disk", vde["note"])
        sdb = doc["devices"]["sdb"]
        self.assertEqual(sdb["class"], "hdd")
        self.assertEqual(sdb["scheduler"], {"now": "bfq", "wanted": "mq-deadline"})
        self.assertEqual(sdb["nr_requests"], {"now": "64", "wanted": "32"})
        self.assertEqual(doc["devices"]["dm-0"]["scheduler"]["wanted"], None)
        self.assertNotIn("sdf", doc["devices"])

    def test_tree(self):
        out = self.show(self.uri, "include_defined=1")
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = out.stdout.splitlines()
        self.assertIn("off1 (defined, not running)", lines)
        self.assertIn("             └─ sdb  hdd  bfq -> mq-deadline (hdd, 1 guest)", lines)
        self.assertIn("    └─ sda  ssd  mq-deadline -> none (ssd)", lines)
        self.assertTrue(out.stdout.rstrip().endswith("devices beneath the guests' disks, 6 to change"),
                        out.stdout)

    def test_bad_option_one_line(self):
        out = self.show(self.uri, "overrides=sdf:bfq")
        self.assertEqual(out.returncode, 1)
        self.assertEqual(out.stdout, "")
        self.assertEqual(out.stderr.strip().splitlines(),
                         ["kvmtune: error: overrides=sdf:bfq is invalid for sdf (hdd): it offers "
                          "mq-deadline, kyber, none"])
