"""Resolve the account named in a URL through the user's memberships (anything else: 404)."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404

from .fastload import Prepared
from .models import Membership, SmsAccount, User


def _membership_sql(q, tables, columns) -> str:
    """t0: the membership, t1: its account, u: the user, who must be active."""
    return (
        f"SELECT {', '.join(columns)} FROM {tables[0]} t0 "
        f"INNER JOIN {tables[1]} t1 ON t1.{q(SmsAccount._meta.pk.column)} = "
        f"t0.{q(Membership.account.field.column)} "
        f"INNER JOIN {q(User._meta.db_table)} u ON u.{q(User._meta.pk.column)} = "
        f"t0.{q(Membership.user.field.column)} "
        f"WHERE u.{q(User._meta.pk.column)} = %s AND u.{q('is_active')} AND t1.{q('name')} = %s"
    )


# The lookup behind every page under an account (see fastload for why it is not a queryset).
MEMBERSHIP = Prepared(_membership_sql, Membership, SmsAccount)
# The same check when only the account's name is needed now (the other fields are deferred).
MEMBER_OF = Prepared(
    _membership_sql, (Membership, ["id", "user", "account", "role"]), (SmsAccount, ["id", "name"])
)


def membership_find(user_id: int, service: str, *, whole: bool = True) -> Membership | None:
    """The active user's membership of the account named `service`, its account loaded
    (`whole=False`: with its id and name only, the rest read on first access), or None."""
    found = (MEMBERSHIP if whole else MEMBER_OF).first([user_id, service])
    if found is None:
        return None
    membership, account = found
    Membership.account.field.set_cached_value(membership, account)
    return membership


def account_view(view):
    """Decorate a view taking `service` from the URL: sets request.account and
    request.membership, or raises 404 when the user is not a member of that account."""

    @login_required
    @wraps(view)
    def wrapper(request, service, *args, **kwargs):
        membership = membership_find(request.user.pk, service)
        if membership is None:
            raise Http404("No such SMS account")
        request.account: SmsAccount = membership.account
        request.membership = membership
        return view(request, *args, **kwargs)

    return wrapper
