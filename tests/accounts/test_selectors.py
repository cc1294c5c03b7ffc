"""accounts.selectors: credits per segment of the countries that have a rate (rates_for);
whether a user is an active member of an account (is_active_member, asked by every signed API
request)."""

from decimal import Decimal

import pytest

from accounts.models import DestinationRate, Membership
from accounts.selectors import is_active_member, rates_for

pytestmark = pytest.mark.django_db


def test_it_gives_the_rate_of_each_served_country():
    DestinationRate.objects.filter(country="BE").update(credits_per_segment=Decimal("1.65"))

    assert rates_for(["FR", "BE", "FR"]) == {"FR": Decimal("1.00"), "BE": Decimal("1.65")}


def test_a_country_without_a_rate_is_missing():
    DestinationRate.objects.filter(country="CH").delete()

    assert rates_for(["CH", "FR"]) == {"FR": Decimal("1.00")}


def test_no_country_costs_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert rates_for([]) == {}


class TestIsActiveMember:
    def test_a_member_of_the_account(self, account, owner, member):
        assert is_active_member(user_id=owner.pk, account_id=account.pk)
        assert is_active_member(user_id=member.pk, account_id=account.pk)

    def test_a_member_of_another_account(self, account, outsider):
        assert not is_active_member(user_id=outsider.pk, account_id=account.pk)

    def test_a_member_who_left(self, account, member):
        Membership.objects.filter(user=member, account=account).delete()

        assert not is_active_member(user_id=member.pk, account_id=account.pk)

    def test_a_deactivated_member(self, account, member):
        member.is_active = False
        member.save()

        assert not is_active_member(user_id=member.pk, account_id=account.pk)

    def test_nobody(self, account, django_assert_num_queries):
        with django_assert_num_queries(0):
            assert not is_active_member(user_id=None, account_id=account.pk)

    def test_it_is_one_query(self, account, owner, django_assert_num_queries):
        with django_assert_num_queries(1):
            assert is_active_member(user_id=owner.pk, account_id=account.pk)
