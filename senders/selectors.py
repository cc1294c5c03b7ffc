"""Reads of the senders app: the names an account already has and the senders it could add
at once (from the owners' profiles or its domain names)."""

from accounts.models import Membership, SmsAccount

from .models import Domain, Sender
from .validators import sender_from_text


def sender_names(account: SmsAccount) -> set[str]:
    """The account's sender names, lower-cased (names are unique whatever their case)."""
    return {
        s.lower() for s in Sender.objects.filter(account=account).values_list("sender", flat=True)
    }


def _add_new(found: dict[str, str], taken: set[str], name: str, origin: str) -> None:
    """Offer `name` unless the account or an earlier candidate has it (any case); `taken`
    grows with each name offered."""
    if name and name.lower() not in taken:
        found[name] = origin
        taken.add(name.lower())


def profile_candidates(account: SmsAccount) -> dict[str, str]:
    """Senders made from the account owners' profiles (company; first and last name), minus
    those the account already has: sender name -> the text it comes from."""
    existing = sender_names(account)
    found: dict[str, str] = {}
    owners = Membership.objects.filter(account=account, role=Membership.Role.OWNER)
    for membership in owners.select_related("user").order_by("created_at"):
        user = membership.user
        for text in (user.company, f"{user.first_name} {user.last_name}"):
            _add_new(found, existing, sender_from_text(text), text.strip())
    return found


def domain_candidates(account: SmsAccount) -> dict[str, str]:
    """Senders made from the account's domain names, minus those the account already has:
    sender name -> the domain name."""
    existing = sender_names(account)
    found: dict[str, str] = {}
    for domain in Domain.objects.filter(account=account):
        _add_new(found, existing, domain.sender_name, domain.name)
    return found
