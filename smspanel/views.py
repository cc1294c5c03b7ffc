"""The site's 400, 404 and 500 pages: Django's own, except under the API's /1.0, which answers
them in OVHcloud's JSON error shape (python-ovh decodes every answer as JSON)."""

from django.core.exceptions import RequestDataTooBig
from django.views import defaults

from api.errors import error_response
from api.ovh import is_api_request


def bad_request(request, exception):
    # Raised by Django before the API runs: a body over DATA_UPLOAD_MAX_MEMORY_SIZE, a Host
    # header not in ALLOWED_HOSTS.
    if is_api_request(request):
        if isinstance(exception, RequestDataTooBig):
            return error_response(400, "Request body too large", "INVALID_PARAMETERS")
        return error_response(400, "Bad request", "INVALID_PARAMETERS")
    return defaults.bad_request(request, exception)


def page_not_found(request, exception):
    if is_api_request(request):
        return error_response(404, "Got an invalid (or empty) URL", "NOT_FOUND")
    return defaults.page_not_found(request, exception)


def server_error(request):
    if is_api_request(request):
        return error_response(500, "Internal server error", "INTERNAL_ERROR")
    return defaults.server_error(request)
