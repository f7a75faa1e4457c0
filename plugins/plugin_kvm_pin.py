# SPDX-License-Identifier: LGPL-2.1-or-later
"""
tuned plugin kvm_pin: vCPU, emulator and iothread pinning of libvirt guests, with QoS.

On apply, every running guest is placed (dedicated vCPUs on CPUs of their own, shared ones
floating over the shared CPUs) and pinned, and so is each guest the moment it starts: the
instance subscribes to the one libvirt event loop the extension runs for every kvm_*
plugin. The originals are journalled on disk before anything changes and put back on
profile switch or tuned-adm off, also after tuned was killed.

Placement, options, the journal and the pin lock are the library's (kt_pin_tuning_*):
this shim holds the option table and tuned's API only.

[kvm_pin]
type=kvm_pin
dedicated_cpus=${isolated_cores}
emulator_policy=isolate
"""
from . import base
from . import kvmtune_tuned as kt

PLUGIN = "kvm_pin"

# _kvmtune.pin_options() must match.
OPTIONS = (
    "default_policy",
    "dedicated_cpus",
    "shared_cpus",
    "emulator_policy",
    "thread_policy",
    "persist",
    "cpu_shares",
    "memtune_soft_limit",
    "memtune_hard_limit",
    "blkio_weight",
    "libvirt_uri",
)


class KvmPinPlugin(base.Plugin):
    """Pinning and QoS of libvirt guests, applied as each one starts."""

    def __init__(self, *args, **kwargs):
        super(KvmPinPlugin, self).__init__(*args, **kwargs)
        self._contexts = {}

    @classmethod
    def _get_config_options(cls):
        return dict((name, None) for name in OPTIONS)

    def _get_effective_options(self, options):
        return kt.effective_options(self._get_config_options(), options)

    def _instance_init(self, instance):
        kt.init_instance(self, PLUGIN, instance)

    def _instance_cleanup(self, instance):
        kt.cleanup_instance(self, instance)

    def _instance_apply_static(self, instance):
        kt.apply_instance(self, PLUGIN, instance, "pin_apply", "guests left as they were")

    def _instance_verify_static(self, instance, ignore_missing, devices):
        # Guests come and go: what is verified is each pinned guest's live affinity.
        if instance._kt_tuning is None:
            kt.log.error("%s: not applied" % kt.prefix(PLUGIN, instance))
            return False
        return kt.verify_results(self, PLUGIN, instance, instance._kt_tuning.verify)

    def _instance_unapply_static(self, instance, *args, **kwargs):
        # The event subscription never outlives the profile.
        kt.unapply_instance(self, PLUGIN, instance, args, kwargs,
                            lambda ctx, journal: ctx.pin_restore(journal, True))
