"""A citizen's phone number and NIK: checked, normalised, and kept no more than a rule needs.

The phone is normalised to E.164 with Google's libphonenumber (`phonenumbers`,
region ID), so 0812…, 62812… and +62 812-… are one number; only mobile numbers
are taken (the booking's messages go to WhatsApp). The NIK (Nomor Induk
Kependudukan) is checked for its shape and is never stored: a keyed hash holds
the one-booking-per-day limit, its last four digits help the staff.
"""

import hashlib
import hmac
from datetime import date

import phonenumbers
from phonenumbers import PhoneNumberType

from db.errors import Invalid

# Province codes of the NIK (the first two digits), as Kemendagri numbers them,
# with the Papuan provinces of 2022.
PROVINCES = {
    "11": "Aceh", "12": "Sumatera Utara", "13": "Sumatera Barat", "14": "Riau", "15": "Jambi",
    "16": "Sumatera Selatan", "17": "Bengkulu", "18": "Lampung", "19": "Kepulauan Bangka Belitung",
    "21": "Kepulauan Riau", "31": "DKI Jakarta", "32": "Jawa Barat", "33": "Jawa Tengah",
    "34": "DI Yogyakarta", "35": "Jawa Timur", "36": "Banten", "51": "Bali",
    "52": "Nusa Tenggara Barat", "53": "Nusa Tenggara Timur", "61": "Kalimantan Barat",
    "62": "Kalimantan Tengah", "63": "Kalimantan Selatan", "64": "Kalimantan Timur",
    "65": "Kalimantan Utara", "71": "Sulawesi Utara", "72": "Sulawesi Tengah",
    "73": "Sulawesi Selatan", "74": "Sulawesi Tenggara", "75": "Gorontalo", "76": "Sulawesi Barat",
    "81": "Maluku", "82": "Maluku Utara", "91": "Papua", "92": "Papua Barat",
    "93": "Papua Selatan", "94": "Papua Tengah", "95": "Papua Pegunungan", "96": "Papua Barat Daya",
}

MOBILE = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


def _bad(field, sentence):
    raise Invalid("validation_error", "Some fields are not valid.", {field: sentence})


def normalise_phone(text):
    """An Indonesian mobile number in any usual form -> E.164 (+628…); 400 otherwise."""
    if not isinstance(text, str) or not text.strip() or len(text) > 40:
        _bad("phone", "Give a mobile (WhatsApp) number, e.g. 0812-3456-7890.")
    raw = text.strip()
    if any(not (ch.isascii() and (ch.isdigit() or ch in " +-().")) for ch in raw):
        # libphonenumber would read letters as a keypad's digits (1-800-FLOWERS).
        _bad("phone", "A phone number has only digits (and +, -, spaces), e.g. 0812-3456-7890.")
    # "62812…" without the plus is how many people write it; libphonenumber would read
    # it as a national number starting with 62.
    digits = "".join(ch for ch in raw if ch.isdigit())
    if raw[0] != "+" and digits.startswith("62") and not digits.startswith("620"):
        raw = "+" + digits
    try:
        number = phonenumbers.parse(raw, "ID")
    except phonenumbers.NumberParseException:
        _bad("phone", "This is not a phone number; give a mobile number like 0812-3456-7890.")
    if number.country_code != 62:
        _bad("phone", "Give an Indonesian mobile number (+62), e.g. 0812-3456-7890.")
    if not phonenumbers.is_valid_number(number):
        _bad("phone", "This phone number is not valid; check the digits (e.g. 0812-3456-7890).")
    if phonenumbers.number_type(number) not in MOBILE:
        _bad("phone", "This is not a mobile number; give a mobile (WhatsApp) number, e.g. 0812-3456-7890.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(e164):
    """+6281234565678 -> 0812****5678: enough for the holder to recognise it, no more."""
    if not e164:
        return None
    national = "0" + e164[3:] if e164.startswith("+62") else e164
    return national[:4] + "*" * max(0, len(national) - 8) + national[-4:]


def check_nik(text):
    """A NIK of the right shape -> its 16 digits; 400 with a sentence otherwise.

    16 digits: province (2, one that exists), regency (2), district (2), the date of
    birth DDMMYY (a woman's day + 40), and a serial (4, not 0000).
    """
    if not isinstance(text, str):
        _bad("nik", "The NIK is the 16-digit number on the KTP.")
    nik = text.strip().replace(" ", "").replace(".", "")
    if len(nik) != 16 or not nik.isascii() or not nik.isdigit():
        _bad("nik", "The NIK has exactly 16 digits (see the KTP or KK).")
    if nik[:2] not in PROVINCES:
        _bad("nik", "The NIK's first two digits are not a province code; check the number.")
    if nik[2:4] == "00" or nik[4:6] == "00":
        _bad("nik", "The NIK's regency or district digits are not valid; check the number.")
    day, month, yy = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    if day > 40:
        day -= 40  # women: the day of birth plus 40
    if not any(_is_date(century + yy, month, day) for century in (1900, 2000)):
        _bad("nik", "The NIK's digits 7-12 are not a date of birth (DDMMYY, +40 on the day for women).")
    if nik[12:] == "0000":
        _bad("nik", "The NIK's last four digits are not valid; check the number.")
    return nik


def _is_date(year, month, day):
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def keyed_hash(secret, value):
    """HMAC-SHA256 of a value under the app's secret: equal NIKs match, the NIK stays unknown."""
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
