"""Dice similarity of the keyed e-mail Bloom encodings that ingest writes.

The encodings themselves (HMAC hash, keyed Bloom filter of padded bigrams) come from
`panel_ingest.pseudonymise`, the one place that defines them; linkage only compares them.
"""
from __future__ import annotations

from panel_ingest.pseudonymise import dice


def dice_similarity(bloom_a: str | None, bloom_b: str | None) -> float | None:
    """Dice coefficient of two Bloom encodings: 2|A & B| / (|A| + |B|); None if either is missing."""
    if not bloom_a or not bloom_b:
        return None
    return dice(bloom_a, bloom_b)
