"""Recipient lists (« Listes de destinataires »): creation, slots, errors, preview, export,
cleaning, list_numbers, ownership."""

import codecs
import html
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse

from addressbooks import lists
from addressbooks.models import RecipientList, RecipientListNumber
from tests.addressbooks.factories import make_recipient_list

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def read_at_once(monkeypatch):
    """The upload's task runs as soon as it is queued (after commit); `read_at_once.off()`
    only records it, as a busy worker would."""
    from addressbooks import tasks

    queued = []

    class Runner:
        run = True

        def off(self):
            self.run = False
            return queued

    runner = Runner()

    def delay(list_id):
        queued.append(list_id)
        if runner.run:
            lists.list_import_run(list_id)

    monkeypatch.setattr(tasks.recipient_list_import, "delay", delay)
    return runner


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def _english(settings):
    """The assertions read the English source strings (the French catalog comes later)."""
    settings.LANGUAGE_CODE = "en"


LIST_PAGES = ("list_detail", "list_status", "list_export", "list_clean", "list_delete")


def url(name, *args):
    return reverse(f"addressbooks:{name}", args=args)


def upload(content: bytes, name="contacts.csv"):
    return SimpleUploadedFile(name, content, content_type="text/csv")


def create(client, account, content: bytes, name="contacts.csv", description="Clients"):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            url("lists", account.name), {"description": description, "file": upload(content, name)}
        )


def stored(rlist):
    return list(
        RecipientListNumber.objects.filter(rlist=rlist)
        .order_by("pk")
        .values_list("number", flat=True)
    )


def add_numbers(rlist, numbers):
    RecipientListNumber.objects.bulk_create(
        RecipientListNumber(rlist=rlist, number=n, region="FR") for n in numbers
    )
    RecipientList.objects.filter(pk=rlist.pk).update(records=len(numbers))
    rlist.refresh_from_db()


# --- creation -------------------------------------------------------------------------------


def test_create_from_a_csv_with_bom_and_semicolons(owner_client, account):
    content = codecs.BOM_UTF8 + b"nom;number\r\nDupont;+33612345678\r\nMartin;06 12 34 56 79\r\n"

    response = create(owner_client, account, content)

    rlist = RecipientList.objects.get(account=account)
    assert response.status_code == 302
    assert response["Location"] == url("list_detail", account.name, 1)
    assert (rlist.slot, rlist.description, rlist.records) == (1, "Clients", 2)
    assert stored(rlist) == ["+33612345678", "+33612345679"]
    assert set(rlist.numbers.values_list("region", flat=True)) == {"FR"}


def test_create_from_a_txt(owner_client, account):
    content = b"number\n+33612345678\n\n0033612345670\n+32470123456\n"

    response = create(owner_client, account, content, name="numeros.TXT", description="Txt")

    assert response.status_code == 302
    rlist = RecipientList.objects.get(account=account)
    assert stored(rlist) == ["+33612345678", "+33612345670", "+32470123456"]
    assert list(rlist.numbers.order_by("pk").values_list("region", flat=True)) == [
        "FR", "FR", "BE",
    ]  # fmt: skip


def test_create_takes_the_first_free_slot(owner_client, account):
    for slot in (1, 2, 4):
        RecipientList.objects.create(account=account, slot=slot, description=f"L{slot}")

    create(owner_client, account, b"number\n+33612345678\n", description="New")

    assert RecipientList.objects.get(account=account, description="New").slot == 3


def test_the_tenth_list_is_refused(owner_client, account):
    for slot in range(1, 10):
        RecipientList.objects.create(account=account, slot=slot, description=f"L{slot}")

    page = owner_client.get(url("lists", account.name))
    response = create(owner_client, account, b"number\n+33612345678\n", description="Tenth")

    assert b'data-testid="lists-full"' in page.content
    assert b'data-testid="list-create"' not in page.content
    assert response.status_code == 400
    assert "The maximum number of lists has been reached." in response.content.decode()
    assert RecipientList.objects.filter(account=account).count() == 9
    with pytest.raises(lists.ListFull):
        lists.list_create(
            account=account, description="x", binary=upload(b"number\n+33612345678\n")
        )


def test_invalid_lines_are_left_out_and_named(owner_client, account):
    content = b"number\n+33612345678\nhello\n+33612\n0140000000\n+33612345679\n"

    response = create(owner_client, account, content)

    rlist = RecipientList.objects.get(account=account)
    assert response.status_code == 302
    assert stored(rlist) == ["+33612345678", "+33612345679"]
    assert rlist.report["rejected"] == 3
    assert [e["line"] for e in rlist.report["errors"]] == [3, 4, 5]
    page = owner_client.get(url("list_detail", account.name, rlist.slot)).content.decode()
    assert "Your file contains a recipient error on line 3: not a phone number." in page
    assert "Your file contains a recipient error on line 5: not a mobile number." in page


def test_a_file_without_any_valid_line_is_refused_with_its_first_line(owner_client, account):
    response = create(owner_client, account, b"number\n\nbad\n+331\n")

    # Read in the background: the list's page says why the file made no list.
    assert response.status_code == 302
    rlist = RecipientList.objects.get(account=account)
    assert rlist.status == RecipientList.Status.ERROR and stored(rlist) == []
    page = owner_client.get(response["Location"]).content.decode()
    assert "The file contacts.csv made no list:" in page
    assert "Your file contains a recipient error on line 3" in page
    index = owner_client.get(url("lists", account.name)).content.decode()
    assert 'data-testid="list-status">Failed<' in index
    assert not rlist.file  # the upload is not kept


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"phone_no;x\n+33612345678;1\n", "a.csv", 'at least one "number" column'),
        (b"number\n+33612345678\n", "a.xlsx", "send a .csv or .txt file"),
        (b"", "a.csv", "The submitted file is empty."),
        (b"\r\n\r\n", "a.txt", "This file is empty."),
        (b"number\n\n", "a.txt", "This file has no contact after its first line."),
    ],
)
def test_file_errors(owner_client, account, content, name, message):
    response = create(owner_client, account, content, name=name)

    assert response.status_code == 400
    assert message in html.unescape(response.content.decode())
    assert not RecipientList.objects.exists()


def test_the_name_is_required_and_40_characters_at_most(owner_client, account):
    assert (
        create(owner_client, account, b"number\n+33612345678\n", description="  ").status_code
        == 400
    )
    assert (
        create(owner_client, account, b"number\n+33612345678\n", description="x" * 41).status_code
        == 400
    )
    assert (
        create(owner_client, account, b"number\n+33612345678\n", description="x" * 40).status_code
        == 302
    )


# --- pages ------------------------------------------------------------------------------------


def test_the_table_lists_the_account_lists(owner_client, account):
    rlist = make_recipient_list(account)
    make_recipient_list(_other_account())

    response = owner_client.get(url("lists", account.name))

    assert response.status_code == 200
    assert response.context["items"] == [rlist]
    assert response.context["tab"] == "lists"
    assert "Number of contacts" in response.content.decode()


def _other_account():
    from tests.accounts.factories import AccountFactory

    return AccountFactory()


def test_the_detail_shows_the_first_10_numbers(owner_client, account):
    rlist = RecipientList.objects.create(account=account, slot=1, description="Big")
    add_numbers(rlist, [f"+336120000{i:02d}" for i in range(25)])

    response = owner_client.get(url("list_detail", account.name, 1))

    assert response.context["numbers"] == [f"+336120000{i:02d}" for i in range(10)]
    assert "Showing the first 10 contacts of 25." in response.content.decode()
    assert "+33612000010" not in response.content.decode()


def test_export_is_a_reimportable_formula_safe_csv(owner_client, account):
    rlist = RecipientList.objects.create(account=account, slot=1, description="Été 2026")
    add_numbers(rlist, ["+33612345678", '=HYPERLINK("x")', "+33612345678"])

    response = owner_client.get(url("list_export", account.name, 1))

    body = b"".join(response.streaming_content).decode()
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="{account.name.lower()}-contacts-ete-2026-'
    )
    # Numbers get the apostrophe of every export (core.csv_export), as the address books' do.
    assert body == '\ufeffnumber\r\n\'+33612345678\r\n"\'=HYPERLINK(""x"")"\r\n\'+33612345678\r\n'
    # ... and the file makes a list again, with the numbers as they were.
    again = lists.list_create(
        account=account, description="Again", binary=io.BytesIO(body.encode("utf-8"))
    )
    assert list(lists.list_rows(again)) == ["+33612345678", "+33612345678"]


def test_delete_asks_then_deletes(owner_client, account):
    rlist = make_recipient_list(account)

    page = owner_client.get(url("list_delete", account.name, rlist.slot))
    response = owner_client.post(url("list_delete", account.name, rlist.slot))

    assert page.status_code == 200 and b"Its 2 contacts will be deleted" in page.content
    assert response.status_code == 302 and response["Location"] == url("lists", account.name)
    assert not RecipientList.objects.exists() and not RecipientListNumber.objects.exists()


def test_clean_dedupes_drops_invalid_numbers_and_reports(owner_client, account):
    rlist = RecipientList.objects.create(account=account, slot=1, description="Dirty")
    add_numbers(rlist, ["+33612345678", "+33612345679", "+33612345678", "+33140000000", "junk"])

    page = owner_client.get(url("list_clean", account.name, 1))
    response = owner_client.post(url("list_clean", account.name, 1))

    rlist.refresh_from_db()
    assert page.status_code == 200
    assert response.status_code == 302
    assert stored(rlist) == ["+33612345678", "+33612345679"]
    assert rlist.records == 2
    assert rlist.report["duplicates"] == 1 and rlist.report["invalid"] == 2
    detail = owner_client.get(url("list_detail", account.name, 1)).content.decode()
    assert "Duplicates removed: 1. Invalid numbers removed: 2." in detail
    assert "+33140000000" in detail and "not a mobile number" in detail
    assert "junk" in detail and "duplicate" in detail


def test_list_numbers_is_unique_e164_in_order(account):
    rlist = RecipientList.objects.create(account=account, slot=1, description="L")
    add_numbers(rlist, ["+33612345679", "+33612345678", "+33612345679"])

    assert list(lists.list_numbers(rlist)) == ["+33612345679", "+33612345678"]


def test_a_big_list(account, settings):
    content = "number\n" + "".join(f"+336{i:08d}\n" for i in range(100_000))

    rlist = lists.list_create(account=account, description="Big", binary=upload(content.encode()))

    assert rlist.records == 100_000
    assert sum(1 for _ in lists.list_numbers(rlist)) == 100_000


# --- panel uploads are read in the background --------------------------------------------


def test_an_upload_is_read_by_a_worker_while_the_page_shows_progress(
    owner_client, account, read_at_once
):
    queued = read_at_once.off()
    response = create(owner_client, account, b"number\n+33612345678\n+33612345679\n")

    rlist = RecipientList.objects.get(account=account)
    assert queued == [rlist.pk] and rlist.status == RecipientList.Status.TODO
    assert response["Location"] == url("list_detail", account.name, rlist.slot)
    page = owner_client.get(response["Location"]).content.decode()
    assert 'data-testid="list-progress"' in page and 'hx-trigger="every 1s"' in page
    assert "Waiting for a worker to start" in page
    index = owner_client.get(url("lists", account.name)).content.decode()
    assert 'data-testid="list-status">Waiting<' in index
    # The send form does not offer a list still being read.
    compose = owner_client.get(reverse("messaging:compose", args=[account.name])).content
    assert b'name="lists"' not in compose
    status = url("list_status", account.name, rlist.slot)
    polled = owner_client.get(status, HTTP_HX_REQUEST="true")
    assert polled.status_code == 200 and b'data-testid="list-progress"' in polled.content

    lists.list_import_run(rlist.pk)

    polled = owner_client.get(status, HTTP_HX_REQUEST="true")
    assert polled["HX-Refresh"] == "true"
    rlist.refresh_from_db()
    assert (rlist.status, rlist.records, rlist.lines_read, rlist.progress) == ("done", 2, 2, 100)
    page = owner_client.get(response["Location"]).content.decode()
    assert 'data-testid="list-progress"' not in page and "+33612345679" in page
    assert b'name="lists"' in owner_client.get(reverse("messaging:compose", args=[account.name])).content
    assert lists.list_import_run(rlist.pk).records == 2  # a second task changes nothing
    assert stored(rlist) == ["+33612345678", "+33612345679"]


def test_reading_reports_progress_as_it_goes(account, monkeypatch):
    monkeypatch.setattr(lists, "PROGRESS_EVERY", 2)
    seen = []
    lists.read_file(upload(b"number\n" + b"+33612345678\n" * 5), "FR", seen.append)
    assert seen == [2, 4]


def test_a_list_deleted_while_read_stays_deleted(owner_client, account, read_at_once):
    read_at_once.off()
    create(owner_client, account, b"number\n+33612345678\n")
    rlist = RecipientList.objects.get(account=account)
    name = rlist.file.name
    with TestCase.captureOnCommitCallbacks(execute=True):
        owner_client.post(url("list_delete", account.name, rlist.slot))

    assert lists.list_import_run(rlist.pk) is None
    assert not RecipientList.objects.exists() and not RecipientListNumber.objects.exists()
    assert not rlist.file.storage.exists(name)


def test_lost_uploads_are_queued_again(owner_client, account, read_at_once):
    from datetime import timedelta

    from django.utils import timezone

    queued = read_at_once.off()
    create(owner_client, account, b"number\n+33612345678\n")
    rlist = RecipientList.objects.get(account=account)
    later = timezone.now() + timedelta(minutes=3)

    with TestCase.captureOnCommitCallbacks(execute=True):
        assert lists.lists_recover_stale(now=later) == [rlist.pk]
    assert queued == [rlist.pk, rlist.pk]
    RecipientList.objects.filter(pk=rlist.pk).update(status="doing", heartbeat_at=later)
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert lists.lists_recover_stale(now=later + timedelta(minutes=5)) == []
        assert lists.lists_recover_stale(now=later + timedelta(minutes=11)) == [rlist.pk]
    lists.list_import_run(rlist.pk)
    assert RecipientList.objects.get(pk=rlist.pk).records == 1


# --- ownership --------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("page", LIST_PAGES)
def test_an_outsider_gets_404_on_every_list_page(client, account, outsider, page, method):
    from accounts.models import SmsAccount

    rlist = make_recipient_list(account)
    own = SmsAccount.objects.get(memberships__user=outsider)
    client.force_login(outsider)

    for service in (account.name, own.name):
        target = url(page, service, rlist.slot)
        response = client.get(target) if method == "get" else client.post(target)
        assert response.status_code == 404, target
    lists_url = url("lists", account.name)
    response = client.get(lists_url) if method == "get" else client.post(lists_url)
    assert response.status_code == 404
    assert RecipientList.objects.filter(pk=rlist.pk, records=2).exists()
    assert RecipientListNumber.objects.filter(rlist=rlist).count() == 2


def test_an_unknown_slot_is_404_for_the_owner(owner_client, account):
    make_recipient_list(account)

    for page in LIST_PAGES:
        assert owner_client.get(url(page, account.name, 2)).status_code == 404
