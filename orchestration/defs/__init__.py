"""Dagster definitions of the panel warehouse, split by domain (see `orchestration.definitions`)."""
