from .models import SmsAccount


def user_accounts(request):
    """The accounts of the signed-in user, for the account switcher in the header."""
    if not request.user.is_authenticated:
        return {}
    return {"user_accounts": SmsAccount.objects.for_user(request.user).only("name", "description")}
