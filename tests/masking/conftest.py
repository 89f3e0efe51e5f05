"""Fixtures of the masking tests: one offline analyzer, valid identifiers, no network."""

from __future__ import annotations

import socket

import pytest

from masking import build_analyzer
from masking.checksums import luhn_check_digit, resident_id_check_char, uscc_check_char


def valid_id(body17: str) -> str:
    """A resident ID with the right check character."""
    return body17 + resident_id_check_char(body17)


def wrong_check(value: str) -> str:
    """``value`` with its last character replaced by a wrong one (for ID-shaped negatives)."""
    return value[:-1] + ("0" if value[-1] != "0" else "1")


def valid_card(body: str) -> str:
    """A bank card number passing Luhn."""
    return body + luhn_check_digit(body)


def valid_uscc(body17: str) -> str:
    """A unified social credit code with the right check character."""
    return body17 + uscc_check_char(body17)


ID_A = valid_id("11010519491231002")  # 11010519491231002X
ID_B = valid_id("51010419850612345")
CARD = valid_card("622202123456789012")
USCC = valid_uscc("91510100MA6CXX8B0")


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("masking must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("masking-cache")


@pytest.fixture(scope="session")
def analyzer(cache_dir):
    return build_analyzer(cache_dir=cache_dir)
