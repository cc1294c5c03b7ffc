"""The panel side of the API: a member's applications and consumer keys, and the page where a
member validates a credential an application asked for (POST /1.0/auth/credential)."""

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import audit
from accounts.access import account_view

from . import services
from .forms import ApplicationForm, ConsumerKeyForm, ValidationForm
from .models import ApiApplication, ConsumerKey


def _application_for(request, application_id) -> ApiApplication:
    return get_object_or_404(ApiApplication, pk=application_id, account=request.account)


def _key_for(request, key_id) -> ConsumerKey:
    return get_object_or_404(
        ConsumerKey.objects.for_account(request.account).select_related("application"),
        pk=key_id,
    )


def _render_keys(request, *, app_form=None, key_form=None, key_form_app=None, created=None):
    """The « API users » page. `created` holds credentials shown this once: they are in this
    response only, never in a URL, the session or a later page."""
    account = request.account
    applications = list(
        ApiApplication.objects.filter(account=account)
        .select_related("created_by")
        .prefetch_related(
            Prefetch("consumer_keys", queryset=ConsumerKey.objects.order_by("-created_at"))
        )
    )
    for app in applications:
        # The form with errors stays under its own application; the others start blank.
        app.key_form = (
            key_form if app == key_form_app else ConsumerKeyForm(auto_id=f"ck{app.pk}_%s")
        )
        app.key_form_open = app == key_form_app
    return render(
        request,
        "api/keys.html",
        {
            "account": account,
            "tab": "api",
            "applications": applications,
            "app_form": app_form or ApplicationForm(),
            "created": created,
            "endpoint": request.build_absolute_uri("/1.0"),
        },
    )


@account_view
@never_cache
def key_list(request: HttpRequest):
    return _render_keys(request)


@account_view
@never_cache
@require_POST
def application_create(request: HttpRequest):
    form = ApplicationForm(request.POST)
    if not form.is_valid():
        return _render_keys(request, app_form=form)
    app, secret = services.application_create(
        account=request.account,
        user=request.user,
        name=form.cleaned_data["name"],
        description=form.cleaned_data["description"],
    )
    created = {"kind": "application", "application": app, "secret": secret}
    return _render_keys(request, created=created)


@account_view
@never_cache
@require_POST
def key_create(request: HttpRequest, application_id: int):
    app = _application_for(request, application_id)
    form = ConsumerKeyForm(request.POST, auto_id=f"ck{app.pk}_%s")
    if form.is_valid():
        try:
            ck, key = services.consumer_key_create(
                application=app,
                user=request.user,
                access_rules=form.cleaned_data["access_rules"],
                expires_at=form.cleaned_data["expires_at"],
            )
        except ValueError:
            form.add_error("rules", _("These access rules are not valid."))
        else:
            audit.record(
                audit.Action.API_KEY_CREATED,
                request=request,
                account=request.account,
                detail=f"{app.name}: {ck.key_prefix}…",
            )
            created = {"kind": "key", "application": app, "consumer_key": ck, "key": key}
            return _render_keys(request, created=created)
    return _render_keys(request, key_form=form, key_form_app=app)


@account_view
@require_POST
def key_revoke(request: HttpRequest, key_id: int):
    ck = _key_for(request, key_id)
    services.consumer_key_revoke(ck)
    audit.record(
        audit.Action.API_KEY_REVOKED,
        request=request,
        account=request.account,
        detail=f"{ck.application.name}: {ck.key_prefix}…",
    )
    messages.success(
        request,
        _("The consumer key %(key)s… of %(application)s was revoked: it can no longer be used.")
        % {"key": ck.key_prefix, "application": ck.application.name},
    )
    return redirect("api:keys", request.account.name)


@account_view
@require_http_methods(["GET", "POST"])
def application_delete(request: HttpRequest, application_id: int):
    app = _application_for(request, application_id)
    if request.method == "POST":
        services.application_delete(app)
        messages.success(
            request,
            _("The application %(name)s and its consumer keys were deleted.") % {"name": app.name},
        )
        return redirect("api:keys", request.account.name)
    return render(
        request,
        "api/application_delete.html",
        {
            "account": request.account,
            "tab": "api",
            "application": app,
            "keys_count": app.consumer_keys.count(),
        },
    )


def _is_web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def credential_validate(request: HttpRequest, token: str):
    """Reached from the validationUrl of POST /auth/credential: only a member of the account
    the application belongs to may answer, and only once (the token is cleared then)."""
    ck = get_object_or_404(
        ConsumerKey.objects.select_related("application__account"),
        validation_token=token,
        status=ConsumerKey.Status.PENDING,
        application__account__memberships__user=request.user,
    )
    form = ValidationForm(request.POST or None)
    context = {"consumer_key": ck, "application": ck.application, "form": form}
    if request.method == "POST":
        decision = request.POST.get("decision")
        if decision == "refuse":
            if not services.credential_refuse(ck):
                raise Http404("Already answered")
            return render(request, "api/validate_done.html", {**context, "validated": False})
        if decision == "validate" and form.is_valid():
            expires_at = form.cleaned_data["expires_at"]
            if not services.credential_validate(ck, user=request.user, expires_at=expires_at):
                raise Http404("Already answered")
            audit.record(
                audit.Action.API_KEY_CREATED,
                request=request,
                account=ck.application.account,
                detail=f"{ck.application.name}: {ck.key_prefix}… (validated)",
            )
            if _is_web_url(ck.redirection):
                return HttpResponseRedirect(ck.redirection)
            return render(request, "api/validate_done.html", {**context, "validated": True})
    return render(request, "api/validate.html", context)
