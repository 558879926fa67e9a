"""E-mail pseudonymisation: normalisation, keyed hash, keyed Bloom encoding and its Dice similarity."""
from __future__ import annotations

import pandas as pd
import pytest

from panel_ingest.pseudonymise import (
    BLOOM_BITS, dice, email_bloom, email_hash, normalise_email, redact_stray_emails, replace_email_column,
)

KEY = b"key-one"
OTHER_KEY = b"key-two"


@pytest.mark.parametrize("typed, normal", [
    ("  Anna.K@Example.COM ", "anna.k@example.com"),
    ("anna.k @example.com", "anna.k@example.com"),
    ("anna.k@example.com.", "anna.k@example.com"),
    ("anna.k@example.com..", "anna.k@example.com"),
    ("ANNA.K@EXAMPLE.COM", "anna.k@example.com"),
    ("   ", None),
    ("", None),
    (None, None),
])
def test_normalise_email(typed, normal):
    assert normalise_email(typed) == normal


def test_same_key_same_hash_for_every_typing_of_one_address():
    hashes = {email_hash(a, KEY) for a in ["Anna.K@example.com", " anna.k@example.com.", "anna.k @Example.com"]}
    assert len(hashes) == 1
    (value,) = hashes
    assert len(value) == 64 and int(value, 16) >= 0


def test_different_key_different_hash():
    assert email_hash("anna.k@example.com", KEY) != email_hash("anna.k@example.com", OTHER_KEY)
    assert email_bloom("anna.k@example.com", KEY) != email_bloom("anna.k@example.com", OTHER_KEY)


def test_no_address_gives_no_hash_or_bloom():
    assert email_hash("  ", KEY) is None and email_bloom(None, KEY) is None


def test_bloom_is_a_bit_string_of_fixed_length():
    bloom = email_bloom("anna.k@example.com", KEY)
    assert len(bloom) == BLOOM_BITS and set(bloom) <= {"0", "1"} and "1" in bloom


def test_dice_is_high_for_a_typo_and_low_for_an_unrelated_address():
    original = email_bloom("olena.petrenko@gmail.com", KEY)
    typo = email_bloom("olena.petrenko@gmial.com", KEY)
    unrelated = email_bloom("ivan.sydorenko@ukr.net", KEY)
    assert dice(original, original) == 1.0
    assert dice(original, typo) > 0.8
    assert dice(original, unrelated) < 0.5


def test_replace_email_column_keeps_position_and_drops_the_address():
    frame = pd.DataFrame({"id": ["1", "2"], "epost": ["A@b.no", None], "samtykke": ["1", "0"]}, dtype=object)
    out = replace_email_column(frame, "epost", KEY)
    assert list(out.columns) == ["id", "email_hash", "email_bloom", "samtykke"]
    assert out.loc[0, "email_hash"] == email_hash("a@b.no", KEY)
    assert out.loc[1, "email_hash"] is None
    assert "A@b.no" not in out.to_csv()


def test_stray_addresses_in_other_columns_are_replaced_by_their_hash():
    frame = pd.DataFrame({"kommune": ["Oslo", "me@here.no"]}, dtype=object)
    out = redact_stray_emails(frame, KEY)
    assert out.loc[0, "kommune"] == "Oslo"
    assert out.loc[1, "kommune"] == f"email_hash:{email_hash('me@here.no', KEY)}"


def test_bloom_sets_the_bits_of_every_padded_bigram_under_the_key():
    """The encoding itself, computed here from its definition (keyed SHA-256 per padded bigram, double hashing
    into 10 of 1024 positions), so a faster implementation cannot change what earlier releases stored."""
    import hashlib
    import hmac

    for address, key in (("Olena.Petrenko@gmail.com ", KEY), ("olena.petrenko@gmail.com", OTHER_KEY),
                         ("ivan@ukr.net", KEY)):
        padded = f"_{address.strip().lower()}_"
        ones = set()
        for i in range(len(padded) - 1):
            digest = hmac.new(key, f"bloom|{padded[i:i + 2]}".encode(), hashlib.sha256).digest()
            first, step = int.from_bytes(digest[:8], "big"), int.from_bytes(digest[8:16], "big") | 1
            ones |= {(first + k * step) % BLOOM_BITS for k in range(10)}
        expected = "".join("1" if i in ones else "0" for i in range(BLOOM_BITS))
        assert email_bloom(address, key) == expected


def test_no_address_fragment_outlives_the_column_it_was_read_from():
    from panel_ingest.pseudonymise import _bigram_bits

    frame = pd.DataFrame({"id": [1, 2], "epost": ["olena@ukr.net", "ivan@gmail.com"]})
    replace_email_column(frame, "epost", KEY)
    assert _bigram_bits.cache_info().currsize == 0
