"""Number validation for imports, in plain Python (messaging.recipients + phonenumbers, no
Django): it runs in worker processes, where it is ~75% of an import's time."""

from __future__ import annotations

import phonenumbers

from messaging.recipients import (
    _NOISE,
    INVALID,
    NOT_MOBILE,
    Recipient,
    _fast_international,
    normalise,
)

# The number columns as the import sends them: landline columns take any valid number.
COLUMNS = ("home_phone", "home_mobile", "work_phone", "work_mobile")
LANDLINE_COLUMNS = frozenset({0, 2})


def normalise_number(raw: str, landline_ok: bool, region: str) -> str:
    """E.164, or a reason code. messaging.recipients refuses landlines: take them here when the
    column is a landline one."""
    if raw[:1] == "'":  # the export's formula escape
        raw = raw[1:]
    outcome = normalise(raw, region)
    if isinstance(outcome, Recipient):
        return outcome.number
    if outcome == NOT_MOBILE and landline_ok:
        compact = _NOISE.sub("", raw)
        if compact.startswith("00"):
            compact = "+" + compact[2:]
        fast = _fast_international(compact) if compact[:1] == "+" else None
        if fast is not None:  # what normalise validated: "+<code><national>" is already E.164
            return f"+{fast.country_code}{fast.national_number}"
        try:
            parsed = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:  # pragma: no cover - normalise parsed it
            return INVALID
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return outcome


def validate_chunk(region: str, rows: list[tuple[str, str, str, str]]) -> list:
    """For each row of raw numbers (COLUMNS order): a list of 4 E.164 numbers ("" when empty),
    or a tuple (reason, column index) for the first bad one."""
    out = []
    for numbers in rows:
        result: list | tuple = []
        for index, raw in enumerate(numbers):
            if not raw:
                result.append("")
                continue
            number = normalise_number(raw, index in LANDLINE_COLUMNS, region)
            if number[0] != "+":
                result = (number, index)
                break
            result.append(number)
        out.append(result)
    return out
