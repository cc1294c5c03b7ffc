"""« Ajouter un expéditeur » from personal data and from domain names: enabled at once."""

import html

import pytest
from django.urls import reverse

from senders.models import Domain, Sender
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.senders.factories import DomainFactory, SenderFactory

pytestmark = pytest.mark.django_db


def add_url(account, mode=None):
    url = reverse("senders:add", args=[account.name])
    return f"{url}?mode={mode}" if mode else url


def text(response):
    return html.unescape(response.content.decode())


# --- personal data ----------------------------------------------------------------------------


@pytest.fixture
def holder(owner):
    owner.first_name, owner.last_name, owner.company = "Léa", "Noël", "Boulangerie Dupont"
    owner.save()
    return owner


def test_it_offers_senders_from_the_holder_profile(owner_client, account, holder):
    response = owner_client.get(add_url(account, "personal"))

    assert response.status_code == 200
    assert response.context["form"].candidates == {
        "Boulangerie": "Boulangerie Dupont",
        "Lea Noel": "Léa Noël",
    }
    assert 'value="Boulangerie"' in text(response)


def test_it_offers_only_senders_not_present(owner_client, account, holder):
    SenderFactory(account=account, sender="BOULANGERIE", status="refused")

    response = owner_client.get(add_url(account, "personal"))

    assert list(response.context["form"].candidates) == ["Lea Noel"]


def test_it_uses_the_owners_profile_for_members_too(client, account, holder, member):
    client.force_login(member)

    response = client.get(add_url(account, "personal"))

    assert "Boulangerie" in response.context["form"].candidates
    assert all("Camille" not in name for name in response.context["form"].candidates)


def test_a_profile_sender_is_enabled_at_once(owner_client, account, holder):
    response = owner_client.post(
        add_url(account), {"mode": "personal", "sender": "Boulangerie", "description": "Shop"}
    )

    assert response.status_code == 302
    sender = Sender.objects.get(account=account)
    assert (sender.sender, sender.status, sender.referer, sender.type) == (
        "Boulangerie",
        "enable",
        "nic",
        "alpha",
    )
    assert sender.description == "Shop"
    assert sender.reason == "Boulangerie Dupont"
    assert sender.decided_at is not None


def test_a_name_not_offered_is_refused(owner_client, account, holder):
    response = owner_client.post(add_url(account), {"mode": "personal", "sender": "BANQUE"})

    assert response.status_code == 200
    assert response.context["form"].errors["sender"]
    assert not Sender.objects.exists()


def test_nothing_offered_says_so(owner_client, english, account, owner):
    owner.first_name = owner.last_name = owner.company = ""
    owner.save()

    response = owner_client.get(add_url(account, "personal"))

    assert response.context["form"].candidates == {}
    assert "No new sender can be made from the account holder's profile." in text(response)


# --- domain names -----------------------------------------------------------------------------


def test_domains_can_be_added_and_removed(owner_client, english, account):
    added = owner_client.post(
        reverse("senders:domain_add", args=[account.name]), {"name": "Ma-Boutique.FR"}
    )

    assert added.status_code == 302
    assert added.url == add_url(account, "domain")
    domain = Domain.objects.get(account=account)
    assert domain.name == "ma-boutique.fr"

    page = owner_client.get(add_url(account, "domain"))
    assert "ma-boutique.fr" in text(page)
    assert page.context["form"].candidates == {"ma-boutique": "ma-boutique.fr"}

    removed = owner_client.post(
        reverse("senders:domain_delete", args=[account.name]), {"domain": domain.pk}
    )
    assert removed.status_code == 302
    assert not Domain.objects.exists()


@pytest.mark.parametrize("name", ["not a domain", "localhost", ""])
def test_a_bad_domain_is_a_form_error(owner_client, account, name):
    response = owner_client.post(reverse("senders:domain_add", args=[account.name]), {"name": name})

    assert response.status_code == 200
    assert response.context["domain_form"].errors["name"]
    assert response.context["mode"] == "domain"
    assert not Domain.objects.exists()


def test_a_domain_twice_is_a_form_error(owner_client, account):
    DomainFactory(account=account, name="shop.fr")

    response = owner_client.post(
        reverse("senders:domain_add", args=[account.name]), {"name": "SHOP.fr"}
    )

    assert response.context["domain_form"].errors["name"]
    assert Domain.objects.count() == 1


def test_only_domains_of_11_characters_or_fewer_are_offered(owner_client, english, account):
    DomainFactory(account=account, name="ma-boutique.fr")  # 11
    DomainFactory(account=account, name="boulangerie-dupont.fr")  # 18
    DomainFactory(account=account, name="used.com")
    SenderFactory(account=account, sender="USED")

    response = owner_client.get(add_url(account, "domain"))

    assert response.context["form"].candidates == {"ma-boutique": "ma-boutique.fr"}
    assert "too long (more than 11 characters)" in text(response)


def test_a_domain_sender_is_enabled_at_once(owner_client, account):
    DomainFactory(account=account, name="ma-boutique.fr")

    response = owner_client.post(add_url(account), {"mode": "domain", "sender": "ma-boutique"})

    assert response.status_code == 302
    sender = Sender.objects.get(account=account)
    assert (sender.sender, sender.status, sender.referer) == ("ma-boutique", "enable", "domain")
    assert sender.reason == "ma-boutique.fr"


def test_another_account_domains_are_not_offered(owner_client, account):
    DomainFactory(name="ma-boutique.fr")

    response = owner_client.post(add_url(account), {"mode": "domain", "sender": "ma-boutique"})

    assert response.status_code == 200
    assert not Sender.objects.exists()


def test_domain_pages_check_ownership(client, account, outsider):
    domain = DomainFactory(account=account, name="shop.fr")
    client.force_login(outsider)
    own = outsider.sms_accounts.get()

    answers = [
        client.post(reverse("senders:domain_add", args=[account.name]), {"name": "x.fr"}),
        client.post(reverse("senders:domain_delete", args=[account.name]), {"domain": domain.pk}),
        # Through their own account, another account's domain is not found either.
        client.post(reverse("senders:domain_delete", args=[own.name]), {"domain": domain.pk}),
        client.post(add_url(account), {"mode": "domain", "sender": "shop"}),
    ]

    assert [r.status_code for r in answers] == [404, 404, 404, 404]
    assert list(Domain.objects.values_list("name", flat=True)) == ["shop.fr"]
    assert not Sender.objects.exists()


def test_domain_delete_rejects_get_and_junk(owner_client, account):
    url = reverse("senders:domain_delete", args=[account.name])

    assert owner_client.get(url).status_code == 405
    assert owner_client.post(url, {"domain": "abc"}).status_code == 404


def test_several_owners_profiles_are_offered(owner_client, account, holder):
    second = UserFactory(first_name="", last_name="", company="Garage Martin")
    MembershipFactory(user=second, account=account, role="owner")

    response = owner_client.get(add_url(account, "personal"))

    assert list(response.context["form"].candidates) == ["Boulangerie", "Lea Noel", "Garage"]
