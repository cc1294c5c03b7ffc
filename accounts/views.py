from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from core import ratelimit
from core.formats import credits_number, credits_plural

from . import security, services
from .access import account_view
from .forms import AccountSettingsForm, OrderForm, SignupForm, TransferForm
from .models import CreditMovement, CreditOrder, Membership, SmsAccount


@login_required
def home(request: HttpRequest):
    accounts = list(SmsAccount.objects.for_user(request.user)[:2])
    if len(accounts) == 1:
        return redirect(accounts[0])
    return redirect("accounts:account_list")


@login_required
def account_list(request: HttpRequest):
    accounts = SmsAccount.objects.for_user(request.user).order_by("name")
    return render(request, "accounts/account_list.html", {"accounts": accounts})


@login_required
@require_http_methods(["POST"])
def account_create(request: HttpRequest):
    account = services.account_open(user=request.user)
    messages.success(request, _("The SMS account %(name)s was created.") % {"name": account.name})
    return redirect(account)


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest):
    if request.user.is_authenticated:
        return redirect("accounts:home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # Counted only for sign-ups that would succeed: a typo does not use up the budget.
        ip = ratelimit.client_ip(request)
        if ratelimit.hit(f"signup:ip:{ip}", timeout=3600) > settings.SIGNUPS_PER_ADDRESS_HOUR:
            form.add_error(
                None,
                _("Too many accounts were created from your network. Please try again later."),
            )
            return render(request, "accounts/signup.html", {"form": form}, status=429)
        with transaction.atomic():
            user = form.save()
            account = services.account_open(user=user)
        security.send_verification(request, user)
        login(request, user, backend="accounts.backends.ThrottledModelBackend")
        free = settings.SIGNUP_FREE_CREDITS
        messages.success(
            request,
            ngettext(
                "Welcome! Your SMS account %(name)s is ready. Confirm your e-mail address with "
                "the link we sent to %(email)s to receive %(credits)s free credit.",
                "Welcome! Your SMS account %(name)s is ready. Confirm your e-mail address with "
                "the link we sent to %(email)s to receive %(credits)s free credits.",
                credits_plural(free),
            )
            % {"name": account.name, "email": user.email, "credits": credits_number(free)},
        )
        return redirect(account)
    return render(request, "accounts/signup.html", {"form": form})


@account_view
def ledger(request: HttpRequest):
    account = request.account
    movements = account.movements.select_related("created_by")
    kind = request.GET.get("kind", "")
    if kind in CreditMovement.Kind.values:
        movements = movements.filter(kind=kind)
    page = Paginator(movements, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/ledger.html",
        {
            "account": account,
            "page": page,
            "kind": kind,
            "kinds": CreditMovement.Kind.choices,
            "tab": "credits",
        },
    )


@account_view
@require_http_methods(["GET", "POST"])
def transfer(request: HttpRequest):
    account = request.account
    is_owner = request.membership.role == Membership.Role.OWNER
    form = TransferForm(request.POST or None, account=account, user=request.user)
    if request.method == "POST" and is_owner and form.is_valid():
        target = form.cleaned_data["target"]
        amount = form.cleaned_data["amount"]
        try:
            services.credits_transfer(source=account, target=target, amount=amount, by=request.user)
        except services.InsufficientCredits:
            form.add_error("amount", _("This account does not hold enough credits."))
        else:
            messages.success(
                request,
                ngettext(
                    "%(amount)s credit was transferred to %(target)s.",
                    "%(amount)s credits were transferred to %(target)s.",
                    credits_plural(amount),
                )
                % {"amount": credits_number(amount), "target": target.name},
            )
            return redirect("accounts:ledger", account.name)
    return render(
        request,
        "accounts/transfer.html",
        {"account": account, "form": form, "is_owner": is_owner, "tab": "credits"},
    )


@account_view
@require_http_methods(["GET", "POST"])
def account_settings(request: HttpRequest):
    account = request.account
    is_owner = request.membership.role == Membership.Role.OWNER
    form = AccountSettingsForm(request.POST or None, instance=account)
    if request.method == "POST" and is_owner and form.is_valid():
        form.save()
        messages.success(request, _("The account settings were saved."))
        return redirect("messaging:dashboard", account.name)
    return render(
        request,
        "accounts/settings.html",
        {"account": account, "form": form, "is_owner": is_owner, "tab": "settings"},
    )


@account_view
@require_http_methods(["GET", "POST"])
def order(request: HttpRequest):
    """«Recharger»: an owner orders a credit pack; staff confirm it in the admin, which adds
    the credits. The account's orders and their state are listed below the form."""
    from .pricing import CURRENCY, pack_ranges

    account = request.account
    is_owner = request.membership.role == Membership.Role.OWNER
    form = OrderForm(request.POST or None)
    if request.method == "POST" and is_owner and form.is_valid():
        placed = services.order_create(
            account=account, quantity=form.cleaned_data["quantity"], by=request.user
        )
        messages.success(
            request,
            _(
                "Your order #%(id)s of %(credits)s credits was placed. The credits are added "
                "as soon as our team confirms it."
            )
            % {"id": placed.pk, "credits": placed.quantity},
        )
        return redirect("accounts:order", account.name)
    return render(
        request,
        "accounts/order.html",
        {
            "account": account,
            "form": form,
            "is_owner": is_owner,
            "packs": pack_ranges(),
            "currency": CURRENCY,
            "orders": CreditOrder.objects.filter(account=account)[:50],
            "tab": "order",
        },
    )
