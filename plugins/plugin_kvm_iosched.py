# SPDX-License-Identifier: LGPL-2.1-or-later
"""
tuned plugin kvm_iosched: I/O schedulers and queue settings for the block devices beneath
the guests' disks.

Every disk of the running libvirt domains (and the defined ones with include_defined) is
resolved to the devices beneath it: image files, partitions, LVM/dm-crypt and md stacks,
loop devices. Each device gets the scheduler of its class (NVMe and SSD: none; HDD:
mq-deadline, or bfq when bfq_guests guests share it; loop: none), the queue knobs asked
for, or an override; devices that back no guest are left alone. Everything is checked
before anything is written, journalled on disk, and restored on profile switch or
tuned-adm off. The domains are read again on every apply and on libvirt's domain events
(a domain started, stopped, a disk plugged in or out), on the libvirt event loop the
kvm_* plugins share; tuned's dynamic tuning is not needed.

Resolution, policy, the lock and the journal are the library's (kt_iosched_tuning_apply):
this shim holds the option table and tuned's API only. The events are the library's too
(kt_iosched_tuning_on_event), the same for `kvmtune iosched watch`.

[kvm_iosched]
type=kvm_iosched
hdd_scheduler=auto
overrides=sdb:bfq
"""
from . import base
from . import kvmtune_tuned as kt

PLUGIN = "kvm_iosched"

# _kvmtune.iosched_options() must match.
OPTIONS = (
    "nvme_scheduler",
    "ssd_scheduler",
    "hdd_scheduler",
    "loop_scheduler",
    "bfq_guests",
    "nr_requests",
    "read_ahead_kb",
    "rq_affinity",
    "overrides",
    "include_defined",
    "libvirt_uri",
)


class KvmIoschedPlugin(base.Plugin):
    """I/O schedulers for the devices beneath KVM guests' disks."""

    def __init__(self, *args, **kwargs):
        super(KvmIoschedPlugin, self).__init__(*args, **kwargs)
        self._contexts = {}

    @classmethod
    def _get_config_options(cls):
        return dict((name, None) for name in OPTIONS)

    def _get_effective_options(self, options):
        return kt.effective_options(self._get_config_options(), options)

    def _instance_init(self, instance):
        # Guests that start or stop reach the tuning through libvirt's events, not tuned's
        # update.
        kt.init_instance(self, PLUGIN, instance)

    def _instance_cleanup(self, instance):
        kt.cleanup_instance(self, instance)

    def _instance_apply_static(self, instance):
        kt.apply_instance(self, PLUGIN, instance, "iosched_apply",
                          "block queues left as they were")

    def _instance_verify_static(self, instance, ignore_missing, devices):
        # An applied tuning verifies under its own lock, never half way through an event.
        if instance._kt_tuning is not None:
            return kt.verify_results(self, PLUGIN, instance, instance._kt_tuning.verify)
        return kt.verify_instance(self, PLUGIN, instance, "iosched_verify")

    def _instance_unapply_static(self, instance, *args, **kwargs):
        kt.unapply_instance(self, PLUGIN, instance, args, kwargs,
                            lambda ctx, journal: ctx.iosched_restore(journal))
