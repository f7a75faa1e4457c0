# SPDX-License-Identifier: LGPL-2.1-or-later
"""
tuned plugin kvm_ksm: the knobs of /sys/kernel/mm/ksm, and a dynamic controller.

Knob options are the knobs of the same name; values are validated as a whole before
anything is written, written in the order the kernel requires, journalled on disk so that
the originals survive a tuned crash, and restored on profile switch or tuned-adm off.

mode=dynamic (or advisor) starts the controller on its own thread, which decides when
KSM runs and how fast it scans (advisor: leaves the rate to the kernel's advisor); it is
stopped and joined on unapply, before the knobs are restored.

Which knobs a mode owns, what is journalled and the KSM lock are the library's
(kt_ksm_tuning_apply): this shim holds the option table and tuned's API only.

[ksm]
type=kvm_ksm
mode=dynamic
use_zero_pages=1
"""
from . import base
from . import kvmtune_tuned as kt

PLUGIN = "kvm_ksm"

# One option per knob, as the kernel names them; _kvmtune.ksm_knobs() must match.
OPTIONS = (
    "run",
    "pages_to_scan",
    "sleep_millisecs",
    "merge_across_nodes",
    "use_zero_pages",
    "max_page_sharing",
    "stable_node_chains_prune_millisecs",
    "smart_scan",
    "advisor_mode",
    "advisor_max_cpu",
    "advisor_min_pages_to_scan",
    "advisor_max_pages_to_scan",
    "advisor_target_scan_time",
)

# The controller's options; _kvmtune.ksm_controller_option_known() must accept each.
CONTROLLER_OPTIONS = (
    "mode",
    "interval",
    "thres_coef",
    "thres_const",
    "cpu_budget",
    "merge_pages",
    "merge_sleep",
    "idle_pages",
    "idle_sleep",
    "psi_merge",
    "stop",
    "libvirt_uri",
    "ksmtuned_conf",
)


class KvmKsmPlugin(base.Plugin):
    """Kernel samepage merging for KVM hosts."""

    def __init__(self, *args, **kwargs):
        super(KvmKsmPlugin, self).__init__(*args, **kwargs)
        self._contexts = {}

    @classmethod
    def _get_config_options(cls):
        return dict((name, None) for name in OPTIONS + CONTROLLER_OPTIONS)

    def _get_effective_options(self, options):
        return kt.effective_options(self._get_config_options(), options)

    def _instance_init(self, instance):
        kt.init_instance(self, PLUGIN, instance)

    def _instance_cleanup(self, instance):
        kt.cleanup_instance(self, instance)

    def _instance_apply_static(self, instance):
        kt.apply_instance(self, PLUGIN, instance, "ksm_apply", "KSM left as it was")

    def _instance_verify_static(self, instance, ignore_missing, devices):
        return kt.verify_instance(self, PLUGIN, instance, "ksm_verify")

    def _instance_unapply_static(self, instance, *args, **kwargs):
        kt.unapply_instance(self, PLUGIN, instance, args, kwargs,
                            lambda ctx, journal: ctx.ksm_restore(journal))
