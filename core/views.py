"""View helpers shared by the apps' pages."""

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render


def confirm_delete(
    request: HttpRequest,
    *,
    template: str,
    context: dict,
    delete: Callable[[], object],
    deleted_message: str,
    done_url: str,
    refusals: tuple[type[Exception], ...] = (),
) -> HttpResponse:
    """A confirm-then-delete page. GET renders the question (`template` with `context`); POST
    calls `delete()` and shows `deleted_message`, or the text of one of the `refusals` it
    raises as an error, then redirects to `done_url`. The view checks access and methods."""
    if request.method != "POST":
        return render(request, template, context)
    try:
        delete()
    except refusals as error:
        messages.error(request, str(error))
    else:
        messages.success(request, deleted_message)
    return redirect(done_url)
