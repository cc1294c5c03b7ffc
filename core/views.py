"""View helpers shared by the apps' pages."""

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render


def confirm_delete(
    request: HttpRequest,
    *,
    template: str,
    context: Callable[[], dict],
    delete: Callable[[], object],
    deleted_message: str,
    done_url: str,
    refusals: tuple[type[Exception], ...] = (),
) -> HttpResponse:
    """A confirm-then-delete page. GET renders the question: `template` with what `context()`
    returns (only then: the page's reads are not wasted on the POST), plus the account and
    `cancel_url` (= `done_url`). POST calls `delete()` and shows `deleted_message`, or the text
    of one of the `refusals` it raises as an error, then redirects to `done_url`. The view
    checks access and methods."""
    if request.method != "POST":
        page = {"account": request.account, "cancel_url": done_url, **context()}
        return render(request, template, page)
    try:
        delete()
    except refusals as error:
        messages.error(request, str(error))
    else:
        messages.success(request, deleted_message)
    return redirect(done_url)
