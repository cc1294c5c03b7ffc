from functools import partial

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.access import account_view
from core.views import confirm_delete

from . import services
from .forms import (
    CandidateSenderForm,
    DomainForm,
    ManualSenderForm,
    SenderEditForm,
)
from .models import Domain, Sender
from .selectors import domain_candidates, profile_candidates

MODES = [
    ("manual", gettext_lazy("Manually (checked by our team)")),
    ("personal", gettext_lazy("From your personal data")),
    ("domain", gettext_lazy("From your domain names")),
]


def _sender_for(request, sender_id) -> Sender:
    return get_object_or_404(Sender, pk=sender_id, account=request.account)


def _list_url(account) -> str:
    return reverse("senders:list", args=[account.name])


@account_view
def sender_list(request: HttpRequest):
    senders = Sender.objects.for_account(request.account).prefetch_related("documents")
    return render(
        request,
        "senders/list.html",
        {"account": request.account, "senders": senders, "tab": "senders"},
    )


def _mode_form(mode, account, data=None, files=None):
    if mode == "manual":
        return ManualSenderForm(data, files, account=account)
    if mode == "personal":
        return CandidateSenderForm(data, candidates=profile_candidates(account))
    return CandidateSenderForm(data, candidates=domain_candidates(account))


def _render_add(request, mode, form, domain_form=None, status=200):
    account = request.account
    context = {
        "account": account,
        "tab": "senders",
        "modes": MODES,
        "mode": mode,
        "form": form,
        "domains": Domain.objects.filter(account=account) if mode == "domain" else None,
        "domain_form": domain_form or DomainForm(account=account),
    }
    template = "senders/add.html"
    if request.htmx and request.method == "GET":
        template += "#mode_panel"
    return render(request, template, context, status=status)


@account_view
@require_http_methods(["GET", "POST"])
def sender_add(request: HttpRequest):
    account = request.account
    mode = request.POST.get("mode") or request.GET.get("mode") or "manual"
    if mode not in dict(MODES):
        mode = "manual"
    if request.method == "GET":
        return _render_add(request, mode, _mode_form(mode, account))

    form = _mode_form(mode, account, request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if mode == "manual":
                sender = services.sender_request_create(
                    account=account,
                    sender=data["sender"],
                    reason=data["reason"],
                    description=data["description"],
                    documents=data["documents"],
                )
                messages.success(
                    request,
                    _(
                        "Your request for the sender %(sender)s was sent. Manual validation "
                        "takes one to two working days."
                    )
                    % {"sender": sender.sender},
                )
            else:
                origin = form.candidates[data["sender"]]
                sender = services.sender_create_validated(
                    account=account,
                    sender=data["sender"],
                    referer=Sender.Referer.NIC if mode == "personal" else Sender.Referer.DOMAIN,
                    origin=origin,
                    description=data["description"],
                )
                messages.success(
                    request,
                    _("The sender %(sender)s is enabled: you can use it now.")
                    % {"sender": sender.sender},
                )
        except services.SenderError as error:
            form.add_error("sender", str(error))
        else:
            return redirect("senders:list", account.name)
    return _render_add(request, mode, form)


@account_view
@require_POST
def domain_add(request: HttpRequest):
    account = request.account
    domain_form = DomainForm(request.POST, account=account)
    if domain_form.is_valid():
        domain = domain_form.save()
        if domain.sender_name:
            messages.success(
                request,
                _("%(domain)s was added: you can now add the sender %(sender)s.")
                % {"domain": domain.name, "sender": domain.sender_name},
            )
        else:
            messages.warning(
                request,
                _(
                    "%(domain)s was added, but its name is longer than 11 characters: it "
                    "cannot be used as a sender."
                )
                % {"domain": domain.name},
            )
        return redirect(reverse("senders:add", args=[account.name]) + "?mode=domain")
    return _render_add(
        request, "domain", _mode_form("domain", account), domain_form=domain_form, status=200
    )


@account_view
@require_POST
def domain_delete(request: HttpRequest):
    account = request.account
    try:
        domain_id = int(request.POST.get("domain", ""))
    except ValueError:
        raise Http404("No such domain") from None
    domain = get_object_or_404(Domain, pk=domain_id, account=account)
    domain.delete()
    messages.success(request, _("%(domain)s was removed.") % {"domain": domain.name})
    return redirect(reverse("senders:add", args=[account.name]) + "?mode=domain")


@account_view
@require_http_methods(["GET", "POST"])
def sender_edit(request: HttpRequest, sender_id: int):
    account = request.account
    sender = _sender_for(request, sender_id)
    form = SenderEditForm(request.POST or None, instance=sender)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                # Only the description: the status changes through its service, under a lock.
                form.instance.save(update_fields=["description"])
                if "enabled" in form.fields:
                    services.sender_set_enabled(sender, enabled=form.cleaned_data["enabled"])
        except services.SenderError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, _("The sender %(sender)s was saved.") % {"sender": sender.sender}
            )
            return redirect("senders:list", account.name)
    return render(
        request,
        "senders/edit.html",
        {
            "account": account,
            "sender": sender,
            "form": form,
            "documents": sender.documents.all(),
            "tab": "senders",
        },
    )


@account_view
@require_POST
def sender_toggle(request: HttpRequest, sender_id: int):
    """The list's enable / disable button; `enabled` is "1" or "0" (not a flip, so a double
    click cannot undo itself)."""
    account = request.account
    sender = _sender_for(request, sender_id)
    enabled = request.POST.get("enabled") == "1"
    try:
        services.sender_set_enabled(sender, enabled=enabled)
    except services.SenderError as error:
        messages.error(request, str(error))
        if request.htmx:
            return HttpResponseClientRedirect(_list_url(account))
        return redirect(_list_url(account))
    if request.htmx:
        return render(
            request, "senders/list.html#sender_row", {"account": account, "sender": sender}
        )
    if enabled:
        message = _("The sender %(sender)s is enabled.")
    else:
        message = _("The sender %(sender)s is disabled: it can no longer be used for new sends.")
    messages.success(request, message % {"sender": sender.sender})
    return redirect(_list_url(account))


@account_view
@require_http_methods(["GET", "POST"])
def sender_delete(request: HttpRequest, sender_id: int):
    account = request.account
    sender = _sender_for(request, sender_id)
    return confirm_delete(
        request,
        template="senders/delete.html",
        context=lambda: {
            "sender": sender,
            "in_use": sender.has_pending_jobs(),
            "tab": "senders",
        },
        delete=partial(services.sender_delete, sender),
        deleted_message=_("The sender %(sender)s was deleted.") % {"sender": sender.sender},
        done_url=_list_url(account),
        refusals=(services.SenderInUse,),
    )
