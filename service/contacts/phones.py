"""Phone numbers as people type them (or as WhatsApp names them) turned into E.164."""

from __future__ import annotations

import re
from typing import Literal

import phonenumbers

__all__ = ["INVALID_NUMBER", "language_of_number", "normalize_number"]

INVALID_NUMBER = "is not a valid phone number"
# Longer than any number written by a person; keeps the parser's work bounded.
_MAX_INPUT = 64
_JID_SUFFIXES = ("@s.whatsapp.net", "@c.us")
_PUNCTUATED_DIGITS = re.compile(r"^[\d\s().-]+$")

# WhatsApp tells nothing of a person's language; the country of their number is the hint
# (the bot's languages only: anyone else gets the company's). Numbers shared by several
# countries (+1) go by the first region phonenumbers names for them.
_PORTUGUESE = {"BR", "PT", "AO", "MZ", "CV", "GW", "ST", "TL"}
_SPANISH = {
    "ES", "MX", "AR", "CO", "CL", "PE", "VE", "EC", "GT", "CU", "BO", "DO", "HN", "PY", "SV",
    "NI", "CR", "PA", "UY", "GQ", "PR",
}  # fmt: skip
_ENGLISH = {
    "US", "GB", "IE", "AU", "NZ", "CA", "JM", "TT", "BS", "BB", "BZ", "GY", "NG", "GH", "KE",
    "UG", "ZA", "ZW", "ZM", "MW", "BW", "SG", "PH", "MT", "GI", "BM", "KY", "AG", "LC", "VC",
    "GD", "KN", "DM", "GG", "JE", "IM",
}  # fmt: skip
_REGIONS: tuple[tuple[Literal["pt-BR", "en", "es"], set[str]], ...] = (
    ("pt-BR", _PORTUGUESE),
    ("es", _SPANISH),
    ("en", _ENGLISH),
)


def _parse(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None


def _e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _from_jid(jid: str) -> str:
    user = jid.split("@", 1)[0].split(":", 1)[0]  # "5511...:12@s.whatsapp.net" names a device
    if not user.isdigit():
        raise ValueError(INVALID_NUMBER)
    number = _parse("+" + user, None)
    # WhatsApp vouches for its own ids: older Brazilian mobiles keep the 8-digit form that
    # the numbering plan no longer calls valid, so a possible number is enough here.
    if number is None or not phonenumbers.is_possible_number(number):
        raise ValueError(INVALID_NUMBER)
    return _e164(number)


def normalize_number(raw: str, default_country: str) -> str:
    """The number in E.164 (`+5511987654321`); ValueError("is not a valid phone number") if not one.

    Accepts international numbers (`+55 11 98765-4321`), national ones read in
    `default_country` (`(11) 98765-4321`), digits with the country code but no `+`
    (`5511987654321`) and WhatsApp ids (`5511987654321@s.whatsapp.net`).
    """
    text = raw.strip()
    if not text or len(text) > _MAX_INPUT:
        raise ValueError(INVALID_NUMBER)
    if "@" in text:
        if not text.lower().endswith(_JID_SUFFIXES):
            raise ValueError(INVALID_NUMBER)
        return _from_jid(text)
    if text.startswith("+"):
        number = _parse(text, None)
        if number is not None and phonenumbers.is_valid_number(number):
            return _e164(number)
        raise ValueError(INVALID_NUMBER)
    number = _parse(text, default_country.upper())
    if number is not None and phonenumbers.is_valid_number(number):
        return _e164(number)
    if _PUNCTUATED_DIGITS.match(text):
        digits = "".join(ch for ch in text if ch.isdigit())
        number = _parse("+" + digits, None)
        if number is not None and phonenumbers.is_valid_number(number):
            return _e164(number)
    raise ValueError(INVALID_NUMBER)


def language_of_number(number: str) -> Literal["pt-BR", "en", "es"] | None:
    """The bot language most people with this E.164 number speak, or None when it is none of
    the bot's (or the number cannot be read)."""
    parsed = _parse(number, None)
    if parsed is None:
        return None
    # The number's own region first (+1 809 is the Dominican Republic), else its country
    # code's main one (+44 7911 is Guernsey's, spoken like Britain's).
    for region in (
        phonenumbers.region_code_for_number(parsed),
        phonenumbers.region_code_for_country_code(parsed.country_code or 0),
    ):
        for language, regions in _REGIONS:
            if region in regions:
                return language
    return None
