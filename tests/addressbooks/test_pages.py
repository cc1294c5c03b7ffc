"""The address book pages: books, contacts, import upload and progress, export; ownership."""

import codecs
import csv
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from addressbooks import services
from addressbooks.models import AddressBook, Contact, ContactImport
from tests.accounts.factories import AccountFactory
from tests.addressbooks.factories import BookFactory, ContactFactory, make_book, make_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(account):
    return BookFactory(account=account, name="Clients")


def url(name, *args):
    return reverse(f"addressbooks:{name}", args=args)


def add_contacts(book, n):
    Contact.objects.bulk_create(
        Contact(book=book, surname=f"Nom{i:04d}", home_mobile=f"+3361{i:07d}",
                primary_number=f"+3361{i:07d}")
        for i in range(n)
    )  # fmt: skip
    AddressBook.objects.filter(pk=book.pk).update(contacts_count=n)


# --- books ------------------------------------------------------------------------------------


def test_list_shows_the_books_of_the_account_only(owner_client, account, book):
    BookFactory(name="Not mine")

    response = owner_client.get(url("list", account.name))

    assert response.status_code == 200
    assert [b.name for b in response.context["items"]] == ["Clients"]
    assert response.context["tab"] == "addressbooks"


def test_create_a_book(owner_client, account):
    response = owner_client.post(url("list", account.name), {"name": "  Prospects   2026 "})

    book = AddressBook.objects.get(account=account)
    assert book.name == "Prospects 2026"
    assert response.status_code == 302 and response["Location"] == url(
        "book", account.name, book.pk
    )


def test_create_refuses_a_duplicate_name_and_a_long_one(owner_client, account, book):
    response = owner_client.post(url("list", account.name), {"name": "clients"})
    assert response.context["form"].errors["name"]

    response = owner_client.post(url("list", account.name), {"name": "x" * 51})
    assert response.context["form"].errors["name"]
    assert AddressBook.objects.filter(account=account).count() == 1


def test_the_same_name_in_another_account_is_fine(owner_client, account):
    BookFactory(name="Clients", account=AccountFactory())

    owner_client.post(url("list", account.name), {"name": "Clients"})

    assert AddressBook.objects.filter(account=account, name="Clients").exists()


def test_rename(owner_client, account, book):
    response = owner_client.post(url("rename", account.name, book.pk), {"name": "VIP"})

    assert response.status_code == 302
    book.refresh_from_db()
    assert book.name == "VIP"


def test_delete_asks_then_deletes_the_contacts(owner_client, account, book):
    add_contacts(book, 3)
    other = ContactFactory()

    confirm = owner_client.get(url("delete", account.name, book.pk))
    assert confirm.status_code == 200
    assert "3" in confirm.content.decode()
    assert AddressBook.objects.filter(pk=book.pk).exists()

    owner_client.post(url("delete", account.name, book.pk))

    assert not AddressBook.objects.filter(pk=book.pk).exists()
    assert list(Contact.objects.all()) == [other]


# --- contacts ---------------------------------------------------------------------------------


def test_add_a_contact_normalises_the_numbers(owner_client, account, book):
    response = owner_client.post(
        url("contact_add", account.name, book.pk),
        {"surname": "Durand", "name": "Hélène", "group": "", "home_mobile": "06 12 34 56 78",
         "home_phone": "01 40 00 00 00", "work_mobile": "", "work_phone": ""},
    )  # fmt: skip

    assert response.status_code == 302
    contact = Contact.objects.get(book=book)
    assert (contact.home_mobile, contact.home_phone, contact.primary_number) == (
        "+33612345678", "+33140000000", "+33612345678")  # fmt: skip
    book.refresh_from_db()
    assert book.contacts_count == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [({}, "__all__"), ({"home_mobile": "hello"}, "home_mobile"),
     ({"home_mobile": "+33140000000"}, "home_mobile"), ({"work_phone": "+336123"}, "work_phone")],
)  # fmt: skip
def test_add_refuses_bad_numbers(owner_client, account, book, data, field):
    response = owner_client.post(
        url("contact_add", account.name, book.pk), {"surname": "X", **data}
    )

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Contact.objects.exists()


def test_add_refuses_a_number_already_in_the_book(owner_client, account, book):
    ContactFactory(book=book, home_mobile="+33612345678")

    response = owner_client.post(
        url("contact_add", account.name, book.pk), {"home_mobile": "0612345678"}
    )

    assert response.context["form"].non_field_errors()


def test_edit_a_contact(owner_client, account, book):
    contact = ContactFactory(book=book, home_mobile="+33612345678")

    response = owner_client.post(
        url("contact_edit", account.name, contact.pk),
        {"surname": "Neuf", "home_mobile": "", "work_mobile": "+33612345679"},
    )

    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.surname, contact.home_mobile, contact.primary_number) == (
        "Neuf",
        "",
        "+33612345679",
    )


def test_delete_selected_contacts_of_this_book_only(owner_client, account, book):
    add_contacts(book, 5)
    ids = list(Contact.objects.filter(book=book).values_list("pk", flat=True))
    foreign = ContactFactory()

    owner_client.post(
        url("contacts_delete", account.name, book.pk), {"ids": [*ids[:2], foreign.pk]}
    )

    assert Contact.objects.filter(book=book).count() == 3
    assert Contact.objects.filter(pk=foreign.pk).exists()
    book.refresh_from_db()
    assert book.contacts_count == 3


def test_send_to_selected_contacts_keeps_the_csrf_token_out_of_the_address(
    owner_client, account, book
):
    add_contacts(book, 3)
    ids = list(Contact.objects.filter(book=book).order_by("pk").values_list("pk", flat=True))
    foreign = ContactFactory()
    page = owner_client.get(url("book", account.name, book.pk)).content.decode()
    assert 'formmethod="get"' not in page
    assert f'formaction="{url("contacts_send", account.name, book.pk)}"' in page

    response = owner_client.post(
        url("contacts_send", account.name, book.pk),
        {"csrfmiddlewaretoken": "x", "q": "", "ids": [ids[0], ids[2], foreign.pk]},
    )

    assert response.status_code == 302
    compose = reverse("messaging:compose", args=[account.name])
    assert response["Location"] == f"{compose}?ids={ids[0]}&ids={ids[2]}"
    form = owner_client.get(response["Location"]).content.decode()
    assert "2 contacts choisis" in form and "Nom0000" in form and "Nom0002" in form
    assert "Nom0001" not in form


def test_send_to_selected_contacts_asks_for_a_selection(owner_client, account, book):
    response = owner_client.post(url("contacts_send", account.name, book.pk), {}, follow=True)
    assert "Sélectionnez les contacts à qui envoyer un SMS." in response.content.decode()


def test_book_page_keyset_pagination(owner_client, account, book):
    add_contacts(book, 120)
    first = owner_client.get(url("book", account.name, book.pk))
    assert len(first.context["contacts"]) == 50
    assert first.context["previous_url"] == ""

    second = owner_client.get(first.context["next_url"])
    third = owner_client.get(second.context["next_url"])
    back = owner_client.get(third.context["previous_url"])

    assert [c.surname for c in second.context["contacts"]][0] == "Nom0050"
    assert [c.surname for c in third.context["contacts"]] == [
        f"Nom{i:04d}" for i in range(100, 120)
    ]
    assert third.context["next_url"] == ""
    assert back.context["contacts"] == second.context["contacts"]
    assert back.context["previous_url"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [("nom0007", ["Nom0007"]), ("06 10 00 00 12", ["Nom0012"]), ("+33610000013", ["Nom0013"]),
     ("zzz", [])],
)  # fmt: skip
def test_book_page_search(owner_client, account, book, query, expected):
    add_contacts(book, 30)

    response = owner_client.get(url("book", account.name, book.pk), {"q": query})

    assert [c.surname for c in response.context["contacts"]] == expected


def test_search_through_htmx_renders_the_table_only(owner_client, account, book):
    add_contacts(book, 3)

    response = owner_client.get(
        url("book", account.name, book.pk), {"q": "Nom0001"}, HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="contacts",
    )  # fmt: skip

    body = response.content.decode()
    assert body.lstrip().startswith('<div id="contacts"')
    assert "Nom0001" in body and "Nom0002" not in body


# --- import -----------------------------------------------------------------------------------


def upload(content: bytes, name="contacts.csv"):
    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_upload_queues_the_import_and_the_page_polls(
    owner_client, account, book, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            url("import", account.name, book.pk), {"file": upload(b"number\n+33612345678\n")}
        )

    assert response.status_code == 302
    imp = ContactImport.objects.get(book=book)
    assert queued == [imp.pk] and imp.status == "todo"
    page = owner_client.get(url("book", account.name, book.pk)).content.decode()
    assert 'hx-trigger="every 1s"' in page

    polled = owner_client.get(url("import_status", account.name, imp.pk), HTTP_HX_REQUEST="true")
    assert polled.status_code == 200 and "every 1s" in polled.content.decode()

    services.contact_import_run(imp.pk)
    polled = owner_client.get(url("import_status", account.name, imp.pk), HTTP_HX_REQUEST="true")
    assert polled.status_code == 286
    assert "every 1s" not in polled.content.decode()
    # The heading's contact count is swapped in too (out of band).
    assert re.search(r'<small id="book-count"[^>]*hx-swap-oob="true">\s*1 contact\s*<',
                     polled.content.decode())  # fmt: skip


def test_an_excel_workbook_is_accepted_and_imported(
    owner_client, account, book, queued, django_capture_on_commit_callbacks
):
    from tests.addressbooks.test_spreadsheets import xlsx

    content = xlsx([["Nom", "Prénom", "Mobile"], ["Curie", "Marie", "06 12 34 56 78"]])
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            url("import", account.name, book.pk), {"file": upload(content, "clients.xlsx")}
        )
    assert response.status_code == 302
    imp = ContactImport.objects.get(book=book)
    assert queued == [imp.pk]
    services.contact_import_run(imp.pk)
    assert list(book.contacts.values_list("surname", "home_mobile")) == [("Curie", "+33612345678")]


def test_a_second_import_while_one_runs_is_refused(
    owner_client, account, book, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(
            url("import", account.name, book.pk), {"file": upload(b"number\n+33612345678\n")}
        )
        response = owner_client.post(
            url("import", account.name, book.pk), {"file": upload(b"number\n+33612345679\n")}
        )

    assert response.status_code == 200
    assert ContactImport.objects.count() == 1


@pytest.mark.parametrize(
    ("content", "name"),
    [(b"", "a.csv"), (b"\x89PNG\r\n\x1a\n\x00\x00", "photo.csv"), (b"number\n", "a.csv"),
     (b"surname\nDupont\n", "a.csv"), (b"PK\x03\x04 not a workbook", "a.xlsx"),
     (b"number\n+33612345678\n", "a.ods")],
)  # fmt: skip
def test_upload_refuses_bad_files_at_once(owner_client, account, book, queued, content, name):
    response = owner_client.post(
        url("import", account.name, book.pk), {"file": upload(content, name)}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert not ContactImport.objects.exists() and queued == []


def test_upload_size_limit(owner_client, account, book, queued, settings):
    settings.CONTACT_IMPORT_MAX_BYTES = 100
    response = owner_client.post(
        url("import", account.name, book.pk), {"file": upload(b"number\n" + b"+33612345678\n" * 10)}
    )
    assert response.context["too_large"]  # stopped while the file streams in

    settings.CONTACT_IMPORT_MAX_BYTES = 10
    response = owner_client.post(
        url("import", account.name, book.pk),
        {"file": upload(b"number\n" + b"+33612345678\n" * 10_000)},
    )
    assert response.context["too_large"]  # refused while reading the body
    assert not ContactImport.objects.exists()


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:]), delimiter=";"))


def test_report_page_and_rejected_lines_download(owner_client, account, book):
    imp = ContactImport(book=book, original_name="c.csv")
    from django.core.files.base import ContentFile

    imp.file.save("c.csv", ContentFile(b"surname;number\nA;+33612345678\nB;nope\nC;=1+1\n"))
    services.contact_import_run(imp.pk)

    page = owner_client.get(url("import_status", account.name, imp.pk))
    assert page.status_code == 200
    assert [e["line"] for e in page.context["errors"]] == [3, 4]

    rows = _csv(owner_client.get(url("rejected", account.name, imp.pk)))
    assert rows[1:] == [["3", "pas un numéro de téléphone", "homeMobile", "nope"],
                        ["4", "pas un numéro de téléphone", "homeMobile", "'=1+1"]]  # fmt: skip


def test_export_escapes_formulas_and_reimports(owner_client, account, book):
    ContactFactory(book=book, surname='=HYPERLINK("http://evil","clic")', name="Zoé",
                   group="@corp", home_mobile="+33612345678", home_phone="+33140000000")  # fmt: skip

    response = owner_client.get(url("export", account.name, book.pk))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = _csv(response)
    assert rows == [
        ["surname", "name", "group", "homePhone", "homeMobile", "workPhone", "workMobile"],
        ['\'=HYPERLINK("http://evil","clic")', "Zoé", "'@corp", "'+33140000000",
         "'+33612345678", "", ""],
    ]  # fmt: skip

    # The export goes back in as it came out.
    other = BookFactory(account=account)
    imp = ContactImport(book=other, original_name="export.csv")
    from django.core.files.base import ContentFile

    imp.file.save("e.csv", ContentFile(codecs.BOM_UTF8 + b"".join(
        owner_client.get(url("export", account.name, book.pk)).streaming_content)))  # fmt: skip
    services.contact_import_run(imp.pk)
    again = Contact.objects.get(book=other)
    assert (again.home_mobile, again.home_phone) == ("+33612345678", "+33140000000")


# --- ownership --------------------------------------------------------------------------------


def all_urls(account):
    book = make_book(account)
    contact = ContactFactory(book=book)
    imp = make_import(account)
    s = account.name
    return [
        url("list", s), url("book", s, book.pk), url("rename", s, book.pk),
        url("delete", s, book.pk), url("export", s, book.pk), url("import", s, book.pk),
        url("contact_add", s, book.pk), url("contacts_delete", s, book.pk),
        url("contacts_send", s, book.pk), url("contact_edit", s, contact.pk), url("import_status", s, imp.pk),
        url("rejected", s, imp.pk),
    ]  # fmt: skip


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_outsider_gets_404_everywhere(client, account, outsider, method):
    client.force_login(outsider)
    book = make_book(account)

    answers = {u: getattr(client, method)(u, {"name": "Pwned", "ids": "1"}).status_code
               for u in all_urls(account)}  # fmt: skip

    assert set(answers.values()) == {404}, answers
    assert AddressBook.objects.get(pk=book.pk).name == "Sweep"


def test_an_outsider_cannot_reach_objects_through_their_own_account(client, account, outsider):
    own = AccountFactory()
    from accounts.models import Membership

    Membership.objects.create(user=outsider, account=own, role="owner")
    client.force_login(outsider)
    book = make_book(account)
    contact = ContactFactory(book=book)
    imp = make_import(account)
    s = own.name
    for u in [url("book", s, book.pk), url("delete", s, book.pk), url("export", s, book.pk),
              url("contact_edit", s, contact.pk), url("import_status", s, imp.pk),
              url("rejected", s, imp.pk)]:  # fmt: skip
        assert client.post(u, {"name": "x"}).status_code == 404, u
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_members_reach_every_page(client, account, member):
    client.force_login(member)
    answers = {u: client.get(u).status_code for u in all_urls(account)}
    assert set(answers.values()) <= {200, 405}, answers
