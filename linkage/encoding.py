"""Keyed e-mail encodings as docs/architecture.md defines them, and the Dice similarity linkage uses.

Ingest (`panel_ingest.pseudonymise`) is the producer in the pipeline; these functions let the linkage
tests and the benchmark build staging-shaped data without a pipeline, with the same encoding rules:
HMAC-SHA256 hash of the normalised address, and a 1024-bit keyed Bloom filter of its padded bigrams
with 10 keyed positions per bigram, stored as a `0`/`1` string.
"""
from __future__ import annotations

import hashlib
import hmac
import re

BLOOM_BITS = 1024
POSITIONS_PER_BIGRAM = 10
_WHITESPACE = re.compile(r"\s+")


def normalise_email(address: str | None) -> str | None:
    """Strip, remove whitespace, lowercase, strip trailing dots; empty -> None."""
    if address is None:
        return None
    cleaned = _WHITESPACE.sub("", address).lower().rstrip(".")
    return cleaned or None


def email_hash(key: bytes, address: str | None) -> str | None:
    """HMAC-SHA256 hex digest of the normalised address (None when no address)."""
    normalised = normalise_email(address)
    return None if normalised is None else hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()


def _bigrams(text: str) -> set[str]:
    padded = f"_{text}_"
    return {padded[i:i + 2] for i in range(len(padded) - 1)}


def email_bloom(key: bytes, address: str | None) -> str | None:
    """Keyed Bloom filter of the padded bigrams of the normalised address, as a 0/1 string."""
    normalised = normalise_email(address)
    if normalised is None:
        return None
    bits = bytearray(b"0" * BLOOM_BITS)
    for bigram in _bigrams(normalised):
        digest = hmac.new(key, bigram.encode(), hashlib.sha256).digest()
        first, step = int.from_bytes(digest[:8], "big"), int.from_bytes(digest[8:16], "big") | 1
        for i in range(POSITIONS_PER_BIGRAM):
            bits[(first + i * step) % BLOOM_BITS] = ord("1")
    return bits.decode()


def dice_similarity(bloom_a: str | None, bloom_b: str | None) -> float | None:
    """Dice coefficient of two Bloom encodings: 2|A & B| / (|A| + |B|); None if either is missing."""
    if not bloom_a or not bloom_b:
        return None
    a, b = int(bloom_a, 2), int(bloom_b, 2)
    ones = a.bit_count() + b.bit_count()
    return 0.0 if ones == 0 else 2 * (a & b).bit_count() / ones
