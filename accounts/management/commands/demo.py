from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

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
            if not User.objects.filter(email=STAFF_EMAIL).exists():
                User.objects.create_superuser(STAFF_EMAIL, DEMO_PASSWORD, first_name="Staff")
        accounts = ", ".join(SmsAccount.objects.for_user(user).values_list("name", flat=True))
        self.stdout.write(
            self.style.SUCCESS(
                f"Customer {DEMO_EMAIL} / {DEMO_PASSWORD} (accounts: {accounts}); "
                f"staff {STAFF_EMAIL} / {DEMO_PASSWORD}"
            )
        )
