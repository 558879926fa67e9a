"""The key that pseudonymises e-mail addresses. It never enters the warehouse or git."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

KEY_FILE_NAME = ".hmac_key"


class MissingHmacKeyError(RuntimeError):
    """Raised when no pseudonymisation key is configured."""


def key_file(data_dir: Path) -> Path:
    return data_dir / KEY_FILE_NAME


def load_hmac_key(data_dir: Path) -> bytes:
    """`PANEL_HMAC_KEY` if set, else the local key file `make demo` creates, else a clear error."""
    value = os.environ.get("PANEL_HMAC_KEY", "").strip()
    if value:
        return value.encode("utf-8")
    path = key_file(data_dir)
    if path.exists():
        return path.read_text(encoding="utf-8").strip().encode("utf-8")
    raise MissingHmacKeyError(
        "No pseudonymisation key: set PANEL_HMAC_KEY to the project's secret key (the same key for "
        f"every refresh, or person links break), or create {path} (make demo does this for synthetic data)."
    )


def ensure_local_key(data_dir: Path) -> Path:
    """Create a random key file for local/synthetic use if none exists; returns its path."""
    path = key_file(data_dir)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32), encoding="utf-8")
        path.chmod(0o600)
    return path
