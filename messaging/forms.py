from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from addressbooks.models import AddressBook, Contact, RecipientList
from core import recipients
from core.http import UnsafeURL, check_url
from senders.models import Sender

from .models import MessageTemplate, OutgoingMessage, SmsJob, WebhookSettings
from .schedule import MAX_PLANNED_AHEAD
from .selectors import MAX_ID

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

    def clean_message(self):
        message = self.cleaned_data["message"]
        if not message.strip():
            raise forms.ValidationError(_("The message is empty."))
        return message

    def clean_receivers(self):
        value = self.cleaned_data["receivers"]
        if len(recipients.split_entries(value)) > MAX_TYPED_RECIPIENTS:
            raise forms.ValidationError(
                _("At most %(max)s numbers can be typed here; use an address book for more."),
                params={"max": MAX_TYPED_RECIPIENTS},
            )
        return value


SHORT_NUMBER = "short"


def sender_choices(account):
    """The manager's groups: senders allowing replies, alphanumeric senders, others."""
    enabled = list(Sender.objects.filter(account=account).enabled().order_by("sender"))
    replies = [(SHORT_NUMBER, _("Number allowing replies (France only)"))] + [
        (str(s.pk), f"{s.sender} ({s.get_type_display()})") for s in enabled if s.allows_replies
    ]
    alpha = [(str(s.pk), s.sender) for s in enabled if s.type == Sender.Type.ALPHA]
    other = [
        (str(s.pk), f"{s.description} ({s.sender})" if s.description else s.sender)
        for s in enabled
        if not s.allows_replies and s.type != Sender.Type.ALPHA
    ]
    groups = [(_("Senders allowing replies"), replies)]
    if alpha:
        groups.append((_("Alphanumeric senders"), alpha))
    if other:
        groups.append((_("Other senders"), other))
    return groups


class SendForm(ComposeForm):
    """The whole send form: what to send, from whom, to whom, when."""

    sender = forms.ChoiceField(label=_("Sender"))
    sms_class = forms.ChoiceField(
        label=_("Class"), choices=SmsJob.SmsClass.choices, initial=SmsJob.SmsClass.PHONE_DISPLAY
    )
    when = forms.ChoiceField(
        label=_("Sending"),
        choices=[("now", _("Immediate")), ("later", _("Deferred"))],
        initial="now",
        widget=forms.RadioSelect,
    )
    scheduled_at = forms.DateTimeField(
        label=_("Date and time of sending"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"],
        help_text=_("At most one year ahead: the credits are held until the send."),
    )
    tag = forms.CharField(label=_("Tag"), max_length=64, required=False)
    books = forms.ModelMultipleChoiceField(
        label=_("Address books"),
        queryset=AddressBook.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    lists = forms.ModelMultipleChoiceField(
        label=_("Recipient lists"),
        queryset=RecipientList.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    contacts = forms.ModelMultipleChoiceField(
        queryset=Contact.objects.none(), required=False, widget=forms.MultipleHiddenInput
    )

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account
        self.fields["contacts"].queryset = Contact.objects.filter(book__account=account)
        self.fields["sender"].choices = sender_choices(account)
        self.fields["sender"].initial = SHORT_NUMBER
        self.fields["books"].queryset = AddressBook.objects.filter(account=account)
        self.fields["lists"].queryset = RecipientList.objects.filter(
            account=account, status=RecipientList.Status.DONE  # not while its file is read
        ).order_by("slot")

    def clean_sender(self):
        value = self.cleaned_data["sender"]
        if value == SHORT_NUMBER:
            return None
        sender = Sender.objects.filter(account=self.account, pk=value).enabled().first()
        if sender is None:
            raise forms.ValidationError(_("This sender is not enabled on this account."))
        return sender

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("when") == "later":
            moment = cleaned.get("scheduled_at")
            if moment is None:
                self.add_error("scheduled_at", _("Choose the date and time of sending."))
            elif moment <= timezone.now():
                self.add_error("scheduled_at", _("The date of sending must be in the future."))
            elif moment > timezone.now() + MAX_PLANNED_AHEAD:
                self.add_error(
                    "scheduled_at",
                    _("A send can be planned at most %(days)s days ahead.")
                    % {"days": MAX_PLANNED_AHEAD.days},
                )
        else:
            cleaned["scheduled_at"] = None
        if not (
            recipients.split_entries(cleaned.get("receivers", ""))
            or cleaned.get("books")
            or cleaned.get("lists")
            or cleaned.get("contacts")
        ):
            self.add_error("receivers", _("Enter at least one recipient or pick an address book."))
        return cleaned


class WebhookSettingsForm(forms.ModelForm):
    delivery_url = forms.URLField(
        label=_("delivery report URL"),
        required=False,
        max_length=500,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/sms/dlr"}),
    )
    stop_url = forms.URLField(
        label=_("STOP URL"),
        required=False,
        max_length=500,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/sms/stop"}),
    )

    class Meta:
        model = WebhookSettings
        fields = ["delivery_url", "stop_url"]

    def _clean_url(self, name):
        url = self.cleaned_data[name]
        if url:
            try:
                check_url(url)
            except UnsafeURL as error:
                raise forms.ValidationError(
                    _("This URL cannot be used: %(reason)s.") % {"reason": error}
                ) from None
        return url

    def clean_delivery_url(self):
        return self._clean_url("delivery_url")

    def clean_stop_url(self):
        return self._clean_url("stop_url")


class MessageTemplateForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = ["name", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 7})}

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        others = MessageTemplate.objects.filter(account=self.account, name__iexact=name)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError(_("A template with this name already exists."))
        return name



# --- Filters of the history, received SMS and STOP list pages ---------------------------------


class FilterForm(forms.Form):
    """A list page's GET filters: invalid fields are shown with their error and left out of
    the query."""

    def filters(self) -> dict:
        """The valid, non-empty values."""
        self.is_valid()
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


class DateRangeForm(FilterForm):
    """Two Paris days, both included."""

    date_from = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
    date_to = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )


class HistoryFilterForm(DateRangeForm):
    receiver = forms.CharField(
        label=_("Recipient"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "+336…"}),
    )
    sender = forms.CharField(label=_("Sender"), required=False, max_length=16)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All"))] + OutgoingMessage.Status.choices,
    )
    tag = forms.CharField(label=_("Tag"), required=False, max_length=64)
    job = forms.IntegerField(label=_("Send #"), required=False, min_value=1, max_value=MAX_ID)


class NumberSearchForm(FilterForm):
    number = forms.CharField(label=_("Number"), required=False, max_length=32)


class ReceivedFilterForm(NumberSearchForm, DateRangeForm):
    pass


class StopAddForm(forms.Form):
    number = forms.CharField(
        label=_("Number"),
        max_length=32,
        widget=forms.TextInput(attrs={"placeholder": "+33601020304", "type": "tel"}),
    )

    def __init__(self, *args, region: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.region = region

    def clean_number(self):
        outcome = recipients.normalise(self.cleaned_data["number"], self.region)
        if isinstance(outcome, str):
            raise forms.ValidationError(str(INVALID_REASONS[outcome]).capitalize() + ".")
        return outcome.number


class StopRemoveForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("This person asked to receive our SMS again."),
        error_messages={"required": _("Confirm that the person asked for it.")},
    )
