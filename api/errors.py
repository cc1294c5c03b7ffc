"""OVHcloud's error shape, `{"message", "errorCode", "httpCode"}`: python-ovh maps errorCode to
its exceptions. Routes and the authentication raise ApiError; the API's exception handler (in
api/routes/__init__.py) turns it into error_response()."""

from http import HTTPStatus

from django.http import JsonResponse


class ApiError(Exception):
    def __init__(self, status: int, message: str, code: str = "", headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers or {}

    @classmethod
    def invalid(cls, message: str) -> "ApiError":
        """The usual answer to a bad parameter: 400 INVALID_PARAMETERS."""
        return cls(400, message, "INVALID_PARAMETERS")


def error_response(status: int, message: str, code: str = "", headers=None) -> JsonResponse:
    body = {"message": message, "httpCode": f"{status} {HTTPStatus(status).phrase}"}
    if code:
        body["errorCode"] = code
    response = JsonResponse(body, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response
