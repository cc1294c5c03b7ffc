import base64
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.models import CreditMovement, SmsAccount, User

DEMO_EMAIL = "demo@example.com"
STAFF_EMAIL = "admin@example.com"
DEMO_PASSWORD = "demo-sms-2026"


class Command(BaseCommand):
    help = "Create a demo customer with two SMS accounts and a staff user (development only)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even when DEBUG is off")

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("The demo data is for development: set DEBUG=1 or pass --force.")
        with transaction.atomic():
            user, created = User.objects.get_or_create(
                email=DEMO_EMAIL,
                defaults={
                    "first_name": "Camille",
                    "last_name": "Martin",
                    "company": "Boulangerie Martin",
                    "email_verified_at": timezone.now(),
                },
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
                for description, credits in [("Boutique", "250"), ("Alertes", "40")]:
                    account = services.account_open(user=user, description=description)
                    services.credits_add(
                        account=account,
                        amount=Decimal(credits),
                        kind=CreditMovement.Kind.ORDER,
                        key=f"demo:{account.pk}",
                        reason="Demo order",
                    )
            staff = User.objects.filter(email=STAFF_EMAIL).first()
            if staff is None:
                staff = User.objects.create_superuser(
                    STAFF_EMAIL,
                    DEMO_PASSWORD,
                    first_name="Staff",
                    email_verified_at=timezone.now(),
                )
            # Staff need two-factor authentication for the admin: a device whose key is
            # printed below, to add to an authenticator app (or to compute a code with oathtool).
            device = TOTPDevice.objects.filter(user=staff, confirmed=True).first()
            if device is None:
                device = TOTPDevice.objects.create(user=staff, name="Demo", confirmed=True)
        accounts = ", ".join(SmsAccount.objects.for_user(user).values_list("name", flat=True))
        secret = base64.b32encode(device.bin_key).decode().rstrip("=")
        self.stdout.write(
            self.style.SUCCESS(
                f"Customer {DEMO_EMAIL} / {DEMO_PASSWORD} (accounts: {accounts}); "
                f"staff {STAFF_EMAIL} / {DEMO_PASSWORD}, authenticator key {secret} "
                f"(oathtool --totp -b {secret})"
            )
        )
