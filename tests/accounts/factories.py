import factory
from django.utils import timezone

from accounts.models import CreditMovement, Membership, SmsAccount, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = "Camille"
    last_name = factory.Sequence(lambda n: f"Martin{n}")
    # Customers who confirmed their address (sign-up tests create unconfirmed ones).
    email_verified_at = factory.LazyFunction(timezone.now)
    password = factory.PostGenerationMethodCall("set_password", "secret-pass-123")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SmsAccount
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"sms-tt{n:05d}-1")
    description = factory.Sequence(lambda n: f"Account {n}")

    @factory.post_generation
    def credits_amount(obj, create, extracted, **kwargs):
        """Give credits through the ledger, as the product does: AccountFactory(credits_amount=10)."""
        if create and extracted:
            from accounts import services

            services.credits_add(
                account=obj,
                amount=extracted,
                kind=CreditMovement.Kind.ORDER,
                key=f"test-order:{obj.pk}",
            )
            obj.refresh_from_db()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    account = factory.SubFactory(AccountFactory)
    role = Membership.Role.OWNER


def ledger_sum(account) -> "Decimal":  # noqa: F821
    from django.db.models import Sum

    return CreditMovement.objects.filter(account=account).aggregate(s=Sum("amount"))["s"] or 0
