"""Number validation for imports, in plain Python (messaging.recipients + phonenumbers, no
Django): it runs in worker processes, where it is ~75% of an import's time."""

from __future__ import annotations

from messaging.recipients import Recipient, normalise

# The number columns as the import sends them: landline columns take any valid number.
COLUMNS = ("home_phone", "home_mobile", "work_phone", "work_mobile")
LANDLINE_COLUMNS = frozenset({0, 2})


def normalise_number(raw: str, landline_ok: bool, region: str) -> str:
    """E.164, or a reason code; landline columns take any valid number."""
    if raw[:1] == "'":  # the export's formula escape
        raw = raw[1:]
    outcome = normalise(raw, region, allow_landline=landline_ok)
    return outcome.number if isinstance(outcome, Recipient) else outcome


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
