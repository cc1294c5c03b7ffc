import hashlib
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, PasswordResetForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core import ratelimit
from core.formats import credits_number, credits_plural

from . import audit, throttle
from .models import SmsAccount, User


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("E-mail address"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("Incorrect e-mail address or password."),
        "throttled": _(
            "Too many failed attempts from your connection. For your security, wait a few "
            "minutes and try again."
        ),
    }

    def clean_username(self):
        # Addresses are stored in lower case (UserManager, sign-up).
        return self.cleaned_data["username"].strip().lower()

    def get_invalid_login_error(self):
        # The backend refused before checking the password (accounts.throttle).
        if getattr(self.request, "login_throttled", False):
            return forms.ValidationError(self.error_messages["throttled"], code="throttled")
        return super().get_invalid_login_error()


class ThrottledPasswordChangeForm(PasswordChangeForm):
    """Django's form, its current-password check under the login throttle (accounts.throttle).

    Whoever holds a session (a stolen one, a shared computer) could otherwise guess the
    password here without limit, then take the account over. The attempt is reserved per
    e-mail and client address like a login's, from the same budget: it is the same secret,
    so the login form and this one together let through LOGIN_THROTTLE_ATTEMPTS guesses."""

    error_messages = {
        **PasswordChangeForm.error_messages,
        "throttled": LoginForm.error_messages["throttled"],
    }

    def __init__(self, user, *args, request=None, **kwargs):
        self.request = request
        super().__init__(user, *args, **kwargs)

    def clean_old_password(self):
        identity = self.user.email
        ip = ratelimit.client_ip(self.request) if self.request is not None else "internal"
        try:
            throttle.reserve(identity, ip)
        except throttle.Throttled:
            audit.record(audit.Action.PASSWORD_THROTTLED, request=self.request, subject=self.user)
            raise forms.ValidationError(
                self.error_messages["throttled"], code="throttled"
            ) from None
        try:
            old_password = super().clean_old_password()
        except forms.ValidationError:
            audit.record(audit.Action.PASSWORD_FAILED, request=self.request, subject=self.user)
            raise
        throttle.succeeded(identity, ip)
        return old_password


class SignupForm(forms.ModelForm):
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password (again)"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = User
        fields = ["email", "first_name", "last_name", "company"]
        widgets = {"email": forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_name"].required = True
        self.fields["last_name"].required = True

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("An account already exists with this e-mail address."))
        return email

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords do not match."))
        elif p1:
            user = User(
                email=cleaned.get("email", ""),
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
            )
            try:
                password_validation.validate_password(p1, user)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned

    def save(self, commit=True):
        user = super().save(commit=False)
        user.set_password(self.cleaned_data["password1"])
        if commit:
            user.save()
        return user


class TransferForm(forms.Form):
    target = forms.ModelChoiceField(
        label=_("Destination account"), queryset=SmsAccount.objects.none(), empty_label=None
    )
    amount = forms.DecimalField(
        label=_("Credits to transfer"),
        min_value=Decimal("0.01"),
        max_digits=14,
        decimal_places=2,
    )

    def __init__(self, *args, account: SmsAccount, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account
        self.fields["target"].queryset = SmsAccount.objects.for_user(user).exclude(pk=account.pk)

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount > self.account.credits:
            raise forms.ValidationError(
                ngettext(
                    "This account only has %(credits)s credit.",
                    "This account only has %(credits)s credits.",
                    credits_plural(self.account.credits),
                ),
                params={"credits": credits_number(self.account.credits)},
            )
        return amount


class AccountSettingsForm(forms.ModelForm):
    class Meta:
        model = SmsAccount
        fields = ["description", "default_region", "low_credit_threshold", "alert_email"]

    def clean_default_region(self):
        import phonenumbers

        region = self.cleaned_data["default_region"].upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise forms.ValidationError(_("Unknown country code."))
        return region


class StaffCreditForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            ("order", _("Order")),
            ("adjustment", _("Adjustment")),
        ],
    )
    amount = forms.DecimalField(
        label=_("Credits"),
        max_digits=14,
        decimal_places=2,
        help_text=_("Negative to remove credits (adjustments only)."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=255)

    def clean(self):
        cleaned = super().clean()
        amount = cleaned.get("amount")
        if amount is not None:
            if amount == 0:
                self.add_error("amount", _("The amount cannot be zero."))
            elif amount < 0 and cleaned.get("kind") == "order":
                self.add_error("amount", _("An order cannot be negative."))
        return cleaned


def _pack_choices():
    from .pricing import PACKS

    return [(str(size), size) for size in sorted(PACKS)]


class OrderForm(forms.Form):
    """«Recharger»: one of the credit packs (accounts.pricing)."""

    quantity = forms.TypedChoiceField(
        label=_("Credit pack"), choices=_pack_choices, coerce=int, widget=forms.RadioSelect
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
        help_text=_("The 6 digits your authenticator app shows, or one of your recovery codes."),
    )


class LimitedPasswordResetForm(PasswordResetForm):
    """Django's reset form, sending at most a few e-mails per address and per client an hour.

    Whatever happens the page says the same ("if an account exists, an e-mail was sent"), so
    the form tells nobody whether an address has an account or was limited."""

    def save(self, *args, request=None, **kwargs):
        email = self.cleaned_data["email"]
        per_client = ratelimit.hit(
            f"reset:ip:{ratelimit.client_ip(request) if request else 'internal'}", timeout=3600
        )
        per_address = ratelimit.hit(
            "reset:email:" + hashlib.sha256(email.strip().lower().encode()).hexdigest(),
            timeout=3600,
        )
        if (
            per_client > settings.RESET_REQUESTS_PER_CLIENT_HOUR
            or per_address > settings.RESET_EMAILS_PER_ADDRESS_HOUR
        ):
            return
        super().save(*args, request=request, **kwargs)
