import phonenumbers
from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import SmsAccount

from . import selectors
from .models import Domain, Sender
from .validators import (
    MAX_DOCUMENT_SIZE,
    MAX_DOCUMENTS,
    SENDER_MAX_LENGTH,
    document_type,
    normalize_domain,
    sniff_content_type,
    validate_sender_name,
)

ACCEPT = "application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name; cleans to a list (Django's documented recipe)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class ManualSenderForm(forms.Form):
    """A sender name checked by staff, with a justification and supporting documents."""

    sender = forms.CharField(
        label=_("Sender"),
        validators=[validate_sender_name],
        widget=forms.TextInput(attrs={"maxlength": SENDER_MAX_LENGTH, "autocomplete": "off"}),
        help_text=_("At most 11 characters: letters, digits, spaces and - . , & +"),
    )
    description = forms.CharField(label=_("Description"), max_length=40, required=False)
    reason = forms.CharField(
        label=_("Short justification"),
        max_length=250,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 250}),
        help_text=_("Why you use this name (your company, brand, trade name…)."),
    )
    documents = MultipleFileField(
        label=_("Supporting documents"),
        required=False,
        help_text=_("PDF, JPEG or PNG; at most 10 files of 10 MB each."),
    )

    def __init__(self, *args, account: SmsAccount, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account

    def clean_sender(self):
        name = self.cleaned_data["sender"]
        if name.lower() in selectors.sender_names(self.account):
            raise forms.ValidationError(
                _("The sender %(sender)s already exists on this account."),
                params={"sender": name},
                code="exists",
            )
        return name

    def clean_documents(self):
        documents = self.cleaned_data["documents"]
        # Count and sizes come from the upload's metadata: refuse before reading any content.
        if len(documents) > MAX_DOCUMENTS:
            raise forms.ValidationError(
                _("You can attach at most %(max)s documents."), params={"max": MAX_DOCUMENTS}
            )
        too_big = [d.name for d in documents if d.size > MAX_DOCUMENT_SIZE]
        if too_big:
            raise forms.ValidationError(
                _("%(names)s: a document cannot exceed 10 MB."),
                params={"names": ", ".join(too_big)},
            )
        wrong = [d.name for d in documents if sniff_content_type(d) is None]
        if wrong:
            raise forms.ValidationError(
                _("%(names)s: only PDF, JPEG and PNG documents are accepted."),
                params={"names": ", ".join(wrong)},
            )
        broken = [d.name for d in documents if document_type(d) is None]
        if broken:
            raise forms.ValidationError(
                _("%(names)s: this document cannot be opened (it is damaged or protected by "
                  "a password)."),
                params={"names": ", ".join(broken)},
            )  # fmt: skip
        return documents


class CandidateSenderForm(forms.Form):
    """Pick one of the senders offered (from the profile or a domain name)."""

    sender = forms.ChoiceField(label=_("Sender"), widget=forms.RadioSelect)
    description = forms.CharField(label=_("Description"), max_length=40, required=False)

    def __init__(self, *args, candidates: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        # candidates: sender name -> where it comes from (shown next to it)
        self.candidates = candidates
        self.fields["sender"].choices = [
            (name, f"{name} ({origin})") for name, origin in candidates.items()
        ]


class DomainForm(forms.ModelForm):
    class Meta:
        model = Domain
        fields = ["name"]
        widgets = {"name": forms.TextInput(attrs={"placeholder": "example.com"})}

    def __init__(self, *args, account: SmsAccount, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account
        self.instance.account = account

    def clean_name(self):
        name = normalize_domain(self.cleaned_data["name"])
        if Domain.objects.filter(account=self.account, name=name).exists():
            raise forms.ValidationError(_("This domain name is already in your list."))
        return name


class SenderEditForm(forms.ModelForm):
    """The manager's edit dialog: the description and the "Enable the sender" switch."""

    enabled = forms.BooleanField(label=_("Enable the sender"), required=False)

    class Meta:
        model = Sender
        fields = ["description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.can_toggle:
            self.fields["enabled"].initial = self.instance.status == Sender.Status.ENABLE
        else:
            del self.fields["enabled"]


class RefuseForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for refusal"),
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Shown to the customer in the Comment column and sent by e-mail."),
    )


class VirtualNumberForm(forms.Form):
    account = forms.CharField(
        label=_("SMS account"), max_length=32, help_text=_("Service name, e.g. sms-ab12345-1")
    )
    number = forms.CharField(
        label=_("Virtual number"), max_length=20, help_text=_("International format: +33…")
    )
    description = forms.CharField(label=_("Description"), max_length=40, required=False)

    def clean_account(self):
        name = self.cleaned_data["account"].strip()
        account = SmsAccount.objects.filter(name=name).first()
        if account is None:
            raise forms.ValidationError(_("No SMS account has this name."))
        return account

    def clean_number(self):
        raw = self.cleaned_data["number"].strip()
        try:
            number = phonenumbers.parse(raw, None)
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            raise forms.ValidationError(_("Enter a valid number in international format (+33…)."))
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
