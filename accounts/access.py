"""Resolve the account named in a URL through the user's memberships (anything else: 404)."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.db import router
from django.http import Http404

from .fastload import Prepared
from .models import Membership, SmsAccount, User


def _membership_sql(column, tables, columns) -> str:
    """t0: the membership, t1: its account, t2: the user, who must be active."""
    return (
        f"SELECT {', '.join(columns)} FROM {tables[0]} t0 "
        f"INNER JOIN {tables[1]} t1 ON t1.{column(SmsAccount, 'id')} = "
        f"t0.{column(Membership, 'account')} "
        f"INNER JOIN {tables[2]} t2 ON t2.{column(User, 'id')} = t0.{column(Membership, 'user')} "
        f"WHERE t2.{column(User, 'id')} = %s AND t2.{column(User, 'is_active')} "
        f"AND t1.{column(SmsAccount, 'name')} = %s"
    )


# The lookup behind every page under an account (see fastload for why it is not a queryset).
MEMBERSHIP = Prepared(_membership_sql, Membership, SmsAccount, (User, ["id"]))
# The same check for the counter's token, which needs the account's name and the user's
# password hash (the token is void once the password changes); the rest is deferred.
MEMBER_CREDENTIALS = Prepared(
    _membership_sql,
    (Membership, ["id", "user", "account", "role"]),
    (SmsAccount, ["id", "name"]),
    (User, ["id", "password"]),
)


def _find(prepared, user_id: int, service: str, user=None):
    found = prepared.first([user_id, service], using=router.db_for_read(Membership))
    if found is None:
        return None
    membership, account, row_user = found
    Membership.account.field.set_cached_value(membership, account)
    Membership.user.field.set_cached_value(membership, user or row_user)
    return membership


def membership_find(user_id: int, service: str, *, user=None) -> Membership | None:
    """The active user's membership of the account named `service`, with its account, or
    None. Given the user already loaded, `membership.user` is that one (otherwise a user whose
    fields other than the id load on first access)."""
    return _find(MEMBERSHIP, user_id, service, user)


def membership_credentials(user_id: int, service: str) -> Membership | None:
    """As membership_find, reading only the account's id and name and the user's id and
    password hash (other fields load on first access)."""
    return _find(MEMBER_CREDENTIALS, user_id, service)


def account_view(view):
    """Decorate a view taking `service` from the URL: sets request.account and
    request.membership, or raises 404 when the user is not a member of that account."""

    @login_required
    @wraps(view)
    def wrapper(request, service, *args, **kwargs):
        membership = membership_find(request.user.pk, service, user=request.user)
        if membership is None:
            raise Http404("No such SMS account")
        request.account: SmsAccount = membership.account
        request.membership = membership
        return view(request, *args, **kwargs)

    return wrapper
