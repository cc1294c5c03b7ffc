"""The panel's URLs plus the baselines the request benchmarks compare against."""

from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.urls import include, path

from accounts.access import account_view


def hello(request):
    """The bare view: the full middleware stack, no session, no database."""
    return HttpResponse("hello")


def csrf(request):
    """A CSRF token, and its cookie, for a benchmark client posting as htmx does."""
    return HttpResponse(get_token(request))


@account_view
def account_hello(request):
    """The cheapest page under an account: session, user and membership lookups, no work."""
    return HttpResponse(f"hello {request.account.name}")


urlpatterns = [
    path("hello/", hello),
    path("csrf/", csrf),
    path("sms/<str:service>/hello/", account_hello),
    path("", include("smspanel.urls")),
]
