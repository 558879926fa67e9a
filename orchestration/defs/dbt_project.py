"""The one dbt project, with its manifest kept in step with the model files."""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject
from dagster._utils import run_with_concurrent_update_guard

from orchestration.defs.owners import ANALYSIS, DBT_GROUP_OWNERS
from panel_ingest.paths import DBT_PROJECT_DIR, dbt_executable, dbt_project_files


dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, target_path=Path("target"))


def manifest_is_stale(project: DbtProject = dbt_project) -> bool:
    """True when there is no manifest or a project file changed after it was written."""
    manifest = project.manifest_path
    if not manifest.exists():
        return True
    written = manifest.stat().st_mtime
    return any(path.stat().st_mtime > written for path in dbt_project_files(Path(project.project_dir)))


def ensure_manifest(project: DbtProject = dbt_project) -> Path:
    """Run `dbt parse` when the manifest is missing or stale; returns the manifest path."""
    if manifest_is_stale(project):
        run_with_concurrent_update_guard(project.manifest_path, _parse, project=project)
    return project.manifest_path


def _parse(project: DbtProject) -> None:
    cli = DbtCliResource(project_dir=project, dbt_executable=dbt_executable())
    cli.cli(["parse", "--quiet"], target_path=project.target_path).wait()


class DescribedChecksTranslator(DagsterDbtTranslator):
    """Owners for every dbt asset, and a readable description for every dbt test shown as an asset check.

    Dagster's default takes a check's description only from the test's `meta.description`, so most
    checks read "No description provided" under a long generated name.
    """

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> Sequence[str] | None:
        """`meta.owner` when a node sets one, else the team of its stage."""
        owner = (dbt_resource_props.get("config", {}).get("meta") or {}).get("owner")
        if owner:
            return [owner]
        return DBT_GROUP_OWNERS.get(self.get_group_name(dbt_resource_props) or "", [ANALYSIS])

    def get_asset_check_spec(self, asset_spec: dg.AssetSpec, manifest: Mapping[str, Any], unique_id: str,
                             project: DbtProject | None) -> dg.AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        return spec._replace(description=test_description(manifest["nodes"][unique_id]))


def test_description(test: Mapping[str, Any]) -> str:
    """The test's yml `description`, else its SQL file's leading comment, else one generated from its arguments."""
    if (test.get("description") or "").strip():
        return " ".join(test["description"].split())
    metadata = test.get("test_metadata") or {}
    if not metadata:
        return _leading_comment(test.get("raw_code") or "") or f"Singular test {test['name']}: returns no rows."
    return generic_test_description(metadata.get("name", ""), metadata.get("kwargs") or {},
                                    (test.get("config") or {}).get("severity") or "error")


def generic_test_description(name: str, kwargs: Mapping[str, Any], severity: str = "error") -> str:
    """A sentence for a generic test from its name and arguments (`accepted_values` on `scale` -> what it allows)."""
    arguments = {**kwargs, **(kwargs.get("arguments") or {})}
    column = arguments.get("column_name")
    subject = f"`{column}`" if column else "Every row"
    templates = {
        "not_null": lambda: f"{subject} is never NULL.",
        "unique": lambda: f"{subject} is unique.",
        "accepted_values": lambda: f"{subject} only takes the values {', '.join(map(str, arguments.get('values', [])))}.",
        "relationships": lambda: f"{subject} exists in {_ref_name(arguments.get('to', ''))}.{arguments.get('field', '')}.",
        "unique_combination_of_columns": lambda: "One row per " + ", ".join(arguments.get("combination_of_columns", [])) + ".",
        "expression_is_true": lambda: f"Every row satisfies: {arguments.get('expression', '')}.",
        "release_no_small_cells": lambda: f"{subject} is NULL (suppressed) or at least PANEL_MIN_CELL: no small cell is published.",
        "analysis_shares_sum_to_one": lambda: f"{subject} sums to 1 within each " + ", ".join(arguments.get("group_by", [])) + ".",
        "analysis_adds_up_to_base": lambda: (f"{subject} adds up, per " + ", ".join(arguments.get("group_by", []))
                                             + f", to the base counted in {_ref_name(str(arguments.get('base', '')))}."),
        "analysis_subgroups_add_up": lambda: ("The values of every subgroup add up to the `all` row in "
                                              + ", ".join(arguments.get("count_columns", [])) + ", per "
                                              + ", ".join(arguments.get("keys", [])) + "."),
    }
    text = templates[name]() if name in templates else (
        f"{name.replace('_', ' ').capitalize()}" + (f" on `{column}`" if column else "")
        + "".join(f"; {key}: {_plain(value)}" for key, value in arguments.items() if key not in ("model", "column_name"))
        + ".")
    return text + ("" if severity.lower() == "error" else " (warning, does not block)")


def _ref_name(ref: str) -> str:
    match = re.search(r"ref\(['\"]([^'\"]+)['\"]\)", ref)
    return match.group(1) if match else ref


def _plain(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return _ref_name(str(value))


def _leading_comment(sql: str) -> str:
    """The first `{#- ... -#}` comment that is not about how the test is attached."""
    for comment in re.findall(r"\{#-?(.*?)-?#\}", sql, flags=re.S):
        text = " ".join(comment.split())
        if text and not text.lower().startswith("attached to"):
            return text
    return ""
