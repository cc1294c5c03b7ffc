"""/sms/{serviceName}/senders/{sender}/documents: supporting documents of a sender request,
declared by name, then their content PUT to putUrl (no signature: the URL is the secret), checked
as the panel's uploads are (PDF, JPEG or PNG by content, 10 MB, 10 per sender). Staff read them
in the admin. And …/validate, refused: no sender is validated by a code here."""

from datetime import datetime
from uuid import UUID

from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Field, Router, Schema

from core import http
from senders import services as sender_services
from senders.models import SenderDocument

from ..errors import ApiError
from ..schemas import responses
from .base import done
from .senders import _sender

router = Router(tags=["senders"])

_DOCS = "/sms/{serviceName}/senders/{sender}/documents"


class SenderDocumentIn(Schema):
    name: str = Field(..., min_length=1, max_length=255)
    description: str | None = Field(None, max_length=255)


class SenderDocumentUpdate(Schema):
    name: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = Field(None, max_length=255)


class SenderDocumentOut(Schema):
    createdAt: datetime
    description: str | None = None
    documentID: UUID
    getUrl: str
    name: str
    putUrl: str | None = None
    size: int


class ValidateIn(Schema):
    code: str = Field(..., max_length=64)


def _out(request, doc: SenderDocument) -> dict:
    put = (request.build_absolute_uri(reverse("ovhapi:sender_document_upload",
                                              args=[doc.upload_token]))
           if doc.upload_token else None)  # fmt: skip
    return {
        "createdAt": doc.uploaded_at,
        "description": doc.description or None,
        "documentID": doc.document_id,
        # Staff download them in the admin; the customer keeps their own copy.
        "getUrl": "",
        "name": doc.original_name,
        "putUrl": put,
        "size": doc.size,
    }


def _document(request, service_name: str, sender: str, document_id: UUID) -> SenderDocument:
    return get_object_or_404(SenderDocument, sender=_sender(request, service_name, sender),
                             pk=document_id.int)  # fmt: skip


@router.get(_DOCS, response=responses(list[UUID]))
def sender_documents_list(request, serviceName: str, sender: str):
    obj = _sender(request, serviceName, sender)
    return [UUID(int=pk) for pk in obj.documents.order_by("pk").values_list("pk", flat=True)]


@router.post(_DOCS, response=responses(SenderDocumentOut))
def sender_documents_create(request, serviceName: str, sender: str, payload: SenderDocumentIn):
    """Declare a document; then PUT its content to putUrl."""
    obj = _sender(request, serviceName, sender)
    try:
        doc = sender_services.sender_document_declare(sender=obj, name=payload.name,
                                                      description=payload.description or "")
    except sender_services.SenderError as exc:
        raise ApiError.invalid(str(exc)) from None
    return _out(request, doc)


@router.get(_DOCS + "/{documentID}", response=responses(SenderDocumentOut))
def sender_documents_get(request, serviceName: str, sender: str, documentID: UUID):
    return _out(request, _document(request, serviceName, sender, documentID))


@router.put(_DOCS + "/{documentID}", response=responses(None))
def sender_documents_update(request, serviceName: str, sender: str, documentID: UUID,
                            payload: SenderDocumentUpdate):  # fmt: skip
    doc = _document(request, serviceName, sender, documentID)
    if payload.name is not None:
        doc.original_name = payload.name
    if payload.description is not None:
        doc.description = payload.description
    doc.save(update_fields=["original_name", "description"])
    return done()


@router.put("/sms-sender-documents/upload/{token}", auth=None, include_in_schema=False,
            url_name="sender_document_upload")  # fmt: skip
def sender_documents_upload(request, token: str):
    doc = get_object_or_404(SenderDocument, upload_token=token)
    try:
        sender_services.sender_document_store(
            document=doc, stream=request, length=int(request.META.get("CONTENT_LENGTH") or 0)
        )
    except sender_services.SenderError as exc:
        raise ApiError.invalid(str(exc)) from None
    except http.TooLarge as exc:
        raise ApiError(400, f"A document cannot exceed {exc.limit} bytes", "TOO_LARGE") from None
    return done()


REFUSED_VALIDATE = ("senders are validated by staff after a request with its documents; none "
                    "is validated by an activation code (phone numbers are not senders here)")


@router.post("/sms/{serviceName}/senders/{sender}/validate", response=responses(None),
             openapi_extra={"x-refused": REFUSED_VALIDATE})  # fmt: skip
def sender_validate(request, serviceName: str, sender: str, payload: ValidateIn):
    _sender(request, serviceName, sender)
    raise ApiError(400, "Not available: " + REFUSED_VALIDATE, "NOT_AVAILABLE")
