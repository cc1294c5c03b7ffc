from functools import lru_cache

from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import SmsAccount
from core.text import fold

from .parsers import NUMBER_FIELDS

E164 = RegexValidator(r"^\+[1-9][0-9]{2,14}$", _("Enter a number in international format."))


class AddressBook(models.Model):
    account = models.ForeignKey(
        SmsAccount,
        on_delete=models.CASCADE,
        related_name="address_books",
        db_index=False,
        verbose_name=_("account"),
    )
    name = models.CharField(_("name"), max_length=50)
    # Kept by the services (add, delete, import): a COUNT(*) over a million rows is not free.
    contacts_count = models.PositiveIntegerField(_("contacts"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("address book")
        verbose_name_plural = _("address books")
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="addressbook_unique_name")
        ]

    def __str__(self):
        return self.name


def search_text(surname: str, name: str, group: str) -> str:
    """What Contact.search holds for these names (see search.py)."""
    first, rest = fold(surname), _folded_pair(name, group)
    return f"{first} {rest}" if first and rest else first or rest


@lru_cache(maxsize=65_536)  # the import folds a million rows: first names and companies repeat
def _folded_pair(name: str, group: str) -> str:
    return " ".join(filter(None, (fold(name), fold(group))))


class ContactQuerySet(models.QuerySet):
    """bulk_create() and bulk_update() skip save(): they keep Contact.search all the same."""

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for contact in objs:
            contact.search = search_text(contact.surname, contact.name, contact.group)
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs, fields, *args, **kwargs):
        if {"surname", "name", "group"} & set(fields):
            objs = list(objs)
            for contact in objs:
                contact.search = search_text(contact.surname, contact.name, contact.group)
            fields = [*fields, "search"]
        return super().bulk_update(objs, fields, *args, **kwargs)


class Contact(models.Model):
    book = models.ForeignKey(
        AddressBook,
        on_delete=models.CASCADE,
        related_name="contacts",
        db_index=False,
        verbose_name=_("address book"),
    )
    surname = models.CharField(_("surname"), max_length=245, blank=True)
    name = models.CharField(_("first name"), max_length=245, blank=True)
    group = models.CharField(_("company"), max_length=50, blank=True)
    home_phone = models.CharField(_("home landline"), max_length=16, blank=True, validators=[E164])
    home_mobile = models.CharField(_("home mobile"), max_length=16, blank=True, validators=[E164])
    work_phone = models.CharField(_("work landline"), max_length=16, blank=True, validators=[E164])
    work_mobile = models.CharField(_("work mobile"), max_length=16, blank=True, validators=[E164])
    # The first number of NUMBER_FIELDS: duplicates within a book are found by it.
    primary_number = models.CharField(
        max_length=16, editable=False, verbose_name=_("primary number")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # The names folded for searching, kept by save() and the import (search.py).
    search = models.TextField(_("search text"), default="", editable=False)

    objects = ContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [
            # The book page: WHERE book_id = ? AND id > ? ORDER BY id LIMIT 51.
            models.Index(fields=["book", "id"], name="contact_book_keyset"),
            models.Index(fields=["book", "primary_number"], name="contact_book_number"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(primary_number=""), name="contact_has_a_number"
            )
        ]

    def __str__(self):
        return " ".join(p for p in (self.name, self.surname) if p) or self.primary_number

    def save(self, *args, **kwargs):
        self.primary_number = next(
            (getattr(self, f) for f in NUMBER_FIELDS if getattr(self, f)), ""
        )
        self.search = search_text(self.surname, self.name, self.group)
        super().save(*args, **kwargs)

    def numbers(self) -> list[tuple[str, str]]:
        return [
            (self._meta.get_field(f).verbose_name, getattr(self, f))
            for f in NUMBER_FIELDS
            if getattr(self, f)
        ]


class ContactImport(models.Model):
    class Status(models.TextChoices):
        TODO = "todo", _("Waiting")
        DOING = "doing", _("In progress")
        DONE = "done", _("Done")
        ERROR = "error", _("Failed")

    MAX_ERRORS_KEPT = 1000

    book = models.ForeignKey(
        AddressBook,
        on_delete=models.CASCADE,
        related_name="imports",
        verbose_name=_("address book"),
    )
    # Under MEDIA_ROOT but never served: no URL maps MEDIA_URL; read by the task only.
    file = models.FileField(upload_to="contact-imports/%Y/%m/", verbose_name=_("file"))
    original_name = models.CharField(max_length=255, verbose_name=_("original name"))
    status = models.CharField(
        max_length=5, choices=Status.choices, default=Status.TODO, verbose_name=_("status")
    )
    total_lines = models.PositiveIntegerField(default=0, verbose_name=_("lines read"))
    imported = models.PositiveIntegerField(default=0, verbose_name=_("imported"))
    duplicates = models.PositiveIntegerField(default=0, verbose_name=_("duplicates"))
    rejected = models.PositiveIntegerField(default=0, verbose_name=_("rejected"))
    # The first MAX_ERRORS_KEPT rejected lines [{line, reason, value}]; all of them are in report.
    errors = models.JSONField(default=list, blank=True, verbose_name=_("errors"))
    report = models.FileField(
        upload_to="contact-imports/reports/%Y/%m/", blank=True, verbose_name=_("report")
    )
    failure = models.CharField(
        max_length=32, blank=True, verbose_name=_("failure")
    )  # a parsers.* or "internal" code
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    # Touched with each progress update: a running import that stops beating lost its worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True, verbose_name=_("heartbeat at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("contact import")
        verbose_name_plural = _("contact imports")

    def __str__(self):
        return f"{self.original_name} → {self.book}"

    @property
    def running(self) -> bool:
        return self.status in (self.Status.TODO, self.Status.DOING)


class RecipientList(models.Model):
    """A list of recipients for sending (the API's sms.Receiver): up to MAX_SLOTS per account,
    each in a numbered slot."""

    MAX_SLOTS = 9
    MAX_ERRORS_KEPT = 100

    class Status(models.TextChoices):
        # Uploaded in the panel, its file waiting for a worker (the slot is taken).
        TODO = "todo", _("Waiting")
        # A worker reads the file; lines_read and progress follow it.
        DOING = "doing", _("Reading the file")
        # Ready to send to (the API's lists are created in this state).
        DONE = "done", _("Ready")
        # The file could not make a list; report says why. Nothing was stored.
        ERROR = "error", _("Failed")

    account = models.ForeignKey(
        SmsAccount,
        on_delete=models.CASCADE,
        related_name="recipient_lists",
        db_index=False,
        verbose_name=_("account"),
    )
    slot = models.PositiveSmallIntegerField(_("slot"))
    description = models.CharField(_("name"), max_length=40)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    records = models.PositiveIntegerField(_("contacts"), default=0)  # kept by the services
    # The last import or cleaning: {"kind", "rejected", "duplicates", "invalid", "errors": […]}.
    report = models.JSONField(default=dict, blank=True, verbose_name=_("report"))
    # A panel upload is read in the background (lists.list_import_run), as contact imports are.
    status = models.CharField(
        _("status"), max_length=5, choices=Status.choices, default=Status.DONE
    )
    file = models.FileField(_("file"), upload_to="recipient-lists/%Y/%m/", blank=True)
    original_name = models.CharField(_("original name"), max_length=255, blank=True)
    lines_read = models.PositiveIntegerField(_("lines read"), default=0)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    # Touched with each progress update: a list being read that stops beating lost its worker.
    heartbeat_at = models.DateTimeField(_("heartbeat at"), null=True, blank=True)

    class Meta:
        ordering = ["slot"]
        verbose_name = _("recipient list")
        verbose_name_plural = _("recipient lists")
        constraints = [
            models.UniqueConstraint(fields=["account", "slot"], name="recipientlist_unique_slot"),
            models.CheckConstraint(
                condition=models.Q(slot__gte=1, slot__lte=9), name="recipientlist_slot_range"
            ),
        ]

    def __str__(self):
        return self.description

    @property
    def running(self) -> bool:
        return self.status in (self.Status.TODO, self.Status.DOING)


class RecipientListNumber(models.Model):
    rlist = models.ForeignKey(
        RecipientList,
        on_delete=models.CASCADE,
        related_name="numbers",
        db_index=False,
        verbose_name=_("recipient list"),
    )
    number = models.CharField(max_length=16, verbose_name=_("number"))  # E.164
    region = models.CharField(max_length=2, blank=True, verbose_name=_("region"))

    class Meta:
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        indexes = [models.Index(fields=["rlist", "id"], name="recipientlist_keyset")]

    def __str__(self):
        return self.number
