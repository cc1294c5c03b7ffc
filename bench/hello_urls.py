"""The panel's URLs plus the baselines the request benchmarks compare against."""

from django.http import HttpResponse
from django.urls import include, path

from accounts.access import account_view


def hello(request):
    """The bare view: the full middleware stack, no session, no database."""
    return HttpResponse("hello")


@account_view
def account_hello(request):
    """The cheapest page under an account: session, user and membership lookups, no work."""
    return HttpResponse(f"hello {request.account.name}")


urlpatterns = [
    path("hello/", hello),
    path("sms/<str:service>/hello/", account_hello),
    path("", include("smspanel.urls")),
]
