# SPDX-License-Identifier: LGPL-2.1-or-later
"""kvmtune iosched show and watch on the iosched-6.18 fixture, its guests from libvirt's test
driver: the tree people read and the JSON scripts read say the same; watch applies, keeps
going until SIGTERM, and then puts the originals back (or keeps them with --keep)."""
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

    def sched(self, dev):
        """The bracketed scheduler; without a kernel, a written file holds the bare name."""
        with open(os.path.join(self.root, "sys/class/block", dev, "queue/scheduler")) as f:
            v = f.read().strip()
        return v[v.index("[") + 1:v.index("]")] if "[" in v else v

    def watch_until_term(self, *args):
        """Starts watch, reads its first line (said once applied and subscribed), stops it."""
        proc = subprocess.Popen([KVMTUNE, "--root=" + self.root, "iosched", "watch"] +
                                list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        try:
            line = proc.stdout.readline()
            during = (self.sched("sda"), os.path.exists(self.journal))
        finally:
            proc.terminate()
            _, err = proc.communicate(timeout=30)
        return proc.returncode, line, during, err

    def test_watch(self):
        self.journal = os.path.join(self.root, "var/lib/kvmtune/kvm_iosched-cmd.journal")
        before = self.sched("sda")
        self.assertEqual(before, "mq-deadline")
        rc, line, during, err = self.watch_until_term(self.uri, "nr_requests=32")
        self.assertEqual(rc, 0, err)
        self.assertIn("as guests come and go; SIGINT or SIGTERM stops and puts the originals "
                      "back", line)
        self.assertEqual(during, ("none", True))
        self.assertEqual(self.sched("sda"), before)
        self.assertFalse(os.path.exists(self.journal))
        # --keep: the settings stay, and no journal is left to restore them. Without a kernel
        # the scheduler files now hold one name each: a fresh copy of the fixture.
        shutil.rmtree(self.root)
        shutil.copytree(os.path.join(FIXTURES, "iosched-6.18"), self.root, symlinks=True)
        rc, line, during, err = self.watch_until_term("--keep", self.uri)
        self.assertEqual(rc, 0, err)
        self.assertIn("stops and keeps the settings", line)
        self.assertEqual(self.sched("sda"), "none")
        self.assertFalse(os.path.exists(self.journal))
        # Bad input: one line naming it, exit 2, nothing changed.
        self.sched_file = os.path.join(self.root, "sys/class/block/sdb/queue/scheduler")
        with open(self.sched_file) as f:
            sdb = f.read()
        out = subprocess.run([KVMTUNE, "--root=" + self.root, "iosched", "watch", self.uri,
                              "nr_requests=1"], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 2)
        self.assertEqual(out.stderr.strip().splitlines(),
                         ["kvmtune: error: nr_requests=1 is invalid: expected an integer "
                          "4..65536"])
        with open(self.sched_file) as f:
            self.assertEqual(f.read(), sdb)

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
