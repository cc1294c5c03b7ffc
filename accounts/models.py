import secrets
import string
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def _new_handle() -> str:
    """An OVH-style customer handle: two letters and five digits (e.g. "ab12345")."""
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(2)) + "".join(
        secrets.choice(string.digits) for _ in range(5)
    )


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A customer or staff member; logs in with the e-mail address."""

    username = None
    email = models.EmailField(_("e-mail address"), unique=True)
    handle = models.CharField(
        _("customer handle"), max_length=16, unique=True, default=_new_handle, editable=False
    )
    company = models.CharField(_("company"), max_length=100, blank=True)
    # Set when the person followed the signed link e-mailed at sign-up; the welcome credits
    # are given then, not at sign-up (a throwaway address earns nothing).
    email_verified_at = models.DateTimeField(_("e-mail address verified"), null=True, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    def __str__(self):
        return self.email


class SmsAccountQuerySet(models.QuerySet):
    def for_user(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user)


class SmsAccount(models.Model):
    class Status(models.TextChoices):
        # The account can send.
        ENABLE = "enable", _("Enabled")
        # Suspended by staff: pages stay readable, nothing can be sent.
        DISABLE = "disable", _("Disabled")

    name = models.CharField(_("service name"), max_length=32, unique=True)
    description = models.CharField(_("description"), max_length=100, blank=True)
    default_region = models.CharField(
        _("default region"),
        max_length=2,
        default="FR",
        help_text=_("Country used for numbers typed without an international prefix."),
    )
    status = models.CharField(_("status"), max_length=8, choices=Status, default=Status.ENABLE)
    # Only ever changed by accounts.services through conditional UPDATEs with a ledger row.
    credits = models.DecimalField(
        _("credits"), max_digits=14, decimal_places=2, default=Decimal("0.00"), editable=False
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Low-credit alert: one e-mail when a debit takes the balance below the threshold.
    low_credit_threshold = models.DecimalField(
        _("low-credit alert threshold"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("Leave empty for no alert."),
    )
    alert_email = models.EmailField(_("alert e-mail address"), blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="Membership",
        related_name="sms_accounts",
        verbose_name=_("members"),
    )

    objects = SmsAccountQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("SMS account")
        verbose_name_plural = _("SMS accounts")
        constraints = [
            models.CheckConstraint(condition=models.Q(credits__gte=0), name="credits_not_negative")
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # The balance only changes through accounts.services' conditional UPDATEs: saving an
        # edited account (settings form, admin) must not write back a balance read earlier.
        if self.pk and not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name != "credits"
            ]
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("messaging:dashboard", args=[self.name])

    @property
    def low_on_credits(self) -> bool:
        return self.low_credit_threshold is not None and self.credits < self.low_credit_threshold

    @property
    def label(self):
        return f"{self.name} ({self.description})" if self.description else self.name

    @classmethod
    def next_name_for(cls, user) -> str:
        """`sms-<handle>-<n>` with the first free n for this user's handle."""
        prefix = f"sms-{user.handle}-"
        taken = {
            name.removeprefix(prefix)
            for name in cls.objects.filter(name__startswith=prefix).values_list("name", flat=True)
        }
        n = 1
        while str(n) in taken:
            n += 1
        return f"{prefix}{n}"


class Membership(models.Model):
    class Role(models.TextChoices):
        # Full control, including credit transfers out of the account.
        OWNER = "owner", _("Owner")
        # Can use the account (send, manage contacts) but not move its credits.
        MEMBER = "member", _("Member")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    account = models.ForeignKey(
        SmsAccount, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("account")
    )
    role = models.CharField(_("role"), max_length=8, choices=Role, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "account"], name="one_membership_per_account")
        ]

    def __str__(self):
        return f"{self.user} → {self.account} ({self.get_role_display()})"


class CreditMovement(models.Model):
    """One change of an account's balance. The sum of an account's movements is its balance."""

    class Kind(models.TextChoices):
        # Credits bought (recorded by staff until payments exist).
        ORDER = "order", _("Order")
        # Free credits given with a new account.
        SIGNUP = "signup", _("Welcome credits")
        # Charged when a send job is submitted.
        DEBIT = "debit", _("Sending")
        # Given back for messages that failed, were STOP-listed or cancelled.
        REFUND = "refund", _("Refund")
        TRANSFER_OUT = "transfer_out", _("Transfer to another account")
        TRANSFER_IN = "transfer_in", _("Transfer from another account")
        # Manual correction by staff, with a reason.
        ADJUSTMENT = "adjustment", _("Adjustment")

    account = models.ForeignKey(
        SmsAccount, on_delete=models.PROTECT, related_name="movements", verbose_name=_("account")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    balance_after = models.DecimalField(_("balance after"), max_digits=14, decimal_places=2)
    # One key per cause ("job:42:debit", "transfer:<uuid>:in"): a retried task cannot apply twice.
    key = models.CharField(_("key"), max_length=100, unique=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("date"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("credit movement")
        verbose_name_plural = _("credit movements")
        indexes = [
            models.Index(fields=["account", "-created_at", "-id"], name="movement_account_idx")
        ]

    def __str__(self):
        return f"{self.account} {self.amount:+} ({self.kind})"


class DestinationRate(models.Model):
    """Credits per SMS segment for one destination country (France = 1)."""

    country = models.CharField(_("country (ISO code)"), max_length=2, primary_key=True)
    name = models.CharField(_("name"), max_length=64)
    calling_code = models.PositiveSmallIntegerField(_("calling code"))
    credits_per_segment = models.DecimalField(
        _("credits per SMS"),
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("destination rate")
        verbose_name_plural = _("destination rates")

    def __str__(self):
        return f"{self.name} ({self.country}): {self.credits_per_segment}"


class SmsUser(models.Model):
    """An SMS user of an account (OVH `sms.User`): the login and password of http2sms, and a
    sub-identity of the API with its own jobs, an optional credit quota and an alert threshold."""

    class QuotaStatus(models.TextChoices):
        # Each send by this user is also taken from quota_left; none once it is spent.
        ACTIVE = "active", _("Quota on")
        # The user sends on the account's credits alone.
        INACTIVE = "inactive", _("No quota")

    class Support(models.TextChoices):
        BOTH = "both", _("E-mail and SMS")
        MAIL = "mail", _("E-mail")
        SMS = "sms", _("SMS")

    account = models.ForeignKey(
        SmsAccount, on_delete=models.CASCADE, related_name="sms_users", verbose_name=_("account")
    )
    login = models.CharField(_("login"), max_length=32)
    # Django's password hash: http2sms checks it, nothing shows it back.
    password = models.CharField(max_length=128, verbose_name=_("password"))
    # Changed only through conditional UPDATEs (accounts.services.sms_user_quota_debit).
    quota_status = models.CharField(
        _("quota"), max_length=8, choices=QuotaStatus, default=QuotaStatus.INACTIVE
    )
    quota_left = models.DecimalField(
        _("quota left"), max_digits=14, decimal_places=2, default=Decimal("0.00")
    )
    # One alert when a send takes quota_left below this many credits (0: none).
    alert_threshold = models.PositiveIntegerField(_("alert threshold"), default=0)
    alert_email = models.EmailField(_("alert e-mail address"), blank=True)
    alert_number = models.CharField(_("alert number"), max_length=16, blank=True)
    alert_support = models.CharField(
        _("alert by"), max_length=4, choices=Support, default=Support.MAIL
    )
    callback = models.URLField(_("delivery report URL"), max_length=500, blank=True)
    stop_callback = models.URLField(_("STOP URL"), max_length=500, blank=True)
    # Addresses allowed to use this login on http2sms (empty: any).
    ip_restrictions = models.JSONField(_("allowed addresses"), default=list, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["login"]
        verbose_name = _("SMS user")
        verbose_name_plural = _("SMS users")
        constraints = [
            models.UniqueConstraint(fields=["account", "login"], name="one_sms_user_login"),
            models.CheckConstraint(
                condition=models.Q(quota_left__gte=0), name="sms_user_quota_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.login} ({self.account})"


class CreditOrder(models.Model):
    """A customer's order of a credit pack («Recharger»). smspanel takes no payment: staff
    confirm the order in the admin once it is paid, which credits the account with one ledger
    movement whose key names the order (so it can never be credited twice)."""

    class Status(models.TextChoices):
        # Placed by the customer, waiting for staff (payment arranged outside smspanel).
        PENDING = "pending", _("Waiting for confirmation")
        # Confirmed by staff: its credits are on the account (ledger key "order:<id>").
        CONFIRMED = "confirmed", _("Confirmed, credits added")
        # Cancelled by staff: nothing was credited.
        CANCELLED = "cancelled", _("Cancelled by our team")

    account = models.ForeignKey(
        SmsAccount, on_delete=models.PROTECT, related_name="orders", verbose_name=_("account")
    )
    quantity = models.PositiveIntegerField(_("credits"))
    # Euros per credit when ordered (accounts.pricing), excluding tax.
    unit_price = models.DecimalField(_("price per credit (€)"), max_digits=8, decimal_places=4)
    status = models.CharField(
        _("status"), max_length=9, choices=Status.choices, default=Status.PENDING
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("ordered by"),
    )
    created_at = models.DateTimeField(_("ordered at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("credit order")
        verbose_name_plural = _("credit orders")

    def __str__(self):
        return f"#{self.pk} {self.account} {self.quantity}"

    @property
    def total(self) -> Decimal:
        """Euros excluding tax."""
        return (self.quantity * self.unit_price).quantize(Decimal("0.01"))

    @property
    def ledger_key(self) -> str:
        return f"order:{self.pk}"


class AuditEvent(models.Model):
    """One staff action or security event. Append-only: rows are never changed or deleted
    through the application (save() refuses updates, delete() refuses)."""

    class Action(models.TextChoices):
        LOGIN = "login", _("Logged in")
        LOGIN_FAILED = "login_failed", _("Failed login")
        # Refused before the password was checked: too many attempts (accounts.throttle).
        LOGIN_THROTTLED = "login_throttled", _("Login refused: too many attempts")
        CODE_FAILED = "code_failed", _("Wrong two-factor code")
        PASSWORD_CHANGED = "password_changed", _("Password changed")
        PASSWORD_RESET = "password_reset", _("Password reset through the e-mailed link")
        # A password change whose "current password" was wrong.
        PASSWORD_FAILED = "password_failed", _("Wrong current password (password change)")
        # Refused before the current password was checked: too many attempts.
        PASSWORD_THROTTLED = "password_throttled", _("Password change refused: too many attempts")
        TWO_FACTOR_ENABLED = "2fa_enabled", _("Two-factor authentication enabled")
        TWO_FACTOR_DISABLED = "2fa_disabled", _("Two-factor authentication disabled")
        RECOVERY_CODES = "recovery_codes", _("New recovery codes")
        EMAIL_VERIFIED = "email_verified", _("E-mail address verified")
        API_KEY_CREATED = "api_key_created", _("API key created")
        API_KEY_REVOKED = "api_key_revoked", _("API key revoked")
        PERSONAL_DATA_EXPORTED = "data_exported", _("Personal data of a number exported")
        PERSONAL_DATA_ERASED = "data_erased", _("Personal data of a number erased")
        # Staff actions.
        CREDITS = "credits", _("Credits added or adjusted by staff")
        SENDER_DECISION = "sender_decision", _("Sender request decided")
        RATE_CHANGED = "rate_changed", _("Destination rate changed")
        ROUTE_CHANGED = "route_changed", _("Route changed")

    action = models.CharField(_("action"), max_length=32, choices=Action)
    # Who did it (None: someone not logged in, or the system).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    # Whose security it concerns (the user a failed login named), if anyone's.
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="security_events",
        verbose_name=_("user concerned"),
    )
    account = models.ForeignKey(
        SmsAccount,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_events",
        verbose_name=_("SMS account"),
    )
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    detail = models.CharField(_("detail"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("date"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")
        indexes = [
            models.Index(fields=["account", "-created_at"], name="audit_account_idx"),
            models.Index(fields=["subject", "-created_at"], name="audit_subject_idx"),
        ]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.get_action_display()}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("The audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("The audit log is append-only")
