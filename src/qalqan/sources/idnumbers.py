"""Identifier numbers: what a valid IMO number, MMSI, call sign, BIC, IBAN or Kazakh BIN/IIN is.

Lists and screening input write identifiers with prefixes and spaces ("IMO 9123456",
"IMO9123456"); these functions read them strictly, so a number that fails its check digit is
named in a warning instead of being compared as if it were right. Check-digit rules come from
`rigour.ids` (IMO, BIC, IBAN) where it has them; Kazakhstan's BIN/IIN, which it lacks, is
written here.

Pure functions: no I/O.
"""

from __future__ import annotations

import re

from rigour.ids import BIC, IBAN, IMO

from qalqan.model.entity import Document, IdKind

#: "9123456", "IMO 9123456", "IMO9123456", "IMO: 9123456", "IMO No. 9123456": one number only.
_IMO = re.compile(r"^(?:imo(?:\s*(?:no|number|nr)\.?)?[\s:.#-]*)?(\d{7})$", re.I)
#: An MMSI is 9 digits.
_MMSI = re.compile(r"^\d{9}$")
#: Call signs are 3 to 9 letters and digits (ITU prefix + serial), written with or without spaces.
_CALL_SIGN = re.compile(r"^[A-Z0-9]{3,9}$")
_SPACES = re.compile(r"[\s-]+")
_KZ_BIN = re.compile(r"^\d{12}$")
#: Types that name Kazakhstan's business (BIN) or individual (IIN) identification number.
_KZ_TYPES = re.compile(r"\b(bin|iin|бин|иин|бсн|жсн)\b", re.I)


def imo_digits(text: str, *, vessel_only: bool = False) -> str | None:
    """The 7 digits of an IMO number written as "9123456", "IMO 9123456" or "IMO9123456", or
    None when it is not one or fails its check digit.

    A ship's number: digits 1-6 weighted 7..2, the sum's last digit is digit 7. Shipping
    companies' numbers (UN DPRK owners) have their own check digit (rigour's `IMO`); they are
    accepted unless `vessel_only`."""
    found = _IMO.match(text.strip())
    if found is None:
        return None
    digits = found.group(1)
    valid = IMO.is_valid_vessel(digits) or (not vessel_only and IMO.is_valid_company(digits))
    return digits if valid and digits != "0000000" else None


def imo_problem(text: str, *, vessel_only: bool = False) -> str | None:
    """Why `text` is not a valid IMO number, in words, or None."""
    if imo_digits(text, vessel_only=vessel_only) is not None:
        return None
    if _IMO.match(text.strip()) is None:
        return f"{text!r} is not an IMO number (7 digits, optionally after 'IMO')"
    return f"IMO number {text!r} fails its check digit"


def mmsi_problem(text: str) -> str | None:
    """Why `text` is not an MMSI (9 digits), or None."""
    return None if _MMSI.match(_SPACES.sub("", text)) else f"{text!r} is not an MMSI (9 digits)"


def call_sign_problem(text: str) -> str | None:
    """Why `text` is not a call sign (3 to 9 letters and digits), or None."""
    return None if _CALL_SIGN.match(_SPACES.sub("", text).upper()) else f"{text!r} is not a call sign (3 to 9 letters and digits)"


def kz_bin_valid(text: str) -> bool:
    """Whether `text` is a Kazakh BIN or IIN: 12 digits, the last a check digit (sum of digits
    1-11 weighted 1..11 mod 11; when that is 10, weighted 3..11,1,2 instead; 10 again: invalid)."""
    number = _SPACES.sub("", text)
    if not _KZ_BIN.match(number):
        return False
    digits = [int(c) for c in number]
    for weights in (range(1, 12), (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)):
        check = sum(d * w for d, w in zip(digits[:11], weights)) % 11
        if check != 10:
            return check == digits[11]
    return False


def identifier_problem(doc: Document) -> str | None:
    """Why a document's number fails the check of its kind (IMO, MMSI, call sign, BIC, IBAN,
    Kazakh BIN/IIN), or None: also None for kinds without a check (registration numbers, crypto
    addresses) and for identity documents."""
    kind, number = doc.kind, doc.number
    if kind is IdKind.IMO:
        return imo_problem(number)
    if kind is IdKind.MMSI:
        return mmsi_problem(number)
    if kind is IdKind.CALL_SIGN:
        return call_sign_problem(number)
    if kind is IdKind.BIC and not BIC.is_valid(number):
        return f"{number!r} is not a valid SWIFT/BIC code"
    if kind is IdKind.IBAN and not IBAN.is_valid(number):
        return f"{number!r} is not a valid IBAN (country, check digits, account)"
    if kind is IdKind.TAX_ID and (doc.country == "kz" or _KZ_TYPES.search(doc.type or "")) and not kz_bin_valid(number):
        return f"{number!r} is not a valid Kazakh BIN/IIN (12 digits with a check digit)"
    return None
