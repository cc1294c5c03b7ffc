"""Resolve the account named in a URL through the user's memberships (anything else: 404)."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404

from .models import SmsAccount


def account_view(view):
    """Decorate a view taking `service` from the URL: sets request.account and
    request.membership, or raises 404 when the user is not a member of that account."""

    @login_required
    @wraps(view)
    def wrapper(request, service, *args, **kwargs):
        # One query: the membership joined with its account. Read through the user's related
        # manager, so membership.user is request.user itself rather than another copy.
        membership = get_object_or_404(
            request.user.memberships.select_related("account"), account__name=service
        )
        request.account: SmsAccount = membership.account
        request.membership = membership
        return view(request, *args, **kwargs)

    return wrapper
