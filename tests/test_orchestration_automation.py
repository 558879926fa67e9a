"""Under the daemon a broken partition must not stall the rest: evaluated with Dagster's automation test utilities."""

import dagster as dg
import pytest

from orchestration.defs.automation import eager_despite_failed_partitions

snapshots = dg.DynamicPartitionsDefinition(name="snapshots")


@dg.asset(partitions_def=snapshots)
def snapshot(context: dg.AssetExecutionContext) -> None:
    if context.partition_key.startswith("broken"):
        raise ValueError("udi/broken/gyldige.csv: binary data (NUL bytes), not a text CSV file")


@dg.asset(deps=[snapshot], automation_condition=eager_despite_failed_partitions())
def stock() -> None:
    """Unpartitioned, downstream of every partition (as the dbt staging models are of the ingest assets)."""


@dg.asset(deps=[snapshot], automation_condition=dg.AutomationCondition.eager())
def stock_plain_eager() -> None:
    """The same with Dagster's plain eager(), which a failed partition stalls."""


def ingest(instance: dg.DagsterInstance, key: str) -> bool:
    instance.add_dynamic_partitions("snapshots", [key])
    return dg.materialize([snapshot], partition_key=key, instance=instance, raise_on_error=False).success


def requested(instance: dg.DagsterInstance, cursor) -> tuple[set[dg.AssetKey], object]:
    result = dg.evaluate_automation_conditions(defs=[snapshot, stock, stock_plain_eager], instance=instance,
                                               cursor=cursor)
    return {request.key for request in result.results if request.true_subset.size}, result.cursor


def test_a_broken_snapshot_then_a_valid_one_the_valid_one_goes_downstream():
    with dg.instance_for_test() as instance:
        assert ingest(instance, "2025-07-05")
        _, cursor = requested(instance, None)
        dg.materialize([stock, stock_plain_eager], instance=instance)
        _, cursor = requested(instance, cursor)

        assert not ingest(instance, "broken-2025-08-05")
        assert ingest(instance, "2025-09-05")
        keys, _ = requested(instance, cursor)
        assert dg.AssetKey("stock") in keys  # the valid snapshot is taken downstream
        assert dg.AssetKey("stock_plain_eager") not in keys  # what stalled before: the failed one counts as missing


def test_a_partition_never_ingested_still_holds_downstream_back():
    """Only failed partitions are let through: one that simply has not run yet is waited for."""
    with dg.instance_for_test() as instance:
        assert ingest(instance, "2025-07-05")
        _, cursor = requested(instance, None)
        dg.materialize([stock, stock_plain_eager], instance=instance)
        _, cursor = requested(instance, cursor)
        instance.add_dynamic_partitions("snapshots", ["2025-08-05"])  # registered, not yet run
        assert ingest(instance, "2025-09-05")
        keys, _ = requested(instance, cursor)
        assert dg.AssetKey("stock") not in keys


def test_the_dbt_assets_downstream_of_ingest_use_it():
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    downstream = {key for ingest_key in (dg.AssetKey("udi_snapshot"), dg.AssetKey("survey_wave"))
                  for key in graph.get(ingest_key).child_keys}
    assert downstream
    for key in downstream:
        condition = graph.get(key).automation_condition
        assert condition == eager_despite_failed_partitions(), key
