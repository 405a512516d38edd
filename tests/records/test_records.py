"""Page codes: what the QR code on every printed page says, and what the reader accepts."""

from __future__ import annotations

import pytest

from pipeline.records.page_code import PageIdentity, format_page_code, parse_page_code, version_fingerprint

HASH = "9f2c4e01d5b3a7c8" + "0" * 48


def test_page_code_round_trip_carries_the_version_fingerprint() -> None:
    fp = version_fingerprint(HASH)
    assert fp == "9f2c4e01"
    for serial in ("000123", None):
        ident = PageIdentity("lesko-f1", 2, 1, serial, fp)
        payload = format_page_code(ident)
        assert payload == f"ANK1/lesko-f1/2/1/{serial or '-'}/9f2c4e01"
        assert parse_page_code(payload) == ident


@pytest.mark.parametrize("payload", [
    "ANK1/lesko-f1/1/1/000123",                 # no fingerprint (would be read against any workspace's v1)
    "ANK1/lesko-f1/1/1/000123/9F2C4E01",        # not our lowercase hex
    "ANK1/lesko-f1/1/1/000123/9f2c",            # too short
    "ANK1/lesko-f1/x/1/000123/9f2c4e01",
    "ANK2/lesko-f1/1/1/000123/9f2c4e01",
    "https://example.org/lesko-f1/1/1/000123/9f2c4e01",
    "",
])
def test_other_payloads_are_not_page_codes(payload: str) -> None:
    assert parse_page_code(payload) is None
