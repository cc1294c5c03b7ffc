"""Sender workflows: customer requests, staff decisions (with e-mail), enabling, deletion."""

import logging
import secrets
import tempfile
from collections.abc import Sequence

from django.conf import settings
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Membership, SmsAccount, User
from core import http

from .models import Sender, SenderDocument
from .validators import MAX_DOCUMENT_SIZE, MAX_DOCUMENTS, document_type

logger = logging.getLogger(__name__)


class SenderError(Exception):
    """The action is not possible; the message says why and can be shown as is."""


class SenderExists(SenderError):
    pass


class SenderInUse(SenderError):
    pass


class NotWaiting(SenderError):
    """A staff decision on a sender that is not waiting for one (e.g. approved twice)."""


def _exists_message(name: str) -> str:
    return _("The sender %(sender)s already exists on this account.") % {"sender": name}


def _name_taken(account: SmsAccount, name: str) -> bool:
    # Case-insensitive on purpose: "BOUTIQUE" and "Boutique" show the same to recipients.
    return Sender.objects.filter(account=account, sender__iexact=name).exists()


def _create(*, account: SmsAccount, name: str, **fields) -> Sender:
    if _name_taken(account, name):
        raise SenderExists(_exists_message(name))
    try:
        with transaction.atomic():
            return Sender.objects.create(account=account, sender=name, **fields)
    except IntegrityError:  # a concurrent request created it first
        raise SenderExists(_exists_message(name)) from None


def sender_request_create(
    *,
    account: SmsAccount,
    sender: str,
    reason: str,
    description: str = "",
    documents: Sequence[UploadedFile] = (),
) -> Sender:
    """A manual request, waiting for staff. `documents` were checked by the form (count,
    size, type); their files are written only here, and removed again if anything fails."""
    stored = []
    try:
        with transaction.atomic():
            obj = _create(
                account=account,
                name=sender,
                type=Sender.Type.ALPHA,
                referer=Sender.Referer.CUSTOM,
                status=Sender.Status.WAITING,
                description=description,
                reason=reason,
            )
            for upload in documents:
                content_type = document_type(upload)
                if content_type is None:
                    raise SenderError(_("Only PDF, JPEG and PNG documents are accepted."))
                document = SenderDocument(
                    sender=obj,
                    original_name=(upload.name or "document")[-255:],
                    content_type=content_type,
                    size=upload.size,
                )
                document.file.save(upload.name or "document", upload, save=False)
                stored.append((document.file.storage, document.file.name))
                document.save()
    except Exception:
        for storage, name in stored:
            storage.delete(name)
        raise
    logger.info("sender %r requested on %s (%d documents)", sender, account, len(stored))
    return obj


def sender_create_validated(
    *, account: SmsAccount, sender: str, referer: str, origin: str, description: str = ""
) -> Sender:
    """A sender derived from data the customer already holds (their profile, a domain name):
    enabled at once. `origin` says where it came from, for staff."""
    obj = _create(
        account=account,
        name=sender,
        type=Sender.Type.ALPHA,
        referer=referer,
        status=Sender.Status.ENABLE,
        description=description,
        reason=origin,
        decided_at=timezone.now(),
    )
    logger.info("sender %r created on %s from %s", sender, account, origin)
    return obj


def virtual_number_assign(
    *, account: SmsAccount, number: str, by: User, description: str = ""
) -> Sender:
    """Staff give an account a virtual number (E.164): a sender that allows replies."""
    holder = Sender.objects.filter(type=Sender.Type.VIRTUAL, sender=number).first()
    if holder is not None:
        raise SenderExists(
            _("The number %(number)s is already assigned to %(account)s.")
            % {"number": number, "account": holder.account.name}
        )
    obj = _create(
        account=account,
        name=number,
        type=Sender.Type.VIRTUAL,
        referer=Sender.Referer.VIRTUAL,
        status=Sender.Status.ENABLE,
        description=description,
        decided_at=timezone.now(),
        decided_by=by,
    )
    logger.info("virtual number %s assigned to %s by %s", number, account, by)
    return obj


def _decide(sender: Sender, decide) -> Sender:
    with transaction.atomic():
        locked = Sender.objects.select_for_update().select_related("account").get(pk=sender.pk)
        if not locked.is_waiting:
            raise NotWaiting(
                _("%(sender)s is not waiting for validation (status: %(status)s).")
                % {"sender": locked.sender, "status": locked.get_status_display()}
            )
        decide(locked)

        def mail_the_owners():
            _notify_decision(locked.pk)

        # After the commit, and a mail server that fails does not undo the decision.
        transaction.on_commit(mail_the_owners, robust=True)
    sender.refresh_from_db()
    return sender


def sender_approve(sender: Sender, by: User) -> Sender:
    """Staff approve a request: the sender can be used at once. Raises NotWaiting."""
    sender = _decide(sender, lambda s: s.approve(by=by))
    logger.info("sender %r of %s approved by %s", sender.sender, sender.account, by)
    return sender


def sender_refuse(sender: Sender, by: User, reason: str) -> Sender:
    """Staff refuse a request; `reason` is shown to the customer. Raises NotWaiting."""
    reason = reason.strip()
    if not reason:
        raise SenderError(_("A reason is required to refuse a sender."))
    sender = _decide(sender, lambda s: s.refuse(by=by, reason=reason))
    logger.info("sender %r of %s refused by %s: %s", sender.sender, sender.account, by, reason)
    return sender


def _notify_decision(sender_id: int) -> None:
    """E-mail the account's owners (in the site's language: mails have no request)."""
    sender = Sender.objects.select_related("account").get(pk=sender_id)
    emails = list(
        User.objects.filter(
            memberships__account_id=sender.account_id,
            memberships__role=Membership.Role.OWNER,
            is_active=True,
        ).values_list("email", flat=True)
    )
    if not emails:
        return
    context = {"sender": sender, "account": sender.account}
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string("senders/email/decision_subject.txt", context)
        body = render_to_string("senders/email/decision.txt", context)
    send_mail(" ".join(subject.split()), body, None, emails)


def sender_set_enabled(sender: Sender, *, enabled: bool) -> Sender:
    """The customer's switch. Disabling only keeps the sender out of new sends."""
    with transaction.atomic():
        locked = Sender.objects.select_for_update().get(pk=sender.pk)
        if not locked.can_toggle:
            raise SenderError(_("Only an enabled or disabled sender can be switched on or off."))
        if (locked.status == Sender.Status.ENABLE) != enabled:
            locked.set_enabled(enabled)
    sender.status = locked.status
    return sender


def sender_delete(sender: Sender) -> None:
    """Delete a sender and its documents, unless jobs not sent yet still use it."""
    with transaction.atomic():
        locked = Sender.objects.select_for_update().get(pk=sender.pk)
        if locked.has_pending_jobs():
            raise SenderInUse(
                _(
                    "The sender %(sender)s is used by sends that are planned or in progress: "
                    "cancel them or wait until they are sent before deleting it."
                )
                % {"sender": locked.sender}
            )
        locked.delete()
    logger.info("sender %r of account %s deleted", sender.sender, sender.account_id)


# --- Supporting documents sent through the API (declared, then their content PUT) ----------------


def sender_document_declare(*, sender: Sender, name: str, description: str = "") -> SenderDocument:
    """A document waiting for its content; raises SenderError past MAX_DOCUMENTS."""
    if sender.documents.count() >= MAX_DOCUMENTS:
        raise SenderError(
            _("A sender request takes at most %(n)d documents.") % {"n": MAX_DOCUMENTS}
        )
    return SenderDocument.objects.create(sender=sender, original_name=name[-255:],
                                         description=description, size=0,
                                         upload_token=secrets.token_urlsafe(30))  # fmt: skip


def sender_document_store(*, document: SenderDocument, stream, length: int) -> None:
    """The content of a declared document: at most MAX_DOCUMENT_SIZE bytes of PDF, JPEG or
    PNG (read from its bytes, and opened). Raises SenderError, or core.http.TooLarge."""
    if document.file:
        raise SenderError(_("This document already has its content."))
    if length > MAX_DOCUMENT_SIZE:
        raise http.TooLarge(MAX_DOCUMENT_SIZE)
    with tempfile.TemporaryFile() as spool:
        size = http.read_limited(stream, spool, max_bytes=MAX_DOCUMENT_SIZE)
        upload = File(spool, name=document.original_name)
        content_type = document_type(upload)
        if content_type is None:
            raise SenderError(_("Only PDF, JPEG and PNG documents are accepted."))
        document.content_type, document.size = content_type, size
        document.file.save(document.original_name or "document", upload, save=False)
    document.upload_token = None
    document.save(update_fields=["file", "content_type", "size", "upload_token"])
