"""Assets: ingest partitions, dbt, linkage, weights, quality checks, publication."""
