"""core.numbertype.number_type answers exactly what phonenumbers.number_type does."""

import random

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType

from core import recipients
from core.numbertype import number_type

TYPES = [
    PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE, PhoneNumberType.SHARED_COST, PhoneNumberType.VOIP,
    PhoneNumberType.PERSONAL_NUMBER, PhoneNumberType.PAGER, PhoneNumberType.UAN,
    PhoneNumberType.VOICEMAIL,
]  # fmt: skip


def examples():
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in TYPES:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                yield example
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        example = phonenumbers.example_number_for_non_geo_entity(code)
        if example is not None:
            yield example


def test_every_example_number_of_every_region_and_type():
    numbers = list(examples())
    assert len(numbers) > 1000
    for number in numbers:
        assert number_type(number) == phonenumbers.number_type(number), number


@pytest.mark.parametrize("seed", range(4))
def test_random_numbers_near_the_examples(seed):
    """Examples with random digits changed, lengthened or shortened: valid and invalid ones,
    every type, leading zeros (Italy) included."""
    rng = random.Random(seed)
    numbers = list(examples())
    kinds = set()
    for _ in range(20_000):
        base = rng.choice(numbers)
        digits = list(phonenumbers.national_significant_number(base))
        for _ in range(rng.randint(1, 3)):
            digits[rng.randrange(len(digits))] = str(rng.randrange(10))
        if rng.random() < 0.2:
            digits.append(str(rng.randrange(10)))
        elif rng.random() < 0.2 and len(digits) > 3:
            digits.pop()
        text = f"+{base.country_code}{''.join(digits)}"
        try:
            number = phonenumbers.parse(text)
        except phonenumbers.NumberParseException:
            continue
        expected = phonenumbers.number_type(number)
        kinds.add(expected)
        assert number_type(number) == expected, text
    assert {PhoneNumberType.UNKNOWN, PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE} <= kinds


def typed_near(rng, numbers) -> str:
    """An example number with a digit changed, sometimes one more, typed as E.164."""
    base = rng.choice(numbers)
    digits = list(phonenumbers.national_significant_number(base))
    digits[rng.randrange(len(digits))] = str(rng.randrange(10))
    if rng.random() < 0.2:
        digits.append(str(rng.randrange(10)))
    return f"+{base.country_code}{''.join(digits)}"


def verdict(typed: str, region: str):
    """What core.recipients.normalise() must answer, read by phonenumbers alone (after the
    same compact(): "00" taken for "+")."""
    try:
        number = phonenumbers.parse(recipients.compact(typed), region)
    except phonenumbers.NumberParseException:
        return recipients.NOT_A_NUMBER
    if not phonenumbers.is_valid_number(number):
        return recipients.INVALID
    if phonenumbers.number_type(number) in recipients._NOT_SMS_TYPES:
        return recipients.NOT_MOBILE
    return recipients.Recipient(
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        phonenumbers.region_code_for_number(number) or region,
    )


@pytest.mark.parametrize("seed", range(2))
def test_typed_numbers_read_as_phonenumbers_reads_them(seed):
    """core.recipients reads "+<code><number>" without phonenumbers.parse() for calling codes
    of one country: the same E.164 number, region and verdict as phonenumbers on examples with
    random digits changed, every region (shared calling codes and leading zeros included)."""
    rng = random.Random(seed)
    numbers = list(examples())
    verdicts = set()
    for _ in range(10_000):
        typed = typed_near(rng, numbers)
        expected = verdict(typed, "FR")
        got = recipients.normalise(typed, "FR")
        assert got == expected, typed
        verdicts.add(expected if isinstance(expected, str) else "valid")
    assert {recipients.INVALID, recipients.NOT_MOBILE, "valid"} <= verdicts


@pytest.mark.parametrize("seed", range(2))
def test_national_numbers_read_as_phonenumbers_reads_them(seed):
    """Numbers written nationally ("06 12 34 56 78" in France) are read without
    phonenumbers.parse() where the national prefix is a plain one: the same verdict as
    phonenumbers, in every region, prefixes with patterns and shared calling codes included."""
    rng = random.Random(seed)
    regions = sorted(phonenumbers.SUPPORTED_REGIONS)
    verdicts = set()
    for _ in range(10_000):
        region = rng.choice(regions)
        example = phonenumbers.example_number_for_type(region, rng.choice(TYPES))
        if example is None:
            continue
        digits = list(phonenumbers.national_significant_number(example))
        digits[rng.randrange(len(digits))] = str(rng.randrange(10))
        prefix = phonenumbers.PhoneMetadata.metadata_for_region(region).national_prefix or ""
        typed = prefix + "".join(digits)
        expected = verdict(typed, region)
        assert recipients.normalise(typed, region) == expected, (typed, region)
        verdicts.add(expected if isinstance(expected, str) else "valid")
    assert {recipients.INVALID, recipients.NOT_MOBILE, "valid"} <= verdicts


@pytest.mark.parametrize("seed", range(2))
def test_plain_e164_answers_what_normalise_answers(seed):
    """recipients.plain_e164 (the import's shortcut) gives normalise()'s number or reason, or
    None to let normalise() decide: never another verdict, landline columns included."""
    rng = random.Random(seed)
    numbers = list(examples())
    shortcut = 0
    for _ in range(10_000):
        typed = typed_near(rng, numbers)
        if rng.random() < 0.1:
            typed = rng.choice(
                [typed[:4] + " " + typed[4:], typed + "x", "+" + typed, "+0" + typed[1:]]
            )
        for landline in (False, True):
            got = recipients.plain_e164(typed, allow_landline=landline)
            if got is None:
                continue
            shortcut += 1
            outcome = recipients.normalise(typed, "FR", allow_landline=landline)
            assert got == (outcome if isinstance(outcome, str) else outcome.number), typed
    assert shortcut > 5_000
