"""Pages of the login and of the person's security: the two-step login, two-factor set-up and
recovery codes, e-mail verification, and the audit events of an account."""

from urllib.parse import urlencode

import django_otp
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core import ratelimit

from . import services, throttle, twofactor
from .access import account_view
from .audit import Action, record
from .forms import CodeForm, LoginForm, ThrottledPasswordChangeForm
from .models import AuditEvent, User


def _safe_next(request, url: str, default: str) -> str:
    allowed = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if url and allowed else default


class LoginView(auth_views.LoginView):
    """Password step. With a confirmed device, the code step follows before any login."""

    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if twofactor.is_enabled(user):
            twofactor.start_code_step(self.request, user, next_url=self.get_success_url())
            return redirect("accounts:login_code")
        response = super().form_valid(form)
        if user.is_staff:
            # Staff must set up two-factor authentication before the admin opens.
            query = urlencode({"next": self.get_success_url()})
            return redirect(f"{reverse('accounts:two_factor')}?{query}")
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """The signed-in person's new password: the current one is checked under the login
    throttle (ThrottledPasswordChangeForm); the change is an audit event."""

    form_class = ThrottledPasswordChangeForm
    success_url = reverse_lazy("accounts:home")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form):
        response = super().form_valid(form)
        record(Action.PASSWORD_CHANGED, request=self.request, subject=form.user)
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """A new password set through the e-mailed link. Nothing to throttle: the link's token is
    an HMAC no one guesses; the reset is an audit event."""

    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        record(Action.PASSWORD_RESET, request=self.request, actor=form.user, subject=form.user)
        return response


@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest):
    """Code step: a code from the authenticator app, or a recovery code (used up)."""
    pending = twofactor.pending_login(request)
    user = pending and User.objects.filter(pk=pending["user"], is_active=True).first()
    if not user:
        messages.error(request, _("Your login took too long. Please log in again."))
        return redirect("accounts:login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        identity, ip = f"otp:{user.pk}", ratelimit.client_ip(request)
        try:
            throttle.reserve(identity, ip)
        except throttle.Throttled:
            form.add_error(None, LoginForm.error_messages["throttled"])
        else:
            device = django_otp.match_token(user, twofactor.normalise(form.cleaned_data["code"]))
            if device is None:
                record(Action.CODE_FAILED, request=request, subject=user)
                form.add_error("code", _("This code is not valid. Check your device's clock."))
            else:
                throttle.succeeded(identity, ip)
                del request.session[twofactor.PENDING]
                login(request, user, backend=pending["backend"])
                django_otp.login(request, device)
                return redirect(_safe_next(request, pending["next"], reverse("accounts:home")))
    return render(request, "registration/login_code.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest):
    """Set up, renew recovery codes for, or turn off two-factor authentication."""
    user = request.user
    enabled = twofactor.is_enabled(user)
    next_url = _safe_next(request, request.GET.get("next", ""), "")
    form = CodeForm(request.POST or None)
    device = None if enabled else twofactor.pending_device(user)
    if request.method == "POST" and form.is_valid():
        action, code = request.POST.get("action"), form.cleaned_data["code"]
        identity, ip = f"otp:{user.pk}", ratelimit.client_ip(request)
        try:
            throttle.reserve(identity, ip)
        except throttle.Throttled:
            form.add_error(None, LoginForm.error_messages["throttled"])
            action = None
        if action == "enable" and device is not None:
            codes = twofactor.enable(user=user, device=device, code=code)
            if codes is None:
                form.add_error("code", _("This code is not valid. Check your device's clock."))
            else:
                throttle.succeeded(identity, ip)
                django_otp.login(request, device)
                record(Action.TWO_FACTOR_ENABLED, request=request, subject=user)
                return _show_codes(request, codes, next_url)
        elif action in {"renew", "disable"} and enabled:
            used = django_otp.match_token(user, twofactor.normalise(code))
            if used is None:
                form.add_error("code", _("This code is not valid. Check your device's clock."))
            elif action == "renew":
                throttle.succeeded(identity, ip)
                codes = twofactor.recovery_codes_renew(user=user)
                record(Action.RECOVERY_CODES, request=request, subject=user)
                return _show_codes(request, codes, next_url)
            elif user.is_staff:
                form.add_error(None, _("Staff accounts must keep two-factor authentication."))
            else:
                throttle.succeeded(identity, ip)
                twofactor.disable(user=user)
                record(Action.TWO_FACTOR_DISABLED, request=request, subject=user)
                messages.success(request, _("Two-factor authentication is off."))
                return redirect("accounts:two_factor")
    context = {
        "form": form,
        "enabled": enabled,
        "next": next_url,
        "codes_left": twofactor.recovery_codes_left(user) if enabled else 0,
        "events": AuditEvent.objects.filter(subject=user).select_related("actor")[:20],
    }
    if device is not None:
        context |= {
            "qr": twofactor.qr_svg(device),
            "secret": twofactor.secret(device),
            "uri": device.config_url,
        }
    return render(request, "accounts/two_factor.html", context)


def _show_codes(request, codes: list[str], next_url: str):
    # Shown once, on the next page, then gone from the session.
    request.session["recovery_codes"] = codes
    query = f"?{urlencode({'next': next_url})}" if next_url else ""
    return redirect(reverse("accounts:recovery_codes") + query)


@login_required
def recovery_codes(request: HttpRequest):
    codes = request.session.pop("recovery_codes", None)
    if not codes:
        return redirect("accounts:two_factor")
    next_url = _safe_next(request, request.GET.get("next", ""), reverse("accounts:two_factor"))
    return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": next_url})


def verify_email(request: HttpRequest, token: str):
    user = services.email_verify(token=token)
    if user is None:
        messages.error(request, _("This confirmation link is not valid or has expired."))
    else:
        record(Action.EMAIL_VERIFIED, request=request, actor=user, subject=user)
        messages.success(
            request, _("Your e-mail address is confirmed. Your welcome credits are available.")
        )
    return redirect("accounts:home")


@login_required
@require_POST
def verify_email_send(request: HttpRequest):
    user = request.user
    if user.email_verified_at is None:
        if ratelimit.hit(f"verify-mail:{user.pk}", timeout=3600) <= 3:
            send_verification(request, user)
        messages.info(
            request, _("We sent the confirmation link to %(email)s.") % {"email": user.email}
        )
    return redirect(_safe_next(request, request.POST.get("next", ""), reverse("accounts:home")))


def send_verification(request, user) -> None:
    token = services.email_verification_token(user)
    url = request.build_absolute_uri(reverse("accounts:verify_email", args=[token]))
    services.email_verification_send(user=user, url=url)


@account_view
def events(request: HttpRequest):
    """What happened to this account: staff actions, API keys, sender decisions."""
    account = request.account
    page = Paginator(account.audit_events.select_related("actor"), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request, "accounts/events.html", {"account": account, "page": page, "tab": "events"}
    )
