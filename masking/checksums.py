"""Check characters of Chinese identifiers (pure functions, no I/O).

Used both to validate detected values (a failed checksum is not a match) and to generate valid
test and demo data.

>>> resident_id_check_char("11010519491231002")
'X'
>>> is_valid_resident_id("11010519491231002X")
True
"""

from __future__ import annotations

import datetime as _dt
import functools
from operator import mul

__all__ = [
    "is_valid_org_code",
    "resident_id_check_char",
    "is_valid_resident_id",
    "uscc_check_char",
    "is_valid_uscc",
    "is_credit_code",
    "luhn_check_digit",
    "is_valid_luhn",
    "USCC_ALPHABET",
]

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def resident_id_check_char(first17: str) -> str:
    """Return the GB 11643 check character for the first 17 digits.

    Raises ValueError if ``first17`` is not exactly 17 ASCII digits.
    """
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("a resident ID body is 17 digits")
    return _ID_CHECK[sum(map(mul, map(int, first17), _ID_WEIGHTS)) % 11]


def is_valid_resident_id(value: str, *, today: _dt.date | None = None) -> bool:
    """True when ``value`` is an 18-character resident ID with a valid check character,
    a plausible area code and a real birth date not in the future."""
    born = _birth_date_if_checked(value)
    return born is not None and _dt.date(1890, 1, 1) <= born <= (today or _dt.date.today())


@functools.lru_cache(maxsize=1024)
def _birth_date_if_checked(value: str) -> _dt.date | None:
    """The birth date of an ID whose shape, check character and area prefix are right, else
    None (cached: the same number is checked as an ID and as a would-be bank card)."""
    if len(value) != 18 or not value[:17].isascii() or not value[:17].isdigit():
        return None
    if value[17].upper() != resident_id_check_char(value[:17]):
        return None
    if value[0] not in "1234568" or value[:2] == "00":
        return None
    try:
        return _dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None


def uscc_check_char(first17: str) -> str:
    """Return the GB 32100 check character for the first 17 characters of a credit code.

    Raises ValueError if a character is outside the code's alphabet.
    """
    if len(first17) != 17:
        raise ValueError("a credit code body is 17 characters")
    try:
        total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS))
    except ValueError as exc:
        raise ValueError("character outside the credit-code alphabet") from exc
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(value: str) -> bool:
    """True when ``value`` is an 18-character unified social credit code with a valid check."""
    if len(value) != 18 or any(c not in USCC_ALPHABET for c in value):
        return False
    return value[17] == uscc_check_char(value[:17])


def is_credit_code(value: str) -> bool:
    """True when ``value`` is taken for a credit code: a valid GB 32100 check character (upper
    case as issued) and, for a code of digits only, a valid GB 11714 organization code in
    characters 9-17 too, so that one 18-digit number in 31 (an ID with a wrong check digit, an
    order number) is not taken for one."""
    if value.isdigit() and not is_valid_org_code(value[8:17]):
        return False
    return is_valid_uscc(value)


_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def is_valid_org_code(value: str) -> bool:
    """True when ``value`` is a 9-character GB 11714 organization code with a valid check
    character (characters 9-17 of a credit code)."""
    if len(value) != 9 or not value[:8].isalnum() or not value[:8].isascii():
        return False
    total = sum(int(c, 36) * w for c, w in zip(value[:8].upper(), _ORG_WEIGHTS))
    check = 11 - total % 11
    return value[8] == ("X" if check == 10 else "0" if check == 11 else str(check))


def luhn_check_digit(body: str) -> str:
    """Return the Luhn check digit to append to ``body`` (digits only)."""
    if not body.isascii() or not body.isdigit():
        raise ValueError("Luhn applies to digits only")
    return str((10 - _luhn_sum(body, doubled_first=True) % 10) % 10)


def is_valid_luhn(value: str) -> bool:
    """True when ``value`` is all digits and passes the Luhn check."""
    if len(value) < 2 or not value.isascii() or not value.isdigit():
        return False
    return _luhn_sum(value, doubled_first=False) % 10 == 0


_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)  # a digit doubled, minus 9 when over 9


def _luhn_sum(digits: str, *, doubled_first: bool) -> int:
    """Luhn's sum from the right: every second digit doubled, starting with the rightmost one
    when ``doubled_first`` (the body of a number whose check digit is still to come)."""
    backwards = digits[::-1]
    odd, even = backwards[0::2], backwards[1::2]
    doubled, plain = (odd, even) if doubled_first else (even, odd)
    return sum(map(int, plain)) + sum(map(_DOUBLED.__getitem__, map(int, doubled)))
