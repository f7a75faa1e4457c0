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
        instance._has_static_tuning = True
        instance._has_dynamic_tuning = False
        instance._kt_tuning = None
        self._contexts[instance.name] = kt.make_context(kt.prefix(PLUGIN, instance))

    def _instance_cleanup(self, instance):
        kt.drop_tuning(instance)
        self._contexts.pop(instance.name, None)

    def _instance_apply_static(self, instance):
        kt.drop_tuning(instance)
        ctx = self._contexts[instance.name]
        options = kt.expand_options(self._variables, instance.options)
        try:
            instance._kt_tuning = ctx.pin_apply(kt.journal_name(PLUGIN, instance),
                                                kt.holder(instance), options)
        except (ValueError, OSError) as e:
            kt.log.error("%s: %s; guests left as they were" % (kt.prefix(PLUGIN, instance),
                                                                kt.reason(e)))

    def _instance_verify_static(self, instance, ignore_missing, devices):
        # Guests come and go: what is verified is each pinned guest's live affinity.
        if instance._kt_tuning is None:
            kt.log.error("%s: not applied" % kt.prefix(PLUGIN, instance))
            return False
        ok = True
        for name, wanted, current, good in instance._kt_tuning.verify():
            if not kt.log_verification(self, "%s.%s" % (instance.name, name), wanted, current,
                                       good):
                ok = False
        return ok

    def _instance_unapply_static(self, instance, *args, **kwargs):
        restore = kt.should_restore(args, kwargs)
        tuning = instance._kt_tuning
        instance._kt_tuning = None
        try:
            if tuning is not None:
                # The event subscription never outlives the profile.
                tuning.unapply(restore)
            elif restore:
                # Unapplied before without restoring (ROLLBACK_NONE): the journal has them.
                self._contexts[instance.name].pin_restore(kt.journal_name(PLUGIN, instance),
                                                          True)
        except (ValueError, OSError) as e:
            kt.log.error("%s: %s" % (kt.prefix(PLUGIN, instance), kt.reason(e)))
