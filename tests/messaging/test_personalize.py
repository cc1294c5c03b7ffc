import pytest
from django.urls import reverse

from addressbooks.models import AddressBook, Contact
from messaging import dispatch, personalize, services
from messaging.models import OutgoingMessage
from messaging.selectors import collect_recipients

pytestmark = pytest.mark.django_db


def test_render_fills_the_fields():
    text = "Bonjour {{ name }} {{surname}} ({{ group }}) {{ other }}"
    assert personalize.has_fields(text)
    assert (
        personalize.render(text, name="Léa", surname="Martin", group="Fleurs")
        == "Bonjour Léa Martin (Fleurs) {{ other }}"
    )
    assert not personalize.has_fields("Bonjour {{ other }}")


@pytest.fixture
def book(account):
    book = AddressBook.objects.create(account=account, name="Clients", contacts_count=2)
    Contact.objects.create(book=book, name="Léa", surname="Martin", home_mobile="+33612345671")
    Contact.objects.create(
        book=book, name="Maximilien-Alexandre", surname="X", home_mobile="+33612345672"
    )
    return book


def test_each_recipient_gets_and_pays_for_their_own_text(account, owner, book, scripted_operator):
    # "Bonjour " + name + filler: Léa's text fits one SMS, Maximilien-Alexandre's needs two.
    message = "Bonjour {{ name }}, " + "x" * 131
    parsed = collect_recipients(account=account, typed="+33699999999", books=[book])
    job = services.job_submit(
        account=account, user=owner, message=message, parsed=parsed, stop_clause=False
    )
    rows = {m.receiver: m for m in OutgoingMessage.objects.filter(job=job)}
    assert rows["+33612345671"].text == "Bonjour Léa, " + "x" * 131
    assert rows["+33612345671"].parts == 1
    assert rows["+33612345672"].parts == 2
    assert rows["+33699999999"].text == "Bonjour , " + "x" * 131  # typed: no name known
    assert job.segments == 2  # the longest
    assert job.credits == 4  # 1 + 2 + 1

    dispatch.pump()
    sent = {m.receiver: m.text for m in scripted_operator.SUBMITTED}
    assert sent["+33612345672"] == "Bonjour Maximilien-Alexandre, " + "x" * 131


def test_the_estimate_counts_the_longest_text(owner_client, account, book):
    html = owner_client.post(
        reverse("messaging:counter", args=[account.name]),
        {"message": "Bonjour {{ name }}, " + "x" * 131, "books": [book.pk], "no_stop_clause": "on"},
    ).content.decode()
    assert 'data-testid="estimate-credits">3,00<' in html  # 1 + 2
