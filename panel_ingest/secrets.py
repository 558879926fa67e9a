"""The key that pseudonymises e-mail addresses. It never enters the warehouse, git, or the data root.

A key beside the keyed hashes it protects would let anyone holding a copy of the data root test guessed
addresses against them, so a key file is looked for outside the data root only:

1. `PANEL_HMAC_KEY`: the key itself (real data: from the project's secret store);
2. `PANEL_HMAC_KEY_FILE`: a file holding it (anywhere outside `$PANEL_DATA_DIR`);
3. the local key `make demo` creates for synthetic data, in the user's configuration folder
   (`$XDG_CONFIG_HOME/ukraine-panel/keys/<data-root id>/hmac_key`, default `~/.config/...`), one per data
   root so two demo data roots never share a key by accident.

A key file found inside the data root (e.g. the `.hmac_key` older versions wrote there) is refused with
the command that moves it. No message ever contains the key.
"""
from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from pathlib import Path

KEY_ENV = "PANEL_HMAC_KEY"
KEY_FILE_ENV = "PANEL_HMAC_KEY_FILE"
LEGACY_KEY_FILE_NAME = ".hmac_key"  # where versions before the key left the data root kept it
CONFIG_FOLDER_NAME = "ukraine-panel"


class MissingHmacKeyError(RuntimeError):
    """Raised when no pseudonymisation key is configured."""


class KeyInsideDataRootError(RuntimeError):
    """Raised when a key file sits inside the data root it protects."""


def config_dir() -> Path:
    """The user's configuration folder for this project (`$XDG_CONFIG_HOME` or `~/.config`)."""
    base = os.environ.get("XDG_CONFIG_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".config") / CONFIG_FOLDER_NAME


def key_file(data_dir: Path) -> Path:
    """The local key file of `data_dir`, outside it: one folder per data root, named by a hash of its path."""
    root = Path(data_dir).resolve()
    root_id = hashlib.sha256(str(root).encode("utf-8")).hexdigest()[:16]
    return config_dir() / "keys" / root_id / "hmac_key"


def _inside(path: Path, folder: Path) -> bool:
    return Path(path).resolve().is_relative_to(Path(folder).resolve())


def refuse_key_inside(data_dir: Path) -> None:
    """Stop if a key file lies inside the data root, saying how to move it out."""
    candidates = [Path(data_dir) / LEGACY_KEY_FILE_NAME]
    configured = os.environ.get(KEY_FILE_ENV, "").strip()
    if configured:
        candidates.append(Path(configured))
    for path in candidates:
        if path.exists() and _inside(path, data_dir):
            target = key_file(data_dir)
            raise KeyInsideDataRootError(
                f"the key file {path} lies inside the data root {Path(data_dir).resolve()}, beside the keyed hashes "
                f"it protects. Move it out, e.g.: mkdir -p {target.parent} && mv {path} {target} "
                f"(then unset {KEY_FILE_ENV} or point it there), or keep the key in {KEY_ENV}."
            )


def load_hmac_key(data_dir: Path) -> bytes:
    """`PANEL_HMAC_KEY`, else `PANEL_HMAC_KEY_FILE`, else the data root's local key file, else a clear error."""
    refuse_key_inside(data_dir)
    value = os.environ.get(KEY_ENV, "").strip()
    if value:
        return value.encode("utf-8")
    configured = os.environ.get(KEY_FILE_ENV, "").strip()
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise MissingHmacKeyError(f"{KEY_FILE_ENV} names {path}, which is not a file")
        return _read_key(path)
    path = key_file(data_dir)
    if path.exists():
        return _read_key(path)
    raise MissingHmacKeyError(
        f"No pseudonymisation key: set {KEY_ENV} to the project's secret key, or {KEY_FILE_ENV} to a file "
        f"holding it outside the data root (the same key for every refresh, or person links break). For "
        f"synthetic data, `make demo` creates a random key in {path}."
    )


def _read_key(path: Path) -> bytes:
    key = path.read_text(encoding="utf-8").strip()
    if not key:
        raise MissingHmacKeyError(f"the key file {path} is empty")
    return key.encode("utf-8")


def ensure_local_key(data_dir: Path) -> Path:
    """For synthetic data: create a random key for `data_dir` in the user's configuration folder if none exists.

    A key an older `make demo` left inside the data root is moved out (it only ever keyed synthetic data).
    """
    path = key_file(data_dir)
    legacy = Path(data_dir) / LEGACY_KEY_FILE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    (path.parent / "data_root.txt").write_text(f"{Path(data_dir).resolve()}\n", encoding="utf-8")
    if legacy.exists() and not path.exists():
        shutil.move(legacy, path)
        print(f"moved the local key out of the data root to {path}")
    elif not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_hex(32))
    path.chmod(0o600)
    return path


def main() -> int:
    """`python -m panel_ingest.secrets`: create the demo key for `$PANEL_DATA_DIR` (make demo)."""
    from panel_ingest.paths import data_dir

    print(f"local key for synthetic data: {ensure_local_key(data_dir())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
