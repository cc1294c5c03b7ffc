"""Resolve the account named in a URL through the user's memberships (anything else: 404)."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404

from .models import Membership, SmsAccount


def account_view(view):
    """Decorate a view taking `service` from the URL: sets request.account and
    request.membership, or raises 404 when the user is not a member of that account."""

    @login_required
    @wraps(view)
    def wrapper(request, service, *args, **kwargs):
        # One query: the membership (one per user and account) joined with its account.
        try:
            membership = Membership.objects.select_related("account").get(
                user=request.user, account__name=service
            )
        except Membership.DoesNotExist:
            raise Http404("No such SMS account") from None
        membership.user = request.user  # the signed-in user, already loaded: no second read
        request.account: SmsAccount = membership.account
        request.membership = membership
        return view(request, *args, **kwargs)

    return wrapper
