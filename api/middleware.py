"""Every answer under /1.0 in OVHcloud's JSON error shape, including the ones the API's own
handlers never see: an unknown path (Django's resolver, whose DEBUG page is HTML), a wrong
method (django-ninja answers a plain-text 405) and a crash under DEBUG (the technical page).
python-ovh decodes every answer as JSON, so an HTML page would surface as a decoding error."""

from .errors import error_response
from .ovh import is_api_request

# What OVHcloud answers in these cases.
MESSAGES = {
    404: ("Got an invalid (or empty) URL", "NOT_FOUND"),
    405: ("Received request with an invalid method", "METHOD_NOT_ALLOWED"),
    500: ("Internal server error", "INTERNAL_ERROR"),
}


class OvhErrorShape:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not is_api_request(request)
            or response.get("Content-Type", "").startswith("application/json")
            or getattr(response, "streaming", False)
        ):
            return response
        status = response.status_code
        message, code = MESSAGES.get(status, ("Bad request", "INVALID_PARAMETERS"))
        shaped = error_response(status, message, code)
        if response.has_header("Allow"):
            shaped["Allow"] = response["Allow"]
        return shaped
