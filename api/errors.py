"""Django's own 404 and 500 pages, answered in OVHcloud's JSON shape under /1.0."""

from django.views import defaults

from .ovh import error_response, is_api_request


def page_not_found(request, exception):
    if is_api_request(request):
        return error_response(404, "Got an invalid (or empty) URL", "NOT_FOUND")
    return defaults.page_not_found(request, exception)


def server_error(request):
    if is_api_request(request):
        return error_response(500, "Internal server error", "INTERNAL_ERROR")
    return defaults.server_error(request)
