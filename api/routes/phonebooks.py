"""/sms/{serviceName}/phonebooks: address books, their contacts, and imports into them.
A phonebook's bookKey is its id as text."""

from datetime import datetime
from typing import Literal

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Router, Schema

from addressbooks import parsers
from addressbooks import services as books
from addressbooks.forms import BookForm, ContactForm, ImportForm
from addressbooks.models import AddressBook, Contact

from .. import schemas
from .. import services as api_services
from ..errors import ApiError
from ..schemas import responses
from .base import account_for, done, form_invalid, parse_id
from .documents import source_file
from .history import csv_lines

router = Router(tags=["phonebooks"])

# The placeholder OVHcloud's API puts in empty phonebook number fields.
EMPTY_NUMBER = "0033"
_CONTACT_FIELDS = {
    "homeMobile": "home_mobile",
    "homePhone": "home_phone",
    "workMobile": "work_mobile",
    "workPhone": "work_phone",
}
_CONTACTS = "/sms/{serviceName}/phonebooks/{bookKey}/phonebookContact"


def _book(request, service_name: str, book_key: str) -> AddressBook:
    account = account_for(request, service_name)
    pk = parse_id(book_key)
    if pk is None:
        raise Http404
    return get_object_or_404(AddressBook, account=account, pk=pk)


def _book_name(account, name: str, instance=None) -> str:
    form = BookForm(data={"name": name}, account=account, instance=instance)
    if not form.is_valid():
        raise form_invalid(form)
    return form.cleaned_data["name"]


@router.get("/sms/{serviceName}/phonebooks", response=responses(list[str]))
def phonebooks_list(request, serviceName: str):
    account = account_for(request, serviceName)
    return [str(pk) for pk in AddressBook.objects.filter(account=account).order_by("pk")
            .values_list("pk", flat=True)]  # fmt: skip


@router.post("/sms/{serviceName}/phonebooks", response=responses(str))
def phonebooks_create(request, serviceName: str, payload: schemas.PhonebookIn):
    """Create an address book; returns its bookKey."""
    account = account_for(request, serviceName)
    book = books.book_create(account=account, name=_book_name(account, payload.name))
    return str(book.pk)


@router.get("/sms/{serviceName}/phonebooks/{bookKey}", response=responses(schemas.PhonebookOut))
def phonebooks_get(request, serviceName: str, bookKey: str):
    book = _book(request, serviceName, bookKey)
    return {"bookKey": str(book.pk), "name": book.name, "phoneKey": str(book.pk)}


@router.put("/sms/{serviceName}/phonebooks/{bookKey}", response=responses(None))
def phonebooks_update(request, serviceName: str, bookKey: str, payload: schemas.PhonebookIn):
    book = _book(request, serviceName, bookKey)
    books.book_rename(book, _book_name(book.account, payload.name, instance=book))
    return done()


@router.delete("/sms/{serviceName}/phonebooks/{bookKey}", response=responses(None))
def phonebooks_delete(request, serviceName: str, bookKey: str):
    books.book_delete(_book(request, serviceName, bookKey))
    return done()


def _contact_out(contact: Contact) -> dict:
    out = {"id": contact.pk, "surname": contact.surname, "name": contact.name,
           "group": contact.group}  # fmt: skip
    for api_name, field in _CONTACT_FIELDS.items():
        out[api_name] = getattr(contact, field) or None
    return out


def _contact_save(book: AddressBook, payload: schemas.ContactIn, instance=None) -> Contact:
    data = {"surname": payload.surname, "name": payload.name, "group": payload.group}
    for api_name, field in _CONTACT_FIELDS.items():
        value = (getattr(payload, api_name) or "").strip()
        data[field] = "" if value == EMPTY_NUMBER else value
    form = ContactForm(data=data, book=book, instance=instance)
    if not form.is_valid():
        raise form_invalid(form)
    return books.contact_save(form.save(commit=False))


def _contact(request, service_name, book_key, pk) -> Contact:
    return get_object_or_404(Contact, book=_book(request, service_name, book_key), pk=pk)


@router.get(_CONTACTS, response=responses(list[int]))
def contacts_list(request, serviceName: str, bookKey: str):
    book = _book(request, serviceName, bookKey)
    return list(book.contacts.order_by("pk").values_list("pk", flat=True))


@router.post(_CONTACTS, response=responses(int))
def contacts_create(request, serviceName: str, bookKey: str, payload: schemas.ContactIn):
    """Add a contact; returns its id."""
    return _contact_save(_book(request, serviceName, bookKey), payload).pk


@router.get(_CONTACTS + "/{id}", response=responses(schemas.ContactOut))
def contacts_get(request, serviceName: str, bookKey: str, id: int):
    return _contact_out(_contact(request, serviceName, bookKey, id))


@router.put(_CONTACTS + "/{id}", response=responses(None))
def contacts_update(request, serviceName: str, bookKey: str, id: int, payload: schemas.ContactIn):
    contact = _contact(request, serviceName, bookKey, id)
    _contact_save(contact.book, payload, instance=contact)
    return done()


@router.delete(_CONTACTS + "/{id}", response=responses(None))
def contacts_delete(request, serviceName: str, bookKey: str, id: int):
    contact = _contact(request, serviceName, bookKey, id)
    books.contacts_delete(contact.book, [contact.pk])
    return done()


@router.post("/sms/{serviceName}/phonebooks/{bookKey}/import", response=responses(schemas.TaskOut))
def phonebooks_import(request, serviceName: str, bookKey: str, payload: schemas.ImportIn):
    """Import a CSV, TXT or Excel document into the book, in the background."""
    book = _book(request, serviceName, bookKey)
    with source_file(request, payload.documentId, None) as upload:
        form = ImportForm(data={}, files={"file": upload})
        if not form.is_valid():
            raise form_invalid(form)
        try:
            imp = books.import_start(book=book, upload=form.cleaned_data["file"])
        except books.BookError as exc:
            raise ApiError(409, str(exc), "IMPORT_RUNNING") from None
    return {"taskId": imp.pk, "function": "importPhonebook", "status": "todo"}


class PcsFile(Schema):
    filename: str
    status: Literal["doing", "done", "error", "todo"]
    url: str
    urlExpirationDatetime: datetime


@router.get("/sms/{serviceName}/phonebooks/{bookKey}/export", response=responses(PcsFile))
def phonebooks_export(request, serviceName: str, bookKey: str, format: Literal["csv"]):
    """The book's contacts as the panel exports them (`;`, the import's headers), in a
    /me/document: `url` downloads it until urlExpirationDatetime."""
    book = _book(request, serviceName, bookKey)
    fields = parsers.FIELDS  # the order of EXPORT_HEADER

    def rows():
        contacts = Contact.objects.filter(book=book).order_by("pk").values_list(*fields)
        yield from contacts.iterator(chunk_size=5000)

    doc = api_services.document_with_content(
        application=request.auth.application, name=f"phonebook-{book.pk}.csv",
        chunks=csv_lines(parsers.EXPORT_HEADER, rows()),
    )  # fmt: skip
    url = request.build_absolute_uri(reverse("ovhapi:document_download", args=[doc.token]))
    return {"filename": doc.name, "status": "done", "url": url,
            "urlExpirationDatetime": doc.expires_at}  # fmt: skip
