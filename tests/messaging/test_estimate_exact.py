"""The send form's estimate is what the send debits, for any selection: big books (counted by
the database), small ones, typed numbers, contacts and lists, duplicates across them, STOP-listed
numbers, destinations at other rates (including calling codes shared by countries whose rates
differ), personalised texts."""

from decimal import Decimal

import pytest
from django.http import QueryDict
from django.urls import reverse

from accounts.models import CreditMovement, DestinationRate
from addressbooks.models import AddressBook, Contact, RecipientList, RecipientListNumber
from messaging.models import SmsJob, StopListEntry
from messaging.views import counter_context

pytestmark = pytest.mark.django_db

BIG = 20_001  # above the old limit past which books were left out of the estimate
JERSEY, GB, BELGIUM = "+447797123456", "+447400123456", "+32470123456"
US, CANADA, MONACO = "+12015550123", "+16135550123", "+37761234567"


def french(i: int) -> str:
    return f"+3361{i:07d}"


@pytest.fixture
def rich(account):
    account.credits = Decimal("1000000.00")
    account.save(update_fields=["credits"])
    DestinationRate.objects.filter(country="GB").update(credits_per_segment=Decimal("0.90"))
    DestinationRate.objects.update_or_create(
        country="JE",
        defaults={"name": "Jersey", "calling_code": 44, "credits_per_segment": Decimal("2.50")},
    )
    DestinationRate.objects.filter(country="CA").update(credits_per_segment=Decimal("0.75"))
    DestinationRate.objects.filter(country="MC").delete()  # not served
    return account


@pytest.fixture
def selection(rich):
    """A big book (bulk-inserted), a small one, a list and a STOP list that overlap."""
    big = AddressBook.objects.create(account=rich, name="A big one")
    names = ["Al", "Béatrice", "Zoë", "Maximilien-Alexandre", ""]
    rows = []
    for i in range(BIG):
        home = french(i)
        # Every tenth contact also has a work mobile; every 1000th repeats an earlier number.
        work = french(i + 500_000) if i % 10 == 0 else ""
        if i % 1000 == 999:
            home = french(i - 1)
        rows.append(
            Contact(
                book=big, name=names[i % 5], surname="Martin", home_mobile=home,
                work_mobile=work, primary_number=home,
            )
        )  # fmt: skip
    rows += [
        Contact(book=big, name="Jo", home_mobile=JERSEY, primary_number=JERSEY),
        Contact(book=big, name="Gail", home_mobile=GB, primary_number=GB),
        Contact(book=big, name="Bob", home_mobile=US, work_mobile=CANADA, primary_number=US),
        Contact(book=big, name="Mo", home_mobile=MONACO, primary_number=MONACO),
    ]
    Contact.objects.bulk_create(rows, batch_size=2000)
    big.contacts_count = len(rows)
    big.save(update_fields=["contacts_count"])

    small = AddressBook.objects.create(account=rich, name="B small one")
    for number, name in [(french(3), "Ève"), (BELGIUM, "Bart"), (french(900_001), "Ünal")]:
        Contact(book=small, name=name, home_mobile=number).save()

    rlist = RecipientList.objects.create(account=rich, slot=1, description="Liste", records=3)
    RecipientListNumber.objects.bulk_create(
        RecipientListNumber(rlist=rlist, number=n, region=r)
        for n, r in [(french(4), "FR"), (french(900_002), "FR"), (french(900_002), "FR")]
    )
    for number in (french(5), french(6), BELGIUM):
        StopListEntry.objects.create(account=rich, number=number)
    return {"books": [big.pk, small.pk], "lists": [rlist.pk]}


TYPED = f"{french(7)}\n{french(900_003)}\nnot a number"


def form_data(selection, *, message, typed=TYPED):
    data = QueryDict(mutable=True)
    data.update(
        {
            "receivers": typed,
            "message": message,
            "no_stop_clause": "on",
            "sender": "short",
            "sms_class": "phoneDisplay",
            "when": "now",
            "scheduled_at": "",
            "tag": "",
        }
    )
    data.setlist("books", [str(pk) for pk in selection["books"]])
    data.setlist("lists", [str(pk) for pk in selection["lists"]])
    return data


def estimate_and_charge(client, account, data):
    estimate = counter_context(account, data)["estimate"]
    before = account.credits
    response = client.post(
        reverse("messaging:compose", args=[account.name]), {**dict(data.lists()), "send": "1"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    job = SmsJob.objects.get()
    debit = CreditMovement.objects.get(account=account, kind=CreditMovement.Kind.DEBIT)
    account.refresh_from_db()
    assert before - account.credits == -debit.amount or before - account.credits == debit.amount
    return estimate, job, debit


@pytest.mark.parametrize(
    "message",
    ["Bonjour, votre commande est prête.", "Bonjour {{ name }}, votre commande est prête. " * 3],
    ids=["same text", "personalised"],
)
def test_the_estimate_is_what_the_send_debits(owner_client, rich, selection, message):
    estimate, job, debit = estimate_and_charge(
        owner_client, rich, form_data(selection, message=message)
    )

    assert estimate.credits_needed == job.credits == abs(debit.amount)
    assert estimate.recipients == job.recipients_count
    assert estimate.stoplisted == job.stoplisted_count == 3
    assert estimate.duplicates == job.duplicates_count
    assert estimate.invalid_count == len(job.invalid_receivers) == 2  # the text, Monaco
    # Nothing is left out: more recipients than the big book's contacts.
    assert estimate.recipients > BIG


def test_the_counter_shows_big_figures_with_separators(owner_client, rich, selection):
    html = owner_client.post(
        reverse("messaging:counter", args=[rich.name]),
        dict(form_data(selection, message="Bonjour").lists()),
    ).content.decode()

    estimate = counter_context(rich, form_data(selection, message="Bonjour"))["estimate"]
    shown = f"{estimate.recipients:,}".replace(",", "\xa0")
    assert f'data-testid="estimate-recipients">{shown}<' in html
    assert 'data-testid="estimate-stoplisted">3 numéros sont sur la liste STOP' in html
    assert "1\xa0000\xa0000,00" in html  # the balance, grouped


def test_a_big_book_alone_is_not_left_out(owner_client, rich, selection):
    data = form_data(selection, message="Bonjour", typed="")
    data.setlist("books", [str(selection["books"][0])])
    data.setlist("lists", [])

    estimate = counter_context(rich, data)["estimate"]

    # Distinct French numbers of the big book, minus the STOP-listed ones, plus the foreign.
    french_numbers = {
        n
        for pair in Contact.objects.filter(book_id=selection["books"][0]).values_list(
            "home_mobile", "work_mobile"
        )
        for n in pair
        if n.startswith("+33")
    }
    assert estimate.recipients == len(french_numbers) - 2 + 4
    assert estimate.credits_needed == Decimal(len(french_numbers) - 2) + Decimal(
        "2.50"
    ) + Decimal("0.90") + Decimal("0.50") + Decimal("0.75")


def test_figures_kept_while_typing_follow_a_change_of_the_book(rich, selection):
    from addressbooks.services import contact_save

    data = form_data(selection, message="Bonjour")
    first = counter_context(rich, data)["estimate"]
    contact_save(Contact(book_id=selection["books"][1], name="New", home_mobile=french(900_009)))
    StopListEntry.objects.create(account=rich, number=french(10))

    second = counter_context(rich, data)["estimate"]

    assert second.recipients == first.recipients + 1 - 1
    assert second.stoplisted == first.stoplisted + 1
