"""The dbt project as Dagster assets: every seed and model is an asset, every dbt test an asset check.

Two ops over one project, because the Python assets `person_links` and `survey_weights` sit between
them: `tag:harmonise` (seeds + staging) before linkage, `tag:analysis` (intermediate, marts, release)
after it. `dbt build` runs each model's tests right after it, so an error-severity test stops
everything downstream.
"""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration import warm_imports
from orchestration.defs.automation import eager_despite_failed_partitions
from orchestration.defs.dbt_project import DescribedChecksTranslator, dbt_project, ensure_manifest
from orchestration.defs.resources import NO_JSON_ARTEFACTS, build_profiles_dir, dbt_target_dir, share_partial_parse

POOL = "duckdb_build"

# Where a dbt source comes from when its YAML carries no `meta.dagster.asset_key`:
# (source schema, table-name prefix) -> the Python asset that writes it.
SOURCE_WRITERS: dict[tuple[str, str], str] = {
    ("raw", "survey_"): "survey_wave",
    ("raw", "udi_"): "udi_snapshot",
    ("audit", ""): "survey_wave",
    ("linkage", "truth_"): "linkage_truth",
    ("linkage", ""): "person_links",
    ("weights", ""): "survey_weights",
}


class PanelDbtTranslator(DescribedChecksTranslator):
    """Maps dbt nodes onto the panel's asset graph."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        """A model or seed is `[schema, relation]` as analysts query it (`marts/exit_reasons`, `release/attrition`);
        a source becomes the Python asset that writes it."""
        key = super().get_asset_key(dbt_resource_props)
        if _has_meta_key(dbt_resource_props):
            return key
        if dbt_resource_props["resource_type"] != "source":
            relation = dbt_resource_props.get("alias") or dbt_resource_props["name"]
            return dg.AssetKey([dbt_resource_props["schema"], relation])
        schema = dbt_resource_props.get("schema") or dbt_resource_props["source_name"]
        for (writer_schema, prefix), asset_name in SOURCE_WRITERS.items():
            if schema == writer_schema and dbt_resource_props["name"].startswith(prefix):
                return dg.AssetKey(asset_name)
        return key

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        """Group by stage (`harmonise` or `analysis`), the tag that also picks the op."""
        tags = dbt_resource_props.get("tags", [])
        return "harmonise" if "harmonise" in tags else "analysis"

    def get_automation_condition(self, dbt_resource_props: Mapping[str, Any]) -> dg.AutomationCondition | None:
        """Eager: rebuilt as soon as an upstream asset changed and none is missing (a failed ingest partition,
        held back, does not count) or in progress."""
        return eager_despite_failed_partitions()


def _has_meta_key(dbt_resource_props: Mapping[str, Any]) -> bool:
    meta = dbt_resource_props.get("config", {}).get("meta", {}) or dbt_resource_props.get("meta", {})
    return bool((meta or {}).get("dagster", {}).get("asset_key"))


translator = PanelDbtTranslator(
    settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_duplicate_source_asset_keys=True)
)
MANIFEST = ensure_manifest()


UNIT_TESTS_ENV = "PANEL_DBT_UNIT_TESTS"


def build_args(environ: Mapping[str, str] | None = None) -> list[str]:
    """`dbt build` without the unit tests, unless `PANEL_DBT_UNIT_TESTS` is set: unit tests check the models'
    logic on fixed inputs, so they belong to development and CI (`make test` sets it), not to every
    production refresh, where they cost a third of dbt's time. Data tests always run. No JSON artefacts."""
    environ = os.environ if environ is None else environ
    if environ.get(UNIT_TESTS_ENV, "").strip().lower() not in ("", "0", "false", "no"):
        return ["build", NO_JSON_ARTEFACTS]
    return ["build", NO_JSON_ARTEFACTS, "--exclude-resource-type", "unit_test"]


def _build(context: AssetExecutionContext, dbt: DbtCliResource, stage: str):
    """`dbt build` of the selected nodes against the build file; events become materialisations and checks."""
    target = Path(dbt_target_dir()) / stage
    share_partial_parse(target)
    here = dbt.model_copy(update={"profiles_dir": str(build_profiles_dir())})
    invocation = here.cli(build_args(), context=context, target_path=target)
    warm_imports.import_requested()  # a refresh's later imports, while dbt works (orchestration.warm_imports)
    yield from invocation.stream()


@dbt_assets(
    manifest=MANIFEST,
    select="tag:harmonise",
    name="dbt_harmonise",
    project=dbt_project,
    dagster_dbt_translator=translator,
    pool=POOL,
)
def dbt_harmonise(context: AssetExecutionContext, dbt: DbtCliResource):
    """Reference and codebook seeds, then staging views harmonising every wave and UDI snapshot."""
    yield from _build(context, dbt, "harmonise")


@dbt_assets(
    manifest=MANIFEST,
    select="tag:analysis",
    name="dbt_analysis",
    project=dbt_project,
    dagster_dbt_translator=translator,
    pool=POOL,
)
def dbt_analysis(context: AssetExecutionContext, dbt: DbtCliResource):
    """Intermediate tables, contract marts and suppressed release tables."""
    yield from _build(context, dbt, "analysis")


def mart_keys() -> list[dg.AssetKey]:
    """Every `marts` and `release` table: what the published warehouse is made of."""
    return sorted(
        (key for key in dbt_analysis.keys if key.path[0] in ("marts", "release")),
        key=lambda key: key.to_user_string(),
    )
