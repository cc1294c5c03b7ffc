import csv
import io
from functools import partial
from urllib.parse import urlencode

from django.contrib import messages
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.db import IntegrityError, transaction
from django.http import HttpRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling, trigger_client_event

from accounts.access import account_view
from core.csv_export import stream_csv
from core.views import confirm_delete

from . import parsers, services
from .forms import BookForm, ContactForm, ImportForm, import_max_bytes
from .models import AddressBook, Contact, ContactImport

TAB = "addressbooks"


def _book_for(request, book_id) -> AddressBook:
    return get_object_or_404(AddressBook, pk=book_id, account=request.account)


def _book_url(book, **query) -> str:
    url = reverse("addressbooks:book", args=[book.account.name, book.pk])
    query = {k: v for k, v in query.items() if v}
    return f"{url}?{urlencode(query)}" if query else url


@account_view
@require_http_methods(["GET", "POST"])
def book_list(request: HttpRequest):
    account = request.account
    form = BookForm(request.POST or None, account=account)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                book = services.book_create(account=account, name=form.cleaned_data["name"])
        except IntegrityError:
            form.add_error("name", _("An address book already has this name."))
        else:
            messages.success(request, _("The address book %(name)s was created.") % {"name": book})
            return redirect(_book_url(book))
    context = {
        "account": account,
        "heading": _("Address books"),
        "items": AddressBook.objects.filter(account=account),
        "form": form,
        "tab": TAB,
    }
    return render(request, "addressbooks/list.html", context)


@account_view
def book_detail(request: HttpRequest, book_id: int):
    account = request.account
    book = _book_for(request, book_id)
    query = request.GET.get("q", "")[:100]
    try:
        after = int(request.GET.get("after") or 0)
        before = int(request.GET.get("before") or 0)
    except ValueError:
        after = before = 0
    contacts, has_previous, has_next = services.book_page(
        book, query=query, after=after, before=before
    )
    context = {
        "account": account,
        "book": book,
        "contacts": contacts,
        "query": query,
        "previous_url": _book_url(book, q=query, before=contacts[0].pk)
        if has_previous and contacts
        else "",
        "next_url": _book_url(book, q=query, after=contacts[-1].pk)
        if has_next and contacts
        else "",
        "last_import": book.imports.first(),
        "tab": TAB,
    }
    template = "addressbooks/book.html"
    if request.htmx and request.htmx.target == "contacts":
        template += "#contacts_table"
    return render(request, template, context)


@account_view
@require_http_methods(["GET", "POST"])
def book_rename(request: HttpRequest, book_id: int):
    account = request.account
    book = _book_for(request, book_id)
    form = BookForm(request.POST or None, instance=book, account=account)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.book_rename(book, form.cleaned_data["name"])
        except IntegrityError:
            form.add_error("name", _("An address book already has this name."))
        else:
            messages.success(request, _("The address book was renamed %(name)s.") % {"name": book})
            return redirect("addressbooks:list", account.name)
    return render(
        request,
        "addressbooks/rename.html",
        {"account": account, "book": book, "form": form, "tab": TAB},
    )


@account_view
@require_http_methods(["GET", "POST"])
def book_delete(request: HttpRequest, book_id: int):
    account = request.account
    book = _book_for(request, book_id)
    index = reverse("addressbooks:list", args=[account.name])
    return confirm_delete(
        request, template="addressbooks/delete.html",
        context=lambda: {
            "tab": TAB,
            "title": _("Delete an address book"),
            "question": _("Delete the address book %(name)s?") % {"name": book.name},
            "count": book.contacts_count,
        },
        delete=partial(services.book_delete, book),
        deleted_message=_("The address book %(name)s and its contacts were deleted.")
        % {"name": book.name},
        done_url=index,
    )  # fmt: skip


@account_view
@require_http_methods(["GET", "POST"])
def contact_add(request: HttpRequest, book_id: int):
    account = request.account
    book = _book_for(request, book_id)
    form = ContactForm(request.POST or None, book=book)
    if request.method == "POST" and form.is_valid():
        contact = services.contact_save(form.instance)
        messages.success(request, _("The contact %(name)s was added.") % {"name": contact})
        return redirect(_book_url(book))
    return render(
        request,
        "addressbooks/contact_form.html",
        {"account": account, "book": book, "form": form, "tab": TAB},
    )


@account_view
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, contact_id: int):
    account = request.account
    contact = get_object_or_404(
        Contact.objects.select_related("book"), pk=contact_id, book__account=account
    )
    book = contact.book
    form = ContactForm(request.POST or None, instance=contact, book=book)
    if request.method == "POST" and form.is_valid():
        services.contact_save(form.instance)
        messages.success(request, _("The contact %(name)s was saved.") % {"name": contact})
        return redirect(_book_url(book))
    return render(
        request,
        "addressbooks/contact_form.html",
        {"account": account, "book": book, "form": form, "contact": contact, "tab": TAB},
    )


@account_view
@require_POST
def contacts_delete(request: HttpRequest, book_id: int):
    book = _book_for(request, book_id)
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    deleted = services.contacts_delete(book, ids) if ids else 0
    if deleted:
        messages.success(request, _("%(count)s contact(s) deleted.") % {"count": deleted})
    else:
        messages.warning(request, _("Select the contacts to delete."))
    return redirect(_book_url(book, q=request.POST.get("q", "")))


@account_view
@require_POST
def contacts_send(request: HttpRequest, book_id: int):
    """ "Send an SMS to the selected contacts": the ticked contacts of this book, handed to the
    send form in its address. A POST (the form also carries the CSRF token), answered with a
    redirect, so that the token never ends up in the address bar or the history."""
    book = _book_for(request, book_id)
    ticked = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    ids = list(book.contacts.filter(pk__in=ticked).values_list("pk", flat=True)) if ticked else []
    if not ids:
        messages.warning(request, _("Select the contacts to send an SMS to."))
        return redirect(_book_url(book, q=request.POST.get("q", "")))
    url = reverse("messaging:compose", args=[request.account.name])
    return redirect(f"{url}?{urlencode({'ids': ids}, doseq=True)}")


class _SizeLimit(FileUploadHandler):
    """Stops reading the upload as soon as it passes the limit (the CSRF middleware would
    otherwise read the whole body into a temporary file first: see csrf_exempt below)."""

    def __init__(self, request, limit):
        super().__init__(request)
        self.limit = limit
        self.received = 0

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > self.limit + 64 * 1024:
            self.request.upload_too_large = True

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit or getattr(self.request, "upload_too_large", False):
            self.request.upload_too_large = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None


@csrf_exempt  # only to put the size limit before the body is read; csrf_protect follows
def import_upload(request: HttpRequest, service: str, book_id: int):
    request.upload_handlers.insert(0, _SizeLimit(request, import_max_bytes()))
    return _import_upload(request, service, book_id)


@csrf_protect
@account_view
@require_http_methods(["GET", "POST"])
def _import_upload(request: HttpRequest, book_id: int):
    account = request.account
    book = _book_for(request, book_id)
    limit = import_max_bytes()
    form = ImportForm()
    too_large = ""
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if getattr(request, "upload_too_large", False):
            form = ImportForm()
            too_large = _("This file is too large: the limit is %(limit)s.") % {
                "limit": filesizeformat(limit)
            }
        elif form.is_valid():
            try:
                with transaction.atomic():
                    services.import_start(book=book, upload=form.cleaned_data["file"])
            except services.BookError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Your contacts are being imported."))
                return redirect(_book_url(book))
    return render(
        request,
        "addressbooks/import.html",
        {
            "account": account,
            "book": book,
            "form": form,
            "limit": limit,
            "too_large": too_large,
            "tab": TAB,
        },  # fmt: skip
    )


def _import_for(request, import_id) -> ContactImport:
    return get_object_or_404(
        ContactImport.objects.select_related("book"), pk=import_id, book__account=request.account
    )


@account_view
def import_status(request: HttpRequest, import_id: int):
    """The progress box (polled by HTMX every second while it runs) or the full report."""
    account = request.account
    imp = _import_for(request, import_id)
    context = {"account": account, "book": imp.book, "imp": imp, "tab": TAB}
    if request.htmx:
        response = render(request, "addressbooks/book.html#import_progress", context)
        if not imp.running:
            # Stop polling, and have the contacts table reload itself.
            return trigger_client_event(
                HttpResponseStopPolling(response.content), "contacts-imported"
            )
        return response
    errors = [
        {**error, "label": services.LINE_REASONS.get(error["reason"], error["reason"])}
        for error in imp.errors
    ]
    context["errors"] = errors
    context["failure_message"] = (
        services.file_error_message(imp.failure, imp.errors[0]["line"] if imp.errors else None)
        if imp.failure
        else ""
    )
    return render(request, "addressbooks/import_report.html", context)


def _csv_response(rows, filename: str) -> StreamingHttpResponse:
    # The rule of every export (core.csv_export): the import takes the apostrophe off again,
    # so an exported book imports back unchanged.
    return stream_csv(rows, filename)


@account_view
def import_rejected(request: HttpRequest, import_id: int):
    imp = _import_for(request, import_id)

    def rows():
        yield [_("Line"), _("Reason"), _("Column"), _("Value")]
        if not imp.report:
            for error in imp.errors:
                label = services.LINE_REASONS.get(error["reason"], error["reason"])
                yield [error["line"], label, "", error.get("value", "")]
            return
        with imp.report.open("rb") as binary:
            text = io.TextIOWrapper(binary, encoding="utf-8", newline="")
            for line, reason, column, value in csv.reader(text, delimiter=";"):
                yield [line, services.LINE_REASONS.get(reason, reason), column, value]

    return _csv_response(rows(), f"import-{imp.pk}-rejected.csv")


@account_view
def book_export(request: HttpRequest, book_id: int):
    book = _book_for(request, book_id)
    fields = parsers.FIELDS  # the order of EXPORT_HEADER

    def rows():
        yield parsers.EXPORT_HEADER
        last = 0
        while True:
            chunk = list(
                Contact.objects.filter(book=book, pk__gt=last)
                .order_by("pk")
                .values_list("pk", *fields)[:5000]
            )
            if not chunk:
                return
            last = chunk[-1][0]
            for row in chunk:
                yield row[1:]

    return _csv_response(rows(), f"{slugify(book.name) or 'contacts'}.csv")
