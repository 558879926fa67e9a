"""Privacy, for real: no e-mail address from the raw files appears anywhere the project writes, after a
successful and after a failed refresh.

The scan cannot be fooled by compression: DuckDB files are queried column by column through DuckDB (every
column of every type cast to text), Parquet through DuckDB, Stata/SPSS through pyreadstat, SQLite files
(Dagster's run and event storage) table by table through sqlite3; only plain files (logs, JSON alerts,
manifests, dbt artefacts) are read as text. Webhook payloads are caught by a local HTTP server.
"""
from __future__ import annotations

import http.server
import json
import re
import subprocess
import sys
import sqlite3
import threading
from pathlib import Path

import duckdb
import pandas as pd
import pyreadstat
import pytest

from conftest import PROJECT_ROOT as ROOT_DIR, REFRESH_TIMEOUT_SECONDS, panel_env

ADDRESS = re.compile(r"[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)+")
ADDRESS_SQL = r"[a-z0-9._%+\-]+@[a-z0-9\-]+(\.[a-z0-9\-]+)+"
SCALE, SEED = "0.2", "1"
UDI_FROM = "2025-07-05"  # a late UDI history (4 snapshot folders): UDI files hold no addresses, and it is quicker


def generate(data: Path, *options: str) -> None:
    """Synthetic raw files (`make generate`) with the generator's own options."""
    subprocess.run([sys.executable, "-m", "synthetic_panel", "--out", str(data / "raw"), *options], check=True,
                   cwd=ROOT_DIR, env=panel_env(data), capture_output=True)


def refresh_with_webhook(data: Path, webhook: str) -> subprocess.CompletedProcess:
    """`make refresh` on `data` (as conftest's refresh_subprocess) with alerts POSTed to `webhook`."""
    home = data / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_bytes((ROOT_DIR / "orchestration" / "dagster.yaml").read_bytes())
    env = {**panel_env(data), "PANEL_ALERT_WEBHOOK": webhook}
    return subprocess.run([sys.executable, "-m", "orchestration.refresh"], cwd=ROOT_DIR, text=True,
                          capture_output=True, env=env, timeout=REFRESH_TIMEOUT_SECONDS)


def raw_addresses(raw: Path) -> set[str]:
    """Every e-mail address in the raw files, read as their formats (CSV text, XLSX cells, SAV values)."""
    found: set[str] = set()
    for path in raw.rglob("*"):
        if not path.is_file():
            continue
        if path.suffix.lower() == ".xlsx":
            frames = pd.read_excel(path, sheet_name=None, dtype=str, header=None).values()
            texts = [frame.to_csv(index=False) for frame in frames]
        elif path.suffix.lower() == ".sav":
            frame, _ = pyreadstat.read_sav(str(path))
            texts = [frame.astype(str).to_csv(index=False)]
        else:
            texts = [path.read_bytes().decode("utf-8", errors="replace")]
        for text in texts:
            found |= set(ADDRESS.findall(text.lower()))
    return found


def duckdb_addresses(path: Path) -> set[str]:
    """Address-like strings in every column of every table of a DuckDB file, queried through DuckDB."""
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"attach '{path}' as scanned (read_only)")
        tables = con.execute("select schema_name, table_name from duckdb_tables() where database_name = 'scanned'").fetchall()
        found: set[str] = set()
        for schema, table in tables:
            columns = [c for (c,) in con.execute(
                "select column_name from duckdb_columns() where database_name = 'scanned' and schema_name = ? "
                "and table_name = ?", [schema, table]).fetchall()]
            for column in columns:
                rows = con.execute(
                    f"select distinct unnest(regexp_extract_all(lower(cast(\"{column}\" as varchar)), '{ADDRESS_SQL}')) "
                    f"from scanned.\"{schema}\".\"{table}\"").fetchall()
                found |= {value for (value,) in rows}
        return found
    finally:
        con.close()


def parquet_addresses(path: Path) -> set[str]:
    con = duckdb.connect(":memory:")
    try:
        columns = [row[0] for row in con.execute(f"describe select * from read_parquet('{path}')").fetchall()]
        found: set[str] = set()
        for column in columns:
            found |= {v for (v,) in con.execute(
                f"select distinct unnest(regexp_extract_all(lower(cast(\"{column}\" as varchar)), '{ADDRESS_SQL}')) "
                f"from read_parquet('{path}')").fetchall()}
        return found
    finally:
        con.close()


def sqlite_addresses(path: Path) -> set[str]:
    """Every column of every table of a SQLite file (Dagster's storage), as text."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        found: set[str] = set()
        tables = [t for (t,) in con.execute("select name from sqlite_master where type = 'table'")]
        for table in tables:
            for row in con.execute(f'select * from "{table}"'):
                for value in row:
                    if value is not None:
                        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
                        found |= set(ADDRESS.findall(text.lower()))
        return found
    finally:
        con.close()


def file_addresses(path: Path) -> set[str]:
    head = path.read_bytes()[:16]
    if head.startswith(b"SQLite format 3"):
        return sqlite_addresses(path)
    if path.suffix == ".duckdb" or head[8:12] == b"DUCK":
        return duckdb_addresses(path)
    if path.suffix == ".parquet":
        return parquet_addresses(path)
    if path.suffix in (".dta", ".sav"):
        reader = pyreadstat.read_dta if path.suffix == ".dta" else pyreadstat.read_sav
        frame, meta = reader(str(path))
        text = frame.astype(str).to_csv(index=False) + json.dumps(meta.column_labels, default=str)
        return set(ADDRESS.findall(text.lower()))
    if path.suffix == ".wal" or path.name.endswith(".duckdb.wal"):
        return set()  # folded into its database file by the checkpoint before anyone reads it; none left over
    return set(ADDRESS.findall(path.read_bytes().decode("utf-8", errors="replace").lower()))


def leaks(data_dir: Path, addresses: set[str], texts: list[str]) -> dict[str, set[str]]:
    """Raw addresses found outside raw/: per file (or per captured text), the addresses found."""
    found: dict[str, set[str]] = {}
    for path in sorted(data_dir.rglob("*")):
        if not path.is_file() or path.is_relative_to(data_dir / "raw"):
            continue
        hit = file_addresses(path) & addresses
        if hit:
            found[str(path)] = hit
    for number, text in enumerate(texts):
        hit = set(ADDRESS.findall(text.lower())) & addresses
        if hit:
            found[f"captured text {number}"] = hit
    return found


class WebhookCatcher(http.server.BaseHTTPRequestHandler):
    payloads: list[str] = []

    def do_POST(self):  # noqa: N802 - the http.server API
        length = int(self.headers.get("Content-Length", 0))
        WebhookCatcher.payloads.append(self.rfile.read(length).decode("utf-8", errors="replace"))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), WebhookCatcher)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    WebhookCatcher.payloads = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/alert", WebhookCatcher.payloads
    finally:
        server.shutdown()


def break_a_wave(raw: Path) -> Path:
    """A new wave folder whose responses file holds real addresses but misses the expected header."""
    source = raw / "survey" / "w1_2022" / "responses.csv"
    broken = raw / "survey" / "w9_2031" / "responses.csv"
    broken.parent.mkdir(parents=True)
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    broken.write_text("not_a_column;" + lines[0] + "".join(lines[1:]), encoding="utf-8")
    return broken


def test_no_address_from_the_raw_files_is_anywhere_the_project_writes(tmp_path, webhook):
    url, payloads = webhook
    data = tmp_path / "data"
    generate(data, "--scale", SCALE, "--seed", SEED, "--udi-from", UDI_FROM)
    addresses = raw_addresses(data / "raw")
    assert len(addresses) > 100, "the raw files should hold many addresses for the scan to mean something"

    ok = refresh_with_webhook(data, url)
    assert ok.returncode == 0, ok.stdout[-3000:] + ok.stderr[-3000:]
    scanned = [p for p in data.rglob("*") if p.is_file() and not p.is_relative_to(data / "raw")]
    assert any(p.suffix == ".parquet" for p in scanned) and any(p.suffix == ".sav" for p in scanned)
    assert any(p.name.endswith(".db") for p in (data / "dagster_home").rglob("*"))  # Dagster's SQLite storage
    assert leaks(data, addresses, [ok.stdout, ok.stderr]) == {}

    break_a_wave(data / "raw")
    failed = refresh_with_webhook(data, url)
    # a broken partition is held back and the rest published (3), with an alert and a webhook post
    assert failed.returncode in (1, 3), failed.stdout[-3000:] + failed.stderr[-3000:]
    assert list((data / "alerts").glob("*.json")), "the failed refresh must leave an alert record"
    assert len(payloads) == 1 and json.loads(payloads[0])["alert"] in ("refresh_failed", "partitions_held_back")
    assert leaks(data, addresses, [failed.stdout, failed.stderr, *payloads]) == {}


def test_the_scan_finds_an_address_hidden_in_a_compressed_column(tmp_path):
    """The scan reads through DuckDB's compression: an address in a dictionary-compressed column is found."""
    path = tmp_path / "leaky.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema audit")
    con.execute("create table audit.notes as select case when range % 1000 = 7 then 'Olena.K@example.org' "
                "else 'same text' end as note, [range] as numbers from range(200000)")
    con.close()
    assert file_addresses(path) == {"olena.k@example.org"}
    sqlite_path = tmp_path / "events.db"
    sqlite = sqlite3.connect(sqlite_path)
    sqlite.execute("create table event_logs (event text)")
    sqlite.execute("insert into event_logs values (?)", ['{"message": "row 3: olena.k@example.org"}'])
    sqlite.commit()
    sqlite.close()
    assert file_addresses(sqlite_path) == {"olena.k@example.org"}
