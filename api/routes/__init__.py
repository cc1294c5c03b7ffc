"""The OVHcloud-compatible API under /1.0: the same services as the web panel, OVHcloud's shapes.

This package holds the NinjaAPI (the signed-request authentication and the error answers) and
one Router module per resource, each thin over the apps' services:

    auth        /auth/time, /auth/credential, /auth/currentCredential
    me          /me (the key holder's identity)
    account     /sms, /sms/estimate, /sms/{serviceName}, …/transferCredits, …/serviceInfos
    jobs        …/jobs (send, pending messages, cancel)
    batches     …/batches (campaigns: create, read, rename, cancel, delete, statistics)
    outgoing    …/outgoing (sent messages)
    incoming    …/incoming (replies)
    blacklists  …/blacklists (STOP list)
    senders     …/senders, …/sendersAvailableForValidation
    phonebooks  …/phonebooks, their phonebookContact and import
    receivers   …/receivers (recipient lists)
    documents   /me/document (files named by documentId)
    users       …/users (SMS users: http2sms logins, quotas, alerts) and …/users/{login}/document
    user_messages  …/users/{login}/jobs, outgoing, incoming, receivers
    history     the CSV history documents of …/document and users/{login}/document
    catalogue   /sms/ptts, /sms/rates/*, …/seeOffers, …/exceptions (the offer, from the rates)
    sender_documents  …/senders/{sender}/documents (and …/validate, refused)
    templates_control …/templatesControl (templates moderated by staff)
    smpp        …/smpp/* (refused: no SMPP customer accounts yet)
    hlr         …/hlr (number lookups) and the receivers' numbering facts (…/outgoing/{id}/hlr)
    virtual_numbers  …/virtualNumbers (with jobs, outgoing, incoming, chatAccess), /sms/virtualNumbers
    base        what they share (the key's account, errors of forms, date filters)
"""

from django.http import Http404
from django.utils import translation
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import APIKeyHeader

from .. import ovh
from ..errors import ApiError, error_response
from ..rendering import OvhRenderer
from . import (
    account,
    auth,
    batches,
    blacklists,
    catalogue,
    documents,
    hlr,
    incoming,
    jobs,
    me,
    outgoing,
    phonebooks,
    receivers,
    sender_documents,
    senders,
    smpp,
    templates_control,
    user_messages,
    users,
    virtual_numbers,
)


class OvhSignature(APIKeyHeader):
    """The X-Ovh-* headers; documented as the application key header in the schema."""

    param_name = "X-Ovh-Application"

    def __call__(self, request):
        translation.activate("en")
        return ovh.authenticate(request)

    def authenticate(self, request, key):  # pragma: no cover - __call__ does the work
        return ovh.authenticate(request)


class OvhAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        # The ids the schema had when every route lived in one api/routes.py module
        # ("api_routes_jobs_create"), so clients generated from it keep their method names.
        return f"api_routes_{operation.view_func.__name__}"


api = OvhAPI(
    title="smspanel — OVHcloud-compatible SMS API",
    version="1.0",
    description=(
        "The /sms routes of OVHcloud's API, served by smspanel. Sign requests as OVHcloud "
        "does (X-Ovh-Application, X-Ovh-Consumer, X-Ovh-Timestamp, X-Ovh-Signature); "
        "python-ovh works with its endpoint set to this server's /1.0."
    ),
    auth=OvhSignature(),
    renderer=OvhRenderer(),
    urls_namespace="ovhapi",
)

# Each path belongs to one router (a path split over two would answer 405 for the second).
# /sms/virtualNumbers and the catalogue's /sms/ptts, /sms/rates/… come before /sms/{serviceName}.
for module in (auth, me, catalogue, virtual_numbers, account, jobs, batches, outgoing, incoming,
               blacklists, senders, sender_documents, phonebooks, receivers, documents, users,
               user_messages, templates_control, smpp, hlr):  # fmt: skip
    api.add_router("", module.router)


@api.exception_handler(ApiError)
def _api_error(request, exc):
    return error_response(exc.status, exc.message, exc.code, exc.headers)


@api.exception_handler(ValidationError)
def _invalid(request, exc):
    details = []
    for error in exc.errors:
        where = ".".join(str(p) for p in error.get("loc", ())[1:] if p != "payload")
        details.append(f"{where}: {error.get('msg')}" if where else str(error.get("msg")))
    return error_response(400, "Invalid parameters: " + "; ".join(details), "INVALID_PARAMETERS")


@api.exception_handler(Http404)
def _not_found(request, exc):
    return error_response(404, "This object does not exist", "NOT_FOUND")


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return error_response(401, "You must login first", "NOT_AUTHENTICATED")


@api.exception_handler(HttpError)
def _http_error(request, exc):
    return error_response(exc.status_code, str(exc))
