"""E-mail pseudonymisation: the clear address never leaves memory.

`email_hash` (keyed HMAC-SHA256) supports exact matching across waves; `email_bloom` (a keyed Bloom filter of
the address's padded character bigrams) supports fuzzy matching of typos such as `gmial.com` by Dice
similarity, without storing the address.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import re

import pandas as pd

BLOOM_BITS = 1024
BLOOM_HASHES_PER_BIGRAM = 10
PAD = "_"
# Anything that looks like an address in a column that should not hold one (e.g. typed into a free-text field).
EMAIL_LIKE = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")
# An e-mail cell must hold one address (one `@` with text either side, once normalised): junk such as
# `ingen` or two addresses would otherwise hash to a key shared by unrelated people, a false link.
ONE_ADDRESS = re.compile(r"^[^@]+@[^@]+$")
NOT_AN_ADDRESS = "not_an_address"
HASH_COLUMN = "email_hash"
BLOOM_COLUMN = "email_bloom"


def normalise_email(address: str | None) -> str | None:
    """Strip, drop all whitespace, lowercase, strip trailing dots; empty -> None."""
    if address is None:
        return None
    text = re.sub(r"\s+", "", str(address)).lower().rstrip(".")
    return text or None


def email_hash(address: str | None, key: bytes) -> str | None:
    """HMAC-SHA256 hex digest of the normalised address; None when there is no address."""
    normalised = normalise_email(address)
    if normalised is None:
        return None
    return hmac.new(key, normalised.encode("utf-8"), hashlib.sha256).hexdigest()


def _bigrams(text: str) -> list[str]:
    padded = f"{PAD}{text}{PAD}"
    return [padded[i:i + 2] for i in range(len(padded) - 1)]


@functools.lru_cache(maxsize=1 << 16)
def _bigram_bits(bigram: str, key: bytes) -> int:
    """The bigram's Bloom positions as the set bits of an int (bit i = position i).

    Double hashing from one keyed digest; "bloom|" separates this use of the key from email_hash. Cached:
    each address has ~25 bigrams, but a whole wave's addresses share a few thousand distinct ones, so each
    is hashed once per key rather than once per address (this HMAC was half of a wave's ingest)."""
    digest = hmac.new(key, f"bloom|{bigram}".encode("utf-8"), hashlib.sha256).digest()
    first = int.from_bytes(digest[:8], "big")
    step = int.from_bytes(digest[8:16], "big") | 1
    bits = 0
    for i in range(BLOOM_HASHES_PER_BIGRAM):
        bits |= 1 << ((first + i * step) % BLOOM_BITS)
    return bits


def email_bloom(address: str | None, key: bytes) -> str | None:
    """Keyed Bloom encoding (1024 `0`/`1` characters, castable to DuckDB BIT); None when no address."""
    normalised = normalise_email(address)
    if normalised is None:
        return None
    bits = 0
    for bigram in _bigrams(normalised):
        bits |= _bigram_bits(bigram, key)
    return format(bits, f"0{BLOOM_BITS}b")[::-1]  # character i is bit i


def dice(a: str, b: str) -> float:
    """Dice similarity of two Bloom encodings: 2|A and B| / (|A| + |B|)."""
    ones_a = {i for i, c in enumerate(a) if c == "1"}
    ones_b = {i for i, c in enumerate(b) if c == "1"}
    total = len(ones_a) + len(ones_b)
    return 2 * len(ones_a & ones_b) / total if total else 0.0


def replace_email_column(frame: pd.DataFrame, column: str, key: bytes) -> pd.DataFrame:
    """A copy of `frame` with the clear `column` replaced by `email_hash` and `email_bloom` (in its place);
    a cell that is not one address gets NOT_AN_ADDRESS in both."""
    addresses = frame[column]
    out = frame.drop(columns=[column])
    position = list(frame.columns).index(column)
    one = [_is_one_address(a) for a in addresses]
    out.insert(position, HASH_COLUMN, [email_hash(a, key) if ok else NOT_AN_ADDRESS for a, ok in zip(addresses, one)])
    out.insert(position + 1, BLOOM_COLUMN, [email_bloom(a, key) if ok else NOT_AN_ADDRESS
                                            for a, ok in zip(addresses, one)])
    _bigram_bits.cache_clear()  # the file's address fragments and the key stay in memory only while it is read
    return out


def _is_one_address(address: str | None) -> bool:
    """True for a blank cell or one address; False for junk or several addresses (marked NOT_AN_ADDRESS,
    which fails validation so the cell is set missing with a reason)."""
    normalised = normalise_email(address)
    return normalised is None or ONE_ADDRESS.match(normalised) is not None


REDACTED = "address removed"


def redact_stray_emails(frame: pd.DataFrame, key: bytes | None, columns: list[str] | None = None) -> pd.DataFrame:
    """Replace every cell holding e-mail-like text (in any of `columns`, default all) by `email_hash:<hex>`
    (or by `address removed` without a key), so no address is ever stored, not even in a quarantined
    row's raw_record. The value then fails its column's checks (cell set missing or row kept out, with
    the hash, not the address, in the audit)."""
    out = frame.copy()
    for column in columns if columns is not None else list(out.columns):
        values = out[column]
        mask = values.map(lambda v: isinstance(v, str) and EMAIL_LIKE.search(v) is not None)
        if mask.any():
            out.loc[mask, column] = values[mask].map(
                lambda v: f"email_hash:{email_hash(v, key)}" if key else REDACTED)
    return out
