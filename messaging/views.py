from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from accounts.access import account_view
from addressbooks.models import AddressBook, Contact, RecipientList
from core import recipients
from core.formats import credits_number, credits_plural

from . import personalize, services, shortlinks, webhooks
from .characters import describe
from .encoding import RECOMMENDED_MAX_SEGMENTS, accent_runs, count, smart_replace, strip_accents
from .forms import (
    INVALID_REASONS,
    MAX_TYPED_RECIPIENTS,
    MessageTemplateForm,
    SendForm,
    WebhookSettingsForm,
)
from .message_pages import job_messages
from .models import (
    MessageTemplate,
    OutgoingMessage,
    SmsJob,
    WebhookDelivery,
    WebhookSettings,
)
from .schedule import in_commercial_window, next_commercial_window
from .selectors import collect_recipients


def _requested_time(data):
    if data.get("when") != "later" or not data.get("scheduled_at"):
        return None
    from django.forms import DateTimeField

    try:
        return DateTimeField(input_formats=["%Y-%m-%dT%H:%M"]).clean(data["scheduled_at"])
    except Exception:  # an invalid date is reported by the form, not by the counter
        return None


def _chosen_ids(data, name: str) -> list[str]:
    """The ids ticked in the form under `name` (books, lists, contacts)."""
    return [v for v in (data.getlist(name) if hasattr(data, "getlist") else []) if v.isdigit()]


def _chosen(model, account, data, name: str) -> list:
    """The account's books or lists ticked in the form, in the order the send takes them
    (the form's querysets are ordered the same way)."""
    values = _chosen_ids(data, name)
    if not values:
        return []
    return list(model.objects.filter(account=account, pk__in=values))


def _chosen_contacts(account, data) -> list:
    values = _chosen_ids(data, "contacts")
    if not values:
        return []  # the counter runs on every keystroke: no query for nothing
    return list(Contact.objects.filter(book__account=account, pk__in=values[:1000]))


def counter_context(account, data) -> dict:
    """Everything the counter partial shows, from the raw form data (valid or not)."""
    message = data.get("message", data.get("text", ""))  # "text" on the template page
    if data.get("smart_replace"):
        message = smart_replace(message)
    if data.get("strip_accents"):  # asked for explicitly, after the preview
        message = strip_accents(smart_replace(message))
    stop_clause = not data.get("no_stop_clause")
    # With tracked links, what is sent (and charged) has a short link for each URL.
    counted = shortlinks.shape(message) if data.get("track_links") else message
    sms = count(counted, stop_clause=stop_clause)
    replaced = smart_replace(message) if sms.non_gsm else message
    alternative = count(replaced, stop_clause=stop_clause) if replaced != message else None
    # The lossy offer: letters without accents, on top of the typographic replacement, when
    # that is what keeps the message out of Unicode.
    unaccented = strip_accents(replaced) if sms.non_gsm else replaced
    unaccented_sms = count(unaccented, stop_clause=stop_clause)
    accents = None
    if unaccented != replaced and not unaccented_sms.non_gsm:
        accents = {
            "runs": accent_runs(replaced),
            "sms": unaccented_sms,
            "saving": sms.segments - unaccented_sms.segments,
        }
    entries = recipients.split_entries(data.get("receivers", ""))
    books = _chosen(AddressBook, account, data, "books")
    lists = _chosen(RecipientList, account, data, "lists")
    contacts = _chosen_contacts(account, data)
    estimate = None
    if (entries or books or lists or contacts) and len(entries) <= MAX_TYPED_RECIPIENTS:
        # Typed numbers and chosen contacts are read here; books and lists are counted by
        # the database, whatever their size.
        parsed = collect_recipients(account=account, typed="\n".join(entries), contacts=contacts)
        estimate = services.estimate_build(
            account=account,
            sms=sms,
            parsed=parsed,
            message=counted,
            stop_clause=stop_clause,
            books=books,
            lists=lists,
        )
        estimate.invalid = [(raw, INVALID_REASONS[reason]) for raw, reason in estimate.invalid]
    # With {{ name }} fields, billing counts each recipient's own text: the figures shown are
    # those of the longest one, as the estimate's, not of the braces as typed.
    personalised = personalize.has_fields(message)
    typed_sms = sms
    if personalised and estimate is not None and estimate.longest is not None:
        sms = estimate.longest
    window_opens = None
    if stop_clause:
        moment = _requested_time(data) or timezone.now()
        if not in_commercial_window(moment):
            window_opens = next_commercial_window(moment)
    return {
        "chosen_contacts": contacts,
        "window_opens": window_opens,
        "message": message,
        "sms": sms,
        "typed_sms": typed_sms,
        "personalised": personalised,
        "stop_clause": stop_clause,
        "non_gsm": [describe(c) for c in typed_sms.non_gsm],
        "accents": accents,
        "alternative": alternative,
        "saving": alternative and typed_sms.segments - alternative.segments,
        "recommended_max": RECOMMENDED_MAX_SEGMENTS,
        "estimate": estimate,
    }


@account_view
@require_http_methods(["GET", "POST"])
def compose(request: HttpRequest):
    account = request.account
    data = request.POST.copy() if request.method == "POST" else QueryDict(mutable=True)
    from_book = request.method == "GET" and request.GET.getlist("ids")
    if from_book:
        # "Send an SMS" from an address book with contacts ticked.
        data.setlist("contacts", request.GET.getlist("ids"))
    if data.get("use_template"):
        template = MessageTemplate.objects.filter(
            account=account, pk=data.get("template") or 0
        ).first()
        if template:
            data["message"] = template.text
    context = counter_context(account, data)
    initial = {"contacts": [c.pk for c in context["chosen_contacts"]]} if from_book else {}
    form = SendForm(data if request.method == "POST" else None, initial=initial, account=account)
    if request.method == "POST":
        data["message"] = context["message"]  # after an explicit smart replacement
        if "send" in request.POST and form.is_valid():
            parsed = collect_recipients(
                account=account,
                typed=form.cleaned_data["receivers"],
                books=form.cleaned_data["books"],
                lists=form.cleaned_data["lists"],
                contacts=form.cleaned_data["contacts"],
            )
            try:
                job = services.job_submit(
                    account=account,
                    user=request.user,
                    message=form.cleaned_data["message"],
                    parsed=parsed,
                    sender=form.cleaned_data["sender"],
                    stop_clause=not form.cleaned_data["no_stop_clause"],
                    sms_class=form.cleaned_data["sms_class"],
                    tag=form.cleaned_data["tag"],
                    scheduled_at=form.cleaned_data["scheduled_at"],
                )
            except services.SendError as error:
                form.add_error(None, str(error))
            else:
                return redirect(job)
    return render(
        request,
        "messaging/compose.html",
        {
            "account": account,
            "form": form,
            "tab": "compose",
            "templates": MessageTemplate.objects.filter(account=account).only("id", "name"),
            **context,
        },
    )


@account_view
def template_text(request: HttpRequest):
    """The message box filled with a template's text (HTMX, from the send form's picker);
    the empty choice gives the box back as it was."""
    message = request.GET.get("message", "")
    if request.GET.get("template"):
        message = get_object_or_404(
            MessageTemplate, pk=request.GET["template"], account=request.account
        ).text
    return render(
        request,
        "messaging/compose.html#message_input",
        {"account": request.account, "message": message, "from_template": True},
    )


@account_view
@require_POST
def counter(request: HttpRequest):
    """The counter partial, re-rendered by HTMX on each keystroke (and on the STOP box)."""
    context = counter_context(request.account, request.POST)
    context["account"] = request.account
    context["replaced_message"] = bool(
        request.POST.get("smart_replace") or request.POST.get("strip_accents")
    )
    # The text the replacement was made from: the page applies the new text only if the box
    # still holds this one (static/js/nav.js), never over keys typed meanwhile.
    context["replaced_from"] = request.POST.get("message", "")
    context["no_replace"] = bool(request.POST.get("no_replace"))
    # Rendered without the request: the partial reads nothing the context processors give
    # (user, messages, account switcher), and running them is a tenth of this view's time.
    return HttpResponse(render_to_string("messaging/compose.html#counter", context))


def _job_for(request, job_id) -> SmsJob:
    return get_object_or_404(
        SmsJob.objects.select_related("sender"), pk=job_id, account=request.account
    )


def job_progress(job: SmsJob) -> dict:
    counts = dict(
        OutgoingMessage.objects.filter(job=job)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    total = sum(counts.values())
    waiting = sum(counts.get(status, 0) for status in OutgoingMessage.IN_FLIGHT)
    pending = waiting + counts.get("submitted", 0)
    rows = [
        (value, label, counts.get(value, 0))
        for value, label in OutgoingMessage.Status.choices
        if counts.get(value, 0) or value in ("queued", "submitted", "delivered")
    ]
    handled = total - waiting
    # What the job's badge says: a finished job none of whose messages left the panel (all
    # refused, cancelled or STOP-listed) did not send anything.
    badge = (job.status, job.get_status_display())
    left = sum(counts.get(s, 0) for s in ("submitted", "delivered", "undelivered", "expired"))
    if job.status == SmsJob.Status.DONE and total and not left:
        badge = ("failed", _("Not sent"))
    return {
        "badge": badge,
        "rows": rows,
        "total": total,
        "pending": pending,
        "submitted_pct": round(100 * handled / total) if total else 100,
        # Nothing to watch: all final, or the job waits for its time / was cancelled.
        "final": job.status in (SmsJob.Status.CANCELLED, SmsJob.Status.SCHEDULED)
        or (job.status == SmsJob.Status.DONE and pending == 0),
    }


@account_view
def job_detail(request: HttpRequest, job_id: int):
    job = _job_for(request, job_id)
    progress = job_progress(job)
    context = {"account": request.account, "job": job, "progress": progress, "tab": "history"}
    if request.htmx:
        if progress["final"] and request.GET.get("poll"):
            response = render(request, "messaging/job.html#progress", context)
            response.status_code = HttpResponseStopPolling.status_code
            return response
        return render(request, "messaging/job.html#progress", context)
    invalid = [(raw, INVALID_REASONS.get(reason, reason)) for raw, reason in job.invalid_receivers]
    return render(
        request,
        "messaging/job.html",
        {**context, "invalid": invalid, **job_messages(job, request.GET)},
    )


@account_view
@require_POST
def job_cancel(request: HttpRequest, job_id: int):
    job = _job_for(request, job_id)
    if services.job_cancel(job=job, by=request.user):
        messages.success(
            request,
            ngettext(
                "The send was cancelled and %(credits)s credit was refunded.",
                "The send was cancelled and %(credits)s credits were refunded.",
                credits_plural(job.credits),
            )
            % {"credits": credits_number(job.credits)},
        )
    else:
        messages.error(request, _("This send can no longer be cancelled: it has already started."))
    return redirect("messaging:scheduled", request.account.name)


@account_view
def scheduled(request: HttpRequest):
    # A campaign's jobs are planned with it, on the campaigns page.
    jobs = SmsJob.objects.filter(
        account=request.account, status=SmsJob.Status.SCHEDULED, campaign__isnull=True
    ).order_by("scheduled_at", "id")
    return render(
        request,
        "messaging/scheduled.html",
        {"account": request.account, "jobs": jobs, "tab": "scheduled"},
    )


@account_view
def webhook_settings_old_address(request: HttpRequest):
    """The page's address before it was named after webhooks: bookmarks keep working."""
    return redirect("messaging:webhooks", service=request.account.name, permanent=True)


@account_view
@require_http_methods(["GET", "POST"])
def webhook_settings(request: HttpRequest):
    account = request.account
    current = WebhookSettings.objects.filter(account=account).first()
    form = WebhookSettingsForm(request.POST or None, instance=current)
    new_secret = None  # shown once, right after it is generated
    if request.method == "POST" and "regenerate" in request.POST and current is not None:
        current.secret = new_secret = webhooks.new_secret()
        current.save(update_fields=["secret"])
        form = WebhookSettingsForm(instance=current)
    elif request.method == "POST" and form.is_valid():
        current, new_secret = webhooks.settings_save(account=account, **form.cleaned_data)
        if new_secret is None:
            messages.success(request, _("The callback URLs were saved."))
            return redirect("messaging:webhooks", account.name)
    log = WebhookDelivery.objects.filter(account=account).order_by("-id")[:50]
    return render(
        request,
        "messaging/webhooks.html",
        {
            "account": account,
            "form": form,
            "configured": current is not None,
            "new_secret": new_secret,
            "log": log,
            "tab": "webhooks",
        },
    )


# --- Message templates (« Modèles ») ------------------------------------------------------


@account_view
def templates(request: HttpRequest):
    rows = MessageTemplate.objects.filter(account=request.account)
    return render(
        request,
        "messaging/templates.html",
        {"account": request.account, "templates": rows, "tab": "templates"},
    )


@account_view
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, template_id: int | None = None):
    account = request.account
    instance = (
        get_object_or_404(MessageTemplate, pk=template_id, account=account)
        if template_id
        else MessageTemplate(account=account)
    )
    form = MessageTemplateForm(request.POST or None, instance=instance, account=account)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("The template %(name)s was saved.") % {"name": instance.name})
        return redirect("messaging:templates", account.name)
    counter = counter_context(account, {"text": form["text"].value() or "", "no_stop_clause": "on"})
    return render(
        request,
        "messaging/template_edit.html",
        {
            "account": account,
            "form": form,
            "template": instance,
            "tab": "templates",
            **counter,
        },
    )


@account_view
@require_POST
def template_delete(request: HttpRequest, template_id: int):
    template = get_object_or_404(MessageTemplate, pk=template_id, account=request.account)
    template.delete()
    messages.success(request, _("The template %(name)s was deleted.") % {"name": template.name})
    return redirect("messaging:templates", request.account.name)
