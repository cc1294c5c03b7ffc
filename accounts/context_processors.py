from django.utils.functional import SimpleLazyObject

from .models import SmsAccount


def user_accounts(request):
    """The accounts of the signed-in user, for the account switcher in the header; built only
    when a template reads it (the HTMX partials never do)."""
    if not request.user.is_authenticated:
        return {}
    user = request.user
    return {
        "user_accounts": SimpleLazyObject(
            lambda: SmsAccount.objects.for_user(user).only("name", "description")
        )
    }
