# SPDX-License-Identifier: LGPL-2.1-or-later
"""
tuned profile function kvmtune_bootloader: a [bootloader] unit's uname_regex that keeps
the unit where tuned can write the boot loader's configuration and skips it, with one
warning, where it cannot.

    [bootloader]
    uname_regex=${f:kvmtune_bootloader:kvm-latency}

tuned's bootloader plugin patches /boot/grub/grub.cfg (or BLS entries through
grub2-editenv, or rpm-ostree's kernel arguments). On a host with none of them (a VM
booted directly by its hypervisor, a container host booting another way) it changes
nothing, yet `tuned-adm verify` compares the running kernel's command line with the
profile's and fails for as long as the host runs. There the unit is skipped, so the rest
of the profile applies and verifies, and the parameters not set are said once, when the
profile is loaded. The places are tuned's own (tuned.consts), so they follow its version.

tuned loads this module from tuned.profiles.functions and takes its first class derived
from base.Function, so no other such class may be imported here by name.
"""
import os
import shutil

import tuned.consts as consts
import tuned.logs

from . import base

NAME = "kvmtune_bootloader"
# A regular expression that matches nothing, not even an empty string.
NEVER = "(?!)"

log = tuned.logs.get()


def bootloader_writable():
    """Where tuned's bootloader plugin finds something to write, as it looks for it."""
    if any(os.path.exists(f) for f in consts.GRUB2_CFG_FILES):
        return True
    if os.path.isdir(consts.BLS_ENTRIES_PATH) and \
            (shutil.which("grub2-editenv") or shutil.which("grub-editenv")):
        return True
    return shutil.which("rpm-ostree") is not None


class kvmtune_bootloader(base.Function):
    def __init__(self):
        # the profile's name, then what its command line does (both optional)
        super(kvmtune_bootloader, self).__init__(NAME, 2, 0)

    def execute(self, args):
        if not super(kvmtune_bootloader, self).execute(args):
            return None
        if bootloader_writable():
            return ""
        profile = args[0] if args else "this profile"
        what = " (%s)" % args[1] if len(args) > 1 else ""
        log.warning("%s: tuned cannot update this host's boot loader (no %s, no %s with "
                    "grub-editenv, no rpm-ostree): the kernel command line of %s's "
                    "[bootloader]%s is not set and not verified; everything else applies. "
                    "Add it to the kernel command line by hand and reboot, see "
                    "tuned-profiles-cpu-partitioning(7)"
                    % (NAME, " or ".join(consts.GRUB2_CFG_FILES), consts.BLS_ENTRIES_PATH,
                       profile, what))
        return NEVER
