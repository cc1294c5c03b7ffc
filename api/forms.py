from datetime import datetime, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import services

VALIDITY_DAYS = {"unlimited": None, "1d": 1, "30d": 30, "1y": 365}
VALIDITY_CHOICES = [
    ("unlimited", _("Unlimited")),
    ("1d", _("1 day")),
    ("30d", _("30 days")),
    ("1y", _("1 year")),
]
ACCESS_RULES = {"full": services.FULL_ACCESS, "read": services.READ_ONLY}
ACCESS_CHOICES = [
    ("full", _("Full access to the SMS API")),
    ("read", _("Read only")),
    ("custom", _("Custom rules")),
]


def expires_at_for(validity: str) -> datetime | None:
    days = VALIDITY_DAYS[validity]
    return None if days is None else timezone.now() + timedelta(days=days)


class ValidityForm(forms.Form):
    """Cleans `validity` to `expires_at` (None: the key never expires)."""

    validity = forms.ChoiceField(label=_("Validity"), choices=VALIDITY_CHOICES, initial="unlimited")

    def clean(self):
        data = super().clean()
        if data.get("validity"):
            data["expires_at"] = expires_at_for(data["validity"])
        return data


class ApplicationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    description = forms.CharField(label=_("Description"), max_length=200, required=False)


def parse_rules(text: str) -> list[dict]:
    """ "METHOD /path" one per line, blank lines ignored; raises ValidationError naming the line."""
    rules = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        words = line.split()
        try:
            if len(words) != 2:
                raise ValueError(line)
            rules += services.clean_rules([{"method": words[0], "path": words[1]}])
        except ValueError:
            raise forms.ValidationError(
                _(
                    "Line %(number)s is not a valid rule: write a method (GET, POST, PUT or "
                    "DELETE), a space, then a path starting with /, for example GET /sms/*"
                ),
                params={"number": number},
                code="invalid_rule",
            ) from None
    if not rules:
        raise forms.ValidationError(_("Write at least one rule."), code="required")
    return rules


class ConsumerKeyForm(ValidityForm):
    access = forms.ChoiceField(
        label=_("Access"), choices=ACCESS_CHOICES, initial="full", widget=forms.RadioSelect
    )
    rules = forms.CharField(
        label=_("Access rules"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "GET /sms/*\nPOST /sms/*/jobs"}),
        help_text=_(
            "One rule per line: a method (GET, POST, PUT or DELETE) and a path; * stands for "
            "any text."
        ),
    )
    field_order = ["access", "rules", "validity"]

    def clean(self):
        data = super().clean()
        access = data.get("access")
        if access == "custom":
            try:
                data["access_rules"] = parse_rules(data.get("rules", ""))
            except forms.ValidationError as error:
                self.add_error("rules", error)
        elif access:
            data["access_rules"] = ACCESS_RULES[access]
        return data


class ValidationForm(ValidityForm):
    """The validation page of a credential asked through POST /auth/credential."""
