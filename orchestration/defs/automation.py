"""Declarative automation that a broken partition does not stall.

Dagster's `eager()` never runs an asset while any partition of an upstream asset is missing, and a
partition whose ingest failed (an unreadable file, a failed blocking check) is missing until it is mended:
under the daemon one broken UDI snapshot would hold back every later one. Here a missing upstream
partition whose latest run failed does not count as missing; the failure is alerted by the run failure
sensor, and the ingest asset left the partition's last good rows (or none) in the build
(orchestration.holdback), so everything downstream builds with the rest.
"""
from __future__ import annotations

import dagster as dg

MISSING_AND_NOT_FAILED = dg.AutomationCondition.any_deps_match(
    dg.AutomationCondition.missing()
    & ~dg.AutomationCondition.will_be_requested()
    & ~dg.AutomationCondition.execution_failed()
).with_label("any_deps_missing (failed partitions held back)")


def eager_despite_failed_partitions() -> dg.AutomationCondition:
    """`eager()`, except that upstream partitions whose latest run failed do not block."""
    return dg.AutomationCondition.eager().replace("any_deps_missing", MISSING_AND_NOT_FAILED)
