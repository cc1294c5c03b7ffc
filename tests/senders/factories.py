import factory

from senders.models import Domain, Sender
from tests.accounts.factories import AccountFactory

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
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
