"""/auth: the server's time, credential requests, and the calling key itself."""

from django.urls import reverse
from django.utils import timezone
from ninja import Router

from .. import ovh, schemas, services
from ..errors import ApiError
from ..models import ConsumerKey
from ..schemas import responses

router = Router(tags=["auth"])


@router.get("/auth/time", auth=None, response=int)
def auth_time(request):
    """The server's Unix time, which signatures are checked against."""
    return int(timezone.now().timestamp())


@router.post("/auth/credential", auth=None, response=responses(schemas.CredentialOut))
def auth_credential(request, payload: schemas.CredentialIn):
    """Ask for a consumer key; a member of the account validates it at validationUrl."""
    app = ovh.application_from(request)
    ovh.throttle_credential_requests(app)
    redirection = payload.redirection or ""
    if redirection and not redirection.startswith(("http://", "https://")):
        raise ApiError.invalid("redirection must be an http(s) URL")
    ck, key = services.credential_request(
        application=app,
        access_rules=[rule.dict() for rule in payload.accessRules],
        redirection=redirection,
    )
    url = request.build_absolute_uri(reverse("api:validate", args=[ck.validation_token]))
    return {"validationUrl": url, "consumerKey": key, "state": ck.status}


@router.get("/auth/currentCredential", response=responses(schemas.CurrentCredential))
def current_credential(request):
    ck: ConsumerKey = request.auth
    return {
        "credentialId": ck.pk,
        "applicationId": ck.application_id,
        "status": ck.status,
        "rules": ck.access_rules,
        "creation": ck.created_at,
        "expiration": ck.expires_at,
        "lastUse": ck.last_used_at,
    }
