import pytest
from django.urls import reverse

from addressbooks.models import AddressBook, Contact
from messaging.models import OutgoingMessage, SmsJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(account):
    book = AddressBook.objects.create(account=account, name="Clients", contacts_count=3)
    Contact.objects.create(book=book, surname="Martin", name="Léa", home_mobile="+33612345671")
    Contact.objects.create(
        book=book, surname="Roux", name="Paul", home_mobile="+33612345672",
        work_mobile="+33612345673",
    )  # fmt: skip
    Contact.objects.create(book=book, surname="Fixe", name="Seul", home_phone="+33140000000")
    return book


def test_send_to_a_book_and_typed_numbers(owner_client, account, book, scripted_operator):
    response = owner_client.post(
        reverse("messaging:compose", args=[account.name]),
        {
            "sender": "short",
            "receivers": "+33612345671\n+33699999999",  # the first is also in the book
            "books": [book.pk],
            "message": "Bonjour",
            "no_stop_clause": "on",
            "sms_class": "phoneDisplay",
            "when": "now",
            "send": "1",
        },
    )
    job = SmsJob.objects.get()
    assert response.status_code == 302
    sources = dict(OutgoingMessage.objects.filter(job=job).values_list("receiver", "source"))
    assert sources == {
        "+33612345671": "typed",
        "+33699999999": "typed",
        "+33612345672": f"book:{book.pk}",
        "+33612345673": f"book:{book.pk}",
    }
    assert job.duplicates_count == 1
    assert job.credits == 4


def test_the_estimate_counts_book_recipients(owner_client, account, book):
    html = owner_client.post(
        reverse("messaging:counter", args=[account.name]),
        {"message": "x", "books": [book.pk], "receivers": "+33612345672"},
    ).content.decode()
    assert 'data-testid="estimate-recipients">3<' in html


def test_a_book_of_another_account_is_refused(client, outsider, book):
    client.force_login(outsider)
    own = outsider.sms_accounts.get()
    client.post(
        reverse("messaging:compose", args=[own.name]),
        {"sender": "short", "books": [book.pk], "message": "x", "when": "now", "send": "1",
         "sms_class": "phoneDisplay"},
    )  # fmt: skip
    assert not SmsJob.objects.exists()


def test_send_to_a_recipient_list(owner_client, account, scripted_operator):
    from addressbooks.models import RecipientList, RecipientListNumber

    rlist = RecipientList.objects.create(account=account, slot=3, description="VIP", records=2)
    RecipientListNumber.objects.create(rlist=rlist, number="+33612345681", region="FR")
    RecipientListNumber.objects.create(rlist=rlist, number="+33612345682", region="FR")
    owner_client.post(
        reverse("messaging:compose", args=[account.name]),
        {"sender": "short", "lists": [rlist.pk], "message": "Vente privée", "no_stop_clause": "on",
         "sms_class": "phoneDisplay", "when": "now", "send": "1"},
    )  # fmt: skip
    job = SmsJob.objects.get()
    sources = dict(OutgoingMessage.objects.filter(job=job).values_list("receiver", "source"))
    assert sources == {"+33612345681": "list:3", "+33612345682": "list:3"}


def test_send_to_contacts_chosen_in_a_book(owner_client, account, book, scripted_operator):
    lea, paul, _fixe = Contact.objects.order_by("pk")
    compose = reverse("messaging:compose", args=[account.name])
    # The book page's "send to the selected contacts" button is a GET with their ids.
    html = owner_client.get(compose, {"ids": [lea.pk, paul.pk]}).content.decode()
    assert 'data-testid="chosen-contacts"' in html and "Léa Martin" in html
    assert 'class="field-errors"' not in html  # not validated yet

    owner_client.post(
        compose,
        {"sender": "short", "contacts": [lea.pk, paul.pk], "message": "Bonjour {{ name }}",
         "no_stop_clause": "on", "sms_class": "phoneDisplay", "when": "now", "send": "1"},
    )  # fmt: skip
    job = SmsJob.objects.get()
    rows = {m.receiver: (m.source, m.text) for m in OutgoingMessage.objects.filter(job=job)}
    assert rows == {
        "+33612345671": (f"contact:{lea.pk}", "Bonjour Léa"),
        "+33612345672": (f"contact:{paul.pk}", "Bonjour Paul"),
        "+33612345673": (f"contact:{paul.pk}", "Bonjour Paul"),
    }


def test_contacts_of_another_account_are_ignored(client, outsider, book):
    contact = Contact.objects.filter(book=book).first()
    client.force_login(outsider)
    own = outsider.sms_accounts.get()
    html = client.get(reverse("messaging:compose", args=[own.name]), {"ids": [contact.pk]})
    assert 'data-testid="chosen-contacts"' not in html.content.decode()
