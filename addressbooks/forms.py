from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import lists, parsers, services
from .models import AddressBook, Contact
from .parsers import NUMBER_FIELDS

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
# Address books also take Excel workbooks (as the manager does); recipient lists only text.
IMPORT_EXTENSIONS = (".csv", ".txt", ".xls", ".xlsx")
LIST_EXTENSIONS = (".csv", ".txt")


def import_max_bytes() -> int:
    return getattr(settings, "CONTACT_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)


def _checked_file(upload, *, extensions, unsupported: str, spreadsheets: bool, error_message):
    """The checks a contacts file passes before it is queued: size, name, then the parser's
    first lines (their error through `error_message(code, line)`)."""
    limit = import_max_bytes()
    if upload.size > limit:
        raise forms.ValidationError(
            _("This file is too large (%(size)s): the limit is %(limit)s.")
            % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
        )
    if not upload.name.lower().endswith(extensions):
        raise forms.ValidationError(unsupported)
    try:
        parsers.check(upload.file, spreadsheets=spreadsheets)
    except parsers.ImportFileError as error:
        raise forms.ValidationError(error_message(error.code, error.line)) from None
    upload.seek(0)
    return upload


class BookForm(forms.ModelForm):
    class Meta:
        model = AddressBook
        fields = ["name"]
        labels = {"name": gettext_lazy("Name")}

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account
        self.fields["name"].widget.attrs.update({"maxlength": 50, "autocomplete": "off"})

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError(_("Enter a name."))
        others = AddressBook.objects.filter(account=self.account, name__iexact=name)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError(_("An address book already has this name."))
        return name


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["surname", "name", "group", *NUMBER_FIELDS]

    def __init__(self, *args, book, **kwargs):
        super().__init__(*args, **kwargs)
        self.book = book
        self.instance.book = book
        for name in NUMBER_FIELDS:
            field = self.fields[name]
            field.validators = []
            field.max_length = 32
            field.widget.attrs.update({"maxlength": 32, "inputmode": "tel", "placeholder": "+33…"})

    def _number(self, name):
        raw = self.cleaned_data.get(name, "").strip()
        if not raw:
            return ""
        number = services.normalise_number(raw, name, self.book.account.default_region)
        if number[0] != "+":
            raise forms.ValidationError(str(services.LINE_REASONS[number]).capitalize())
        return number

    def clean_home_mobile(self):
        return self._number("home_mobile")

    def clean_work_mobile(self):
        return self._number("work_mobile")

    def clean_home_phone(self):
        return self._number("home_phone")

    def clean_work_phone(self):
        return self._number("work_phone")

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        numbers = [data.get(f) for f in NUMBER_FIELDS]
        if not any(numbers):
            raise forms.ValidationError(_("Enter at least one number."))
        primary = next(n for n in numbers if n)
        twins = Contact.objects.filter(book=self.book, primary_number=primary)
        if self.instance.pk:
            twins = twins.exclude(pk=self.instance.pk)
        if twins.exists():
            raise forms.ValidationError(
                _("A contact of this address book already has the number %(number)s.")
                % {"number": primary}
            )
        return data


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Contacts file (CSV, TXT or Excel)"),
        help_text=gettext_lazy(
            "First line: the column names, e.g. surname;name;group;homePhone;homeMobile;"
            "workPhone;workMobile (or number alone). Numbers in international format "
            "(+33612345678) or French national format."
        ),
    )

    def clean_file(self):
        return _checked_file(
            self.cleaned_data["file"],
            extensions=IMPORT_EXTENSIONS,
            unsupported=_("Unsupported file format: send a .csv, .txt, .xls or .xlsx file."),
            spreadsheets=True,
            error_message=services.file_error_message,
        )


class RecipientListForm(forms.Form):
    description = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=40,
        widget=forms.TextInput(attrs={"maxlength": 40, "autocomplete": "off"}),
    )
    file = forms.FileField(
        label=gettext_lazy("Recipients file (CSV or TXT)"),
        help_text=gettext_lazy(
            "A .csv file with a number column (separator: semicolon), or a .txt file with "
            "number on the first line, then one number per line. Numbers in international "
            "format (+33612345678)."
        ),
    )

    def clean_description(self):
        description = " ".join(self.cleaned_data["description"].split())
        if not description:
            raise forms.ValidationError(_("Enter a name."))
        return description

    def clean_file(self):
        return _checked_file(
            self.cleaned_data["file"],
            extensions=LIST_EXTENSIONS,
            unsupported=_("Unsupported file format: send a .csv or .txt file."),
            spreadsheets=False,
            error_message=lists.file_error_message,
        )
