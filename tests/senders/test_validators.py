"""Sender names, names derived from profiles and domains, document sniffing (no database)."""

import io

import pytest
from django.core.exceptions import ValidationError

from senders.validators import (
    normalize_domain,
    sender_from_domain,
    sender_from_text,
    sniff_content_type,
    validate_sender_name,
)
from tests.senders.factories import EXE, JPEG, PDF, PNG


@pytest.mark.parametrize("name", ["BOUTIQUE", "Ma Boutique", "A&B+C", "shop-1.fr", "x,y", "A" * 11])
def test_it_accepts_sender_names(name):
    validate_sender_name(name)


@pytest.mark.parametrize(
    "name, code",
    [
        ("A" * 12, "max_length"),
        ("Café", "charset"),
        ("shop_1", "charset"),
        ("hé!", "charset"),
        ("0612345678", "no_letter"),
        ("+33 6 12", "no_letter"),
        ("123-456", "no_letter"),
    ],
)
def test_it_rejects_sender_names(name, code):
    with pytest.raises(ValidationError) as error:
        validate_sender_name(name)

    assert error.value.code == code


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Boulangerie Dupont", "Boulangerie"),
        ("Camille Martin", "Camille"),
        ("Léa Noël", "Lea Noel"),
        ("ACME S.A.R.L.", "ACME"),
        ("Société Générale", "Societe"),
        ("Anticonstitutionnellement", "Anticonstit"),
        ("O'Brien & Co", "O Brien"),
        ("  ", ""),
        ("123 456", ""),
        ("", ""),
    ],
)
def test_it_makes_senders_from_free_text(text, expected):
    result = sender_from_text(text)

    assert result == expected
    if result:
        validate_sender_name(result)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("Ma-Boutique.FR", "ma-boutique.fr"),
        ("https://www.shop.com/", None),
        ("www.shop.com.", "shop.com"),
        ("shop.co.uk", "shop.co.uk"),
    ],
)
def test_it_normalizes_domain_names(value, expected):
    if expected is None:
        with pytest.raises(ValidationError):
            normalize_domain(value)
    else:
        assert normalize_domain(value) == expected


@pytest.mark.parametrize("value", ["localhost", "shop", "-shop.fr", "sh op.fr", "shop..fr", ""])
def test_it_rejects_bad_domain_names(value):
    with pytest.raises(ValidationError):
        normalize_domain(value)


@pytest.mark.parametrize(
    "name, sender",
    [
        ("ma-boutique.fr", "ma-boutique"),
        ("shop.co.uk", "shop.co"),
        ("boulangerie-dupont.fr", ""),  # 18 characters before the extension
        ("12345.fr", ""),  # no letter
    ],
)
def test_a_domain_gives_its_name_without_extension(name, sender):
    assert sender_from_domain(name) == sender


@pytest.mark.parametrize(
    "content, expected",
    [
        (PDF, "application/pdf"),
        (JPEG, "image/jpeg"),
        (PNG, "image/png"),
        (EXE, None),
        (b"", None),
        (b"%PD", None),
        (b"<html>%PDF-", None),
    ],
)
def test_it_sniffs_documents_from_their_first_bytes(content, expected):
    upload = io.BytesIO(content)
    upload.seek(3 if content else 0)

    assert sniff_content_type(upload) == expected
    assert upload.tell() == 0
