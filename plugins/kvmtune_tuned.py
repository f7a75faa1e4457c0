# SPDX-License-Identifier: LGPL-2.1-or-later
"""What every kvmtune plugin shim shares: the _kvmtune context, logging, and the
differences between tuned releases. No tuning logic lives here; it is in the C library.

tuned picks a plugin module's first class derived from Plugin, so shims import this
module, never a class out of it.
"""
import os

import tuned.consts as consts
import tuned.logs

from . import _kvmtune

log = tuned.logs.get()

# Tests point the library at a fixture tree instead of the host.
ROOT = os.environ.get("KVMTUNE_ROOT", "/")

_LOG_BY_PRIO = {3: "error", 4: "warning", 6: "info", 7: "debug"}


def make_context(prefix):
    def emit(prio, text):
        getattr(log, _LOG_BY_PRIO.get(prio, "info"))("%s: %s" % (prefix, text))

    return _kvmtune.Context(root=ROOT, log=emit)


def prefix(plugin_type, instance):
    """kvm_ksm, or kvm_ksm[name] when the section is named otherwise."""
    if instance.name == plugin_type:
        return plugin_type
    return "%s[%s]" % (plugin_type, instance.name)


def journal_name(plugin_type, instance):
    return "%s-%s" % (plugin_type, instance.name)


def holder(instance):
    """Who holds an area's lock, as `kvmtune ... status` shows it."""
    return "tuned instance %s" % instance.name


def reason(error):
    """The library's message of an exception, without OSError's errno prefix."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error)


def drop_tuning(instance):
    """Stops what an instance left running without restoring: the journal keeps it."""
    tuning = getattr(instance, "_kt_tuning", None)
    instance._kt_tuning = None
    if tuning is not None:
        try:
            tuning.unapply(False)
        except (ValueError, OSError) as e:
            log.error(reason(e))


def effective_options(defaults, options):
    """Like Plugin._get_effective_options, but keeps unknown names so the library can
    refuse them (tuned would only warn and drop them, and apply the rest)."""
    effective = dict(defaults)
    effective.update(options)
    return effective


def expand_options(variables, options):
    """The options a profile set, with ${variables} expanded; unset ones are left out."""
    return dict((name, variables.expand(str(value)).strip())
                for name, value in options.items() if value is not None)


def should_restore(args, kwargs):
    """Reads the unapply argument of every tuned release.

    tuned <= 2.20 passes full_rollback (bool): False on daemon stop, where KSM is still
    put back, like tuned's own sysfs plugin does. tuned >= 2.21 passes rollback, one of
    consts.ROLLBACK_*: ROLLBACK_NONE asks to leave the tuning in place (the journal then
    keeps the originals for the next unapply).
    """
    if not hasattr(consts, "ROLLBACK_NONE"):
        return True
    if "rollback" in kwargs:
        rollback = kwargs["rollback"]
    elif args:
        rollback = args[0]
    else:
        rollback = getattr(consts, "ROLLBACK_SOFT", 1)
    return rollback != consts.ROLLBACK_NONE


def log_verification(plugin, name, wanted, current, ok):
    if current is None:
        log.info(consts.STR_VERIFY_PROFILE_VALUE_MISSING % name)
        return True
    return plugin._log_verification_result(name, ok, wanted, current)


# The lifecycle every kvm_* shim shares. A shim passes its plugin type and, by name, the
# Context methods of its area; what a tuning does is the library's.

def init_instance(plugin, plugin_type, instance, dynamic=False):
    instance._has_static_tuning = True
    instance._has_dynamic_tuning = dynamic
    instance._kt_tuning = None
    instance._kt_journal_kept = False
    plugin._contexts[instance.name] = make_context(prefix(plugin_type, instance))


def cleanup_instance(plugin, instance):
    drop_tuning(instance)
    plugin._contexts.pop(instance.name, None)


def apply_instance(plugin, plugin_type, instance, apply_method, left_as_it_was):
    """Context.<apply_method>(journal, holder, options); on a refusal one error line."""
    # An apply without an unapply in between must not leave a second tuning behind.
    drop_tuning(instance)
    ctx = plugin._contexts[instance.name]
    options = expand_options(plugin._variables, instance.options)
    try:
        instance._kt_tuning = getattr(ctx, apply_method)(journal_name(plugin_type, instance),
                                                         holder(instance), options)
    except (ValueError, OSError) as e:
        log.error("%s: %s; %s" % (prefix(plugin_type, instance), reason(e), left_as_it_was))


def verify_results(plugin, plugin_type, instance, results):
    """Logs each (name, wanted, current, ok) the way tuned's plugins do; all ok?"""
    try:
        results = results()
    except (ValueError, OSError) as e:
        log.error("%s: %s" % (prefix(plugin_type, instance), reason(e)))
        return False
    ok = True
    for name, wanted, current, good in results:
        if not log_verification(plugin, "%s.%s" % (instance.name, name), wanted, current, good):
            ok = False
    return ok


def verify_instance(plugin, plugin_type, instance, verify_method):
    """Context.<verify_method>(options) compared with the host."""
    ctx = plugin._contexts[instance.name]
    options = expand_options(plugin._variables, instance.options)
    return verify_results(plugin, plugin_type, instance,
                          lambda: getattr(ctx, verify_method)(options))


def unapply_instance(plugin, plugin_type, instance, args, kwargs, restore_journal):
    """Undoes the tuning (it never outlives the profile, whatever the rollback level); an
    instance unapplied before without restoring (ROLLBACK_NONE) has its journal put back
    by restore_journal(ctx, journal) when restoring is asked for. Returns the tuning's
    restore flag, or None when there was no tuning."""
    restore = should_restore(args, kwargs)
    tuning = instance._kt_tuning
    instance._kt_tuning = None
    try:
        if tuning is not None:
            tuning.unapply(restore)
            # Only a tuning left in place leaves a journal to put back later: an instance
            # whose apply was refused has none, and asking for it would be an error.
            instance._kt_journal_kept = not restore
            return restore
        if restore and restore_journal is not None and instance._kt_journal_kept:
            instance._kt_journal_kept = False
            restore_journal(plugin._contexts[instance.name], journal_name(plugin_type, instance))
    except (ValueError, OSError) as e:
        log.error("%s: %s" % (prefix(plugin_type, instance), reason(e)))
    return None
