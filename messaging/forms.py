from django import forms
from django.utils.translation import gettext_lazy as _

from . import recipients

INVALID_REASONS = {
    recipients.NOT_A_NUMBER: _("not a phone number"),
    recipients.INVALID: _("invalid number"),
    recipients.NOT_MOBILE: _("not a mobile number"),
    "no_rate": _("destination not served"),
}

# Entries accepted in the recipients box; bigger sends go through address books and lists.
MAX_TYPED_RECIPIENTS = 1000


class ComposeForm(forms.Form):
    receivers = forms.CharField(
        label=_("Recipients"),
        required=False,
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "placeholder": _("Recipient's number (for example: +33601020304)"),
                "autocomplete": "off",
            }
        ),
        help_text=_(
            "One number per line (or separated by commas). International format (+33…, 0033…) "
            "or national numbers of the account's country."
        ),
    )
    message = forms.CharField(
        label=_("Message"),
        strip=False,
        widget=forms.Textarea(attrs={"rows": 7}),
        max_length=50_000,
    )
    no_stop_clause = forms.BooleanField(
        label=_(
            "I certify on my honour that the SMS is not of an advertising nature and ask for the "
            "removal of the STOP message."
        ),
        required=False,
    )

    def clean_receivers(self):
        value = self.cleaned_data["receivers"]
        if len(recipients.split_entries(value)) > MAX_TYPED_RECIPIENTS:
            raise forms.ValidationError(
                _("At most %(max)s numbers can be typed here; use an address book for more."),
                params={"max": MAX_TYPED_RECIPIENTS},
            )
        return value
