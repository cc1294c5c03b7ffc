"""/me/document: files a script declares, PUTs to an unsigned URL, then names as documentId
(recipient lists, phonebook imports); and source_file(), which reads one or a csvUrl."""

from django.core.files import File
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from ninja import Router

from core import http

from .. import schemas, services
from ..errors import ApiError
from ..models import ApiDocument
from ..schemas import responses
from .base import done, parse_id

router = Router(tags=["documents"])


def _document_out(request, doc: ApiDocument) -> dict:
    def url(name):
        return request.build_absolute_uri(reverse(f"ovhapi:{name}", args=[doc.token]))

    return {
        "id": str(doc.pk),
        "name": doc.name,
        "size": doc.size,
        "putUrl": url("document_upload"),
        "getUrl": url("document_download"),
        "creationDate": doc.created_at,
        "expirationDate": doc.expires_at,
    }


def _documents(request):
    return ApiDocument.objects.filter(
        application=request.auth.application, expires_at__gt=timezone.now()
    )


def _document(request, document_id: str) -> ApiDocument:
    pk = parse_id(document_id)
    if pk is None:
        raise Http404
    return get_object_or_404(_documents(request), pk=pk)


@router.post("/me/document", response=responses(schemas.DocumentOut))
def document_create(request, payload: schemas.DocumentIn):
    """Declare a file; then PUT its content to putUrl (no signature: the URL is the secret)."""
    doc = services.document_create(application=request.auth.application, name=payload.name)
    return _document_out(request, doc)


@router.get("/me/document", response=responses(list[str]))
def document_list(request):
    return [str(pk) for pk in _documents(request).order_by("pk").values_list("pk", flat=True)]


@router.get("/me/document/{id}", response=responses(schemas.DocumentOut))
def document_get(request, id: str):
    return _document_out(request, _document(request, id))


@router.delete("/me/document/{id}", response=responses(None))
def document_delete(request, id: str):
    services.document_delete(_document(request, id))
    return done()


def _by_token(token: str) -> ApiDocument:
    return get_object_or_404(ApiDocument, token=token, expires_at__gt=timezone.now())


@router.put("/me/document/upload/{token}", auth=None, url_name="document_upload",
            include_in_schema=False)  # fmt: skip
def document_upload(request, token: str):
    try:
        services.document_store(
            document=_by_token(token),
            stream=request,
            length=int(request.META.get("CONTENT_LENGTH") or 0),
        )
    except services.AlreadyUploaded:
        raise ApiError(409, "This document already has its content", "ALREADY_UPLOADED") from None
    except http.TooLarge as exc:
        raise ApiError(400, f"A document cannot exceed {exc.limit} bytes", "TOO_LARGE") from None
    return done()


@router.get("/me/document/download/{token}", auth=None, url_name="document_download",
            include_in_schema=False)  # fmt: skip
def document_download(request, token: str):
    doc = _by_token(token)
    if not doc.file:
        raise Http404
    return FileResponse(doc.file.open("rb"), as_attachment=True, filename=doc.name)


def source_file(request, document_id: str | None, csv_url: str | None) -> File:
    """The file a recipient list or an import reads: a document of this key's application, or
    csvUrl fetched once. The caller closes it."""
    if document_id:
        upload = services.document_file(_document(request, document_id))
        if upload is None:
            raise ApiError(400, "This document has no content: PUT it to its putUrl first")
        return upload
    if not csv_url:
        raise ApiError.invalid("Give documentId or csvUrl")
    try:
        return services.csv_url_fetch(csv_url)
    except http.UnsafeURL as exc:
        raise ApiError.invalid(f"csvUrl cannot be used: {exc}") from None
    except http.TooLarge as exc:
        raise ApiError(400, f"csvUrl: the file exceeds {exc.limit} bytes", "TOO_LARGE") from None
    except http.FetchError as exc:
        raise ApiError.invalid(f"csvUrl could not be read: {exc}") from None
