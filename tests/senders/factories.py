import io

import factory
from PIL import Image
from pypdf import PdfWriter

from senders.models import Domain, Sender
from tests.accounts.factories import AccountFactory


def _pdf(password: str = "") -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)  # one A4 page
    if password:
        writer.encrypt(password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _image(kind: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(out, kind)
    return out.getvalue()


# Real documents (they are opened by the checks), and files that only start like them.
PDF = _pdf()
ENCRYPTED_PDF = _pdf(password="secret")
JPEG = _image("JPEG")
PNG = _image("PNG")
FAKE_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
FAKE_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64


class SenderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sender

    account = factory.SubFactory(AccountFactory)
    sender = factory.Sequence(lambda n: f"SHOP{n}")
    type = Sender.Type.ALPHA
    referer = Sender.Referer.CUSTOM
    status = Sender.Status.WAITING
    reason = "Our shop's trade name"


class DomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Domain

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"shop{n}.fr")


def make_sender(account):
    """For tests/accounts/test_ownership_sweep.py OBJECT_MAKERS["sender_id"]."""
    return SenderFactory(account=account, status=Sender.Status.ENABLE)
