"""The recipient list pages (« Listes de destinataires »), under sms/<service>/lists/."""

from functools import partial

from django.contrib import messages
from django.http import HttpRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRefresh

from accounts.access import account_view
from core.csv_export import export_stamp, stream_csv
from core.views import confirm_delete

from . import lists, parsers
from .forms import RecipientListForm
from .models import RecipientList

TAB = "lists"


def _list_for(request, slot) -> RecipientList:
    return get_object_or_404(RecipientList, account=request.account, slot=slot)


def _reasons(errors: list[dict]) -> list[dict]:
    return [
        {**error, "label": lists.CLEAN_REASONS.get(error["reason"], error["reason"])}
        for error in errors
    ]


@account_view
@require_http_methods(["GET", "POST"])
def list_index(request: HttpRequest):
    account = request.account
    existing = list(RecipientList.objects.filter(account=account))
    full = len(existing) >= RecipientList.MAX_SLOTS
    form = RecipientListForm()
    status = 200
    if request.method == "POST":
        form = RecipientListForm(request.POST, request.FILES)
        if full:
            form.errors.clear()
            form.add_error(None, _("The maximum number of lists has been reached."))
            status = 400
        elif form.is_valid():
            # The file is read by a worker (a big one takes a while); the list's page shows
            # how far it got. What its first lines refuse is said here at once.
            upload = form.cleaned_data["file"]
            try:
                lists.check_file_start(upload.file)
                rlist = lists.list_upload(
                    account=account, description=form.cleaned_data["description"], upload=upload
                )
            except lists.ListError as error:
                form.add_error(None, str(error))
            except parsers.ImportFileError as error:
                form.add_error("file", lists.file_error_message(error.code, error.line))
            else:
                return redirect("addressbooks:list_detail", account.name, rlist.slot)
            status = 400
        else:
            status = 400
    return render(
        request,
        "addressbooks/lists.html",
        {
            "account": account,
            "heading": _("Recipient lists"),
            "items": existing,
            "full": full,
            "form": form,
            "max_slots": RecipientList.MAX_SLOTS,
            "tab": TAB,
        },
        status=status,
    )


@account_view
def list_detail(request: HttpRequest, slot: int):
    return _detail(request, _list_for(request, slot))


def _detail(request: HttpRequest, rlist: RecipientList):
    account = request.account
    report = dict(rlist.report or {})
    errors = _reasons(report.get("errors", []))
    if report.get("kind") == "import":
        for error in errors:
            error["message"] = lists.line_error_message(error["line"], error["reason"])
    failure = ""
    if rlist.status == RecipientList.Status.ERROR:
        failure = lists.import_failure_message(report)
    return render(
        request,
        "addressbooks/list_detail.html",
        {
            "account": account,
            "rlist": rlist,
            "numbers": lists.first_numbers(rlist, 10) if not rlist.running else [],
            "report": report,
            "errors": errors,
            "failure": failure,
            "tab": TAB,
        },
    )


@account_view
def list_status(request: HttpRequest, slot: int):
    """The upload's progress, polled by the list's page; once read, the page reloads."""
    account = request.account
    rlist = _list_for(request, slot)
    if not request.htmx:
        return _detail(request, rlist)  # the page itself, without JavaScript
    if not rlist.running:
        return HttpResponseClientRefresh()
    return render(
        request,
        "addressbooks/list_detail.html#list_progress",
        {"account": account, "rlist": rlist, "tab": TAB},
    )


@account_view
def list_export(request: HttpRequest, slot: int):
    account = request.account
    rlist = _list_for(request, slot)

    def rows():
        yield ["number"]
        for number in lists.list_rows(rlist):
            yield [number]

    # The manager's name: kebabCase([service, "contacts", description]).
    name = slugify(f"{account.name} contacts {rlist.description}") or "contacts"
    return stream_csv(rows(), f"{name}-{export_stamp()}.csv")


@account_view
@require_http_methods(["GET", "POST"])
def list_clean(request: HttpRequest, slot: int):
    account = request.account
    rlist = _list_for(request, slot)
    if request.method == "POST":
        report = lists.list_clean(rlist)
        removed = report["duplicates"] + report["invalid"]
        messages.success(
            request,
            _("The list was cleaned: %(removed)s number(s) removed.") % {"removed": removed},
        )
        return redirect("addressbooks:list_detail", account.name, rlist.slot)
    return render(
        request, "addressbooks/list_clean.html", {"account": account, "rlist": rlist, "tab": TAB}
    )


@account_view
@require_http_methods(["GET", "POST"])
def list_delete(request: HttpRequest, slot: int):
    account = request.account
    rlist = _list_for(request, slot)
    index = reverse("addressbooks:lists", args=[account.name])
    return confirm_delete(
        request, template="addressbooks/delete.html",
        context=lambda: {
            "tab": TAB,
            "title": _("Delete a list"),
            "question": _("Delete the list %(name)s?") % {"name": rlist.description},
            "count": rlist.records,
        },
        delete=partial(lists.list_delete, rlist),
        deleted_message=_("The list %(name)s was deleted.") % {"name": rlist.description},
        done_url=index,
    )  # fmt: skip
