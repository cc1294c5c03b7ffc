"""Messaging workflows: estimates, job submission and cancellation.

Dispatch is in `dispatch`, what comes back from the operator in `reports`."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import SmsAccount, SmsUser
from accounts.selectors import rates_for
from accounts.services import (
    InsufficientCredits,
    credits_debit,
    credits_refund,
    sms_user_quota_debit,
)
from core import recipients as rcpt
from core.formats import credits_number, credits_plural
from senders.models import Sender

from . import dispatch, held, personalize, selectors, totals
from .encoding import SmsCount, count
from .ledger import job_reason, refund_key
from .models import (
    MessageEvent,
    OutgoingMessage,
    PendingChunk,
    SmsJob,
    StopListEntry,
    TemplateControl,
)
from .schedule import MAX_PLANNED_AHEAD, next_commercial_window


@dataclass
class Estimate:
    recipients: int
    segments: int
    credits_needed: Decimal
    credits_left: Decimal
    credits_after: Decimal
    invalid: list[tuple[str, str]] = field(default_factory=list)  # (as typed, reason code)
    duplicates: int = 0
    # With personalisation fields: the count of the longest recipient's text (else None).
    longest: SmsCount | None = None
    stoplisted: int = 0
    invalid_count: int = 0  # numbers that will not receive it (`invalid` shows examples)

    @property
    def insufficient(self) -> bool:
        return self.credits_after < 0


def estimate_build(
    *,
    account: SmsAccount,
    sms: SmsCount,
    parsed: rcpt.ParsedRecipients,
    message: str = "",
    stop_clause: bool = True,
    books=(),
    lists=(),
) -> Estimate:
    """What sending would cost: exactly what job_submit will debit for the same choice.

    `parsed` holds the typed numbers and chosen contacts (read here as job_submit reads
    them); the books and lists are counted by the database (selectors.stored_summary), so the
    estimate costs a few queries whatever their size. STOP-listed numbers are counted and not
    charged; with personalisation fields, each recipient's own text is counted and the
    estimate shows the longest."""
    split = selectors.recipients_served(parsed.valid)
    invalid = [*parsed.invalid, *(tuple(u) for u in split.unserved)]
    stopped = _stoplisted(account, [r.number for r in split.recipients])
    sendable = [r for r in split.recipients if r.number not in stopped]
    fields = personalize.fields_used(message) if message else ()
    stored = _stored_summary(
        account=account, books=books, lists=lists, exclude=[r.number for r in parsed.valid],
        fields=fields,
    )  # fmt: skip
    # One (region, name, surname, group, how many, shown as) list for both parts.
    groups = [(r.region, r.name, r.surname, r.group, 1, r.number) for r in sendable]
    groups += stored.groups
    rates = dict(split.rates)
    if missing := {g[0] for g in stored.groups} - rates.keys():
        rates.update(rates_for(missing))
    needed, recipients, counts = Decimal("0.00"), 0, {}
    invalid_count = len(invalid) + len(stored.invalid)
    longest = None if fields else sms  # personalised: the longest of the recipients' texts
    for region, name, surname, group, n, label in groups:
        if region not in rates:  # only stored numbers: the typed ones were split above
            invalid.append((f"{label}… ({n})", "no_rate"))
            invalid_count += n
            continue
        if fields:
            text = personalize.render(message, name=name, surname=surname, group=group)
            if text not in counts:
                counts[text] = count(text, stop_clause=stop_clause)
            this = counts[text]
            if longest is None or (this.segments, this.units) > (longest.segments, longest.units):
                longest = this
        else:
            this = sms
        needed += rates[region] * this.segments * n
        recipients += n
    invalid += [tuple(i) for i in stored.invalid]
    return Estimate(
        recipients=recipients,
        segments=(longest or sms).segments,
        credits_needed=needed,
        credits_left=account.credits,
        credits_after=account.credits - needed,
        invalid=invalid,
        duplicates=parsed.duplicates + stored.duplicates,
        stoplisted=len(stopped) + stored.stoplisted,
        invalid_count=invalid_count,
        longest=longest if fields else None,
    )


# How long the counted figures of a selection of books and lists are kept while the message is
# typed: counting a 400,000-contact book takes a second or two, and the counter asks on each
# keystroke. The key holds what changes the figures (sizes, STOP list length), so only an edit
# of a contact's number within that time goes unseen; the send itself is charged from its rows.
STORED_SUMMARY_SECONDS = 60


def _stored_summary(*, account, books, lists, exclude, fields) -> selectors.StoredSummary:
    if not books and not lists:
        return selectors.StoredSummary()
    stop_entries = StopListEntry.objects.filter(account=account).count()
    key = "estimate:" + hashlib.sha256(
        repr(
            (
                account.pk,
                [(b.pk, b.contacts_count) for b in books],
                [(rl.pk, rl.records) for rl in lists],
                sorted(exclude),
                fields,
                stop_entries,
            )
        ).encode()
    ).hexdigest()
    try:
        summary = cache.get(key)
    except Exception:  # noqa: BLE001 - the cache only saves time: count again without it
        summary = None
    if summary is None:
        summary = selectors.stored_summary(
            account=account, books=books, lists=lists, exclude=exclude, fields=fields
        )
        try:
            cache.set(key, summary, STORED_SUMMARY_SECONDS)
        except Exception:  # noqa: BLE001
            pass
    return summary


# --- Sending ---------------------------------------------------------------------------------

# Above this many recipients the message rows are written by the dispatcher when the job
# starts, not by the request (PendingChunk).
INLINE_ROWS = 2000

_Q = OutgoingMessage.Status


class SendError(Exception):
    """The send was refused; the message says why, for the person who asked."""


def _stoplisted(account: SmsAccount, numbers: list[str]) -> set[str]:
    # One query for the whole list: STOP lists are small next to a big send's recipients.
    listed = set(StopListEntry.objects.filter(account=account).values_list("number", flat=True))
    return listed.intersection(numbers)


def job_submit(
    *,
    account: SmsAccount,
    user,
    message: str,
    parsed: rcpt.ParsedRecipients,
    sender: Sender | None = None,
    stop_clause: bool = True,
    sms_class: str = SmsJob.SmsClass.PHONE_DISPLAY,
    tag: str = "",
    scheduled_at: datetime | None = None,
    now: datetime | None = None,
    message_rows_now: bool = False,
    validity_period: int | None = None,
    sms_user: SmsUser | None = None,
    campaign=None,
    variant: str = "",
    render=None,
) -> SmsJob:
    """Create a job, charge it whole, and queue it (or plan it). Raises SendError.

    `message_rows_now` writes every message row in this transaction even for a large job
    (the API returns their ids). With `campaign`, the job is held (planned with no time, its
    recipients kept by messaging.held) for the campaign's pacer to release; `render(recipient)`
    gives each recipient's text and the text to count it by (tracked links)."""
    now = now or timezone.now()
    if account.status != SmsAccount.Status.ENABLE:
        raise SendError(_("This account is disabled: it cannot send SMS."))
    if sender is not None and (
        sender.account_id != account.pk or sender.status != Sender.Status.ENABLE
    ):
        raise SendError(_("This sender is not enabled on this account."))
    if not message.strip():
        # Spaces alone would be charged, sent and refunded as an empty SMS.
        raise SendError(_("The message is empty."))
    if scheduled_at and scheduled_at > now + MAX_PLANNED_AHEAD:
        raise SendError(
            _("A send can be planned at most %(days)s days ahead.")
            % {"days": MAX_PLANNED_AHEAD.days}
        )
    split = selectors.recipients_served(parsed.valid)
    rates, served = split.rates, split.recipients
    invalid = [[raw, reason] for raw, reason in parsed.invalid] + split.unserved
    stopped = _stoplisted(account, [r.number for r in served])
    sendable = [r for r in served if r.number not in stopped]
    if not sendable:
        raise SendError(_("No recipient can receive this SMS."))
    texts, parts, sms = _texts_and_parts(
        message, sendable, stop_clause=stop_clause, render=render
    )
    if sms.too_long:
        raise SendError(_("The message is longer than 255 SMS."))
    # Credits by (country, SMS count): a million recipients have a handful of distinct prices,
    # and a Decimal product and its text per recipient were a third of a campaign's
    # preparation (bench/campaigns.py).
    shapes = Counter(zip((r.region for r in sendable), parts, strict=True))
    prices = {(region, p): rates[region] * p for region, p in shapes}
    price_texts = {key: str(price) for key, price in prices.items()}
    cost = sum((prices[key] * n for key, n in shapes.items()), Decimal("0"))

    send_at = scheduled_at if scheduled_at and scheduled_at > now else now
    if stop_clause:
        send_at = next_commercial_window(send_at)
    planned = send_at > now
    if campaign is not None:
        planned, send_at = True, None

    with transaction.atomic():
        job = SmsJob.objects.create(
            account=account,
            created_by=user,
            sms_user=sms_user,
            sender=sender,
            sender_label=sender.sender if sender else "",
            reply_allowed=sender is None or sender.allows_replies,
            message=message,
            stop_clause=stop_clause,
            sms_class=sms_class,
            tag=tag,
            encoding=sms.encoding,
            segments=sms.segments,
            credits=cost,
            scheduled_at=send_at if planned else None,
            campaign=campaign,
            variant=variant,
            status=SmsJob.Status.SCHEDULED if planned else SmsJob.Status.QUEUED,
            recipients_count=len(sendable),
            stoplisted_count=len(stopped),
            duplicates_count=parsed.duplicates,
            invalid_receivers=invalid,
            **({"validity_period": validity_period} if validity_period else {}),
        )
        try:
            credits_debit(
                account=account,
                amount=cost,
                key=f"job:{job.pk}:debit",
                reason=job_reason(job.pk, campaign),
                by=user,
            )
        except InsufficientCredits:
            transaction.set_rollback(True)
            raise SendError(
                ngettext(
                    "Your credit balance is insufficient: this send needs %(cost)s credit.",
                    "Your credit balance is insufficient: this send needs %(cost)s credits.",
                    credits_plural(cost),
                )
                % {"cost": credits_number(cost)}
            ) from None
        if sms_user is not None and not sms_user_quota_debit(user=sms_user, amount=cost):
            transaction.set_rollback(True)
            raise SendError(
                ngettext(
                    "The quota of this SMS user is insufficient: this send needs %(cost)s credit.",
                    "The quota of this SMS user is insufficient: this send needs %(cost)s credits.",
                    credits_plural(cost),
                )
                % {"cost": credits_number(cost)}
            )
        queued = _Q.QUEUED
        rows = [
            (r.number, r.region, r.source, p, t, price_texts[r.region, p], queued)
            for r, p, t in zip(sendable, parts, texts, strict=True)
        ] + [
            (r.number, r.region, r.source, sms.segments, "", "0.00", _Q.STOPLISTED)
            for r in served
            if r.number in stopped
        ]
        if campaign is not None:
            # Held for the campaign's pacer, which writes each message row when it releases
            # it (messaging.held); STOP-listed rows are final: written now.
            held.store(job, [row[:6] for row in rows if row[-1] == _Q.QUEUED])
            stopped_rows = [row for row in rows if row[-1] != _Q.QUEUED]
            if stopped_rows:
                dispatch.messages_insert(job=job, rows=stopped_rows, due=None, now=now)
        elif len(rows) > INLINE_ROWS and not message_rows_now:
            dispatch.pending_store(job=job, rows=rows)
        else:
            dispatch.messages_insert(job=job, rows=rows, due=None, now=now)
        if not planned and campaign is None:
            # The job is in the database now: losing this wake-up (broker down) only delays
            # it to the next beat tick.
            dispatch.wake_on_commit()
    return job


def _texts_and_parts(message: str, recipients: list, *, stop_clause: bool, render=None):
    """Each recipient's text ("" = the job's) and SMS count, and the count of the longest.

    `render(recipient) -> (text, shape)`: the text, and one of the same count to count it by
    (a tracked link's code is random but of fixed length: one count per shape, not per text)."""
    if render is not None:
        rendered = [render(r) for r in recipients]
        counts = {shape: count(shape, stop_clause=stop_clause) for _t, shape in rendered}
        longest = max(counts.values(), key=lambda c: (c.segments, c.units))
        return [t for t, _s in rendered], [counts[s].segments for _t, s in rendered], longest
    if not personalize.has_fields(message):
        sms = count(message, stop_clause=stop_clause)
        return [""] * len(recipients), [sms.segments] * len(recipients), sms
    # Rendered once per distinct value of the fields the message uses (first names repeat).
    used = personalize.fields_used(message)
    rendered: dict[tuple, str] = {}
    texts = []
    for r in recipients:
        key = tuple(getattr(r, f) for f in used)
        text = rendered.get(key)
        if text is None:
            text = rendered[key] = personalize.render(
                message, name=r.name, surname=r.surname, group=r.group
            )
        texts.append(text)
    counts = {t: count(t, stop_clause=stop_clause) for t in rendered.values()}
    longest = max(counts.values(), key=lambda c: (c.segments, c.units))
    return texts, [counts[t].segments for t in texts], longest


def _cancel_messages(messages) -> int:
    """Cancel these (queued) messages, each with its refund on its page. The caller holds the
    job (locked or moved out of `scheduled`), so nothing else changes them meanwhile."""
    rows = list(messages.values_list("id", "credits", "account_id", "created_at"))
    OutgoingMessage.objects.filter(pk__in=[r[0] for r in rows]).update(status=_Q.CANCELLED)
    totals.add((account, created, _Q.CANCELLED, 1, credits) for _pk, credits, account, created in rows)
    now = timezone.now()
    MessageEvent.objects.bulk_create(
        [
            MessageEvent(
                message_id=pk,
                at=now,
                kind=MessageEvent.Kind.REFUND,
                status=_Q.CANCELLED,
                credits=credits,
            )
            for pk, credits, _account, _created in rows
        ],
        batch_size=1000,
    )
    return len(rows)


def job_cancel(*, job: SmsJob, by=None) -> bool:
    """Cancel a planned job and refund it whole; False when dispatch already began."""
    with transaction.atomic():
        if not SmsJob.objects.filter(pk=job.pk, status=SmsJob.Status.SCHEDULED).update(
            status=SmsJob.Status.CANCELLED, finished_at=timezone.now()
        ):
            return False
        _cancel_messages(OutgoingMessage.objects.filter(job=job, status=_Q.QUEUED))
        PendingChunk.objects.filter(job=job).delete()
        # What is left to refund, read after the UPDATE locked the row: message_cancel (the
        # API's DELETE /jobs/{id}) lowers it, maybe after the caller loaded `job`.
        job.credits = SmsJob.objects.values_list("credits", flat=True).get(pk=job.pk)
        if job.credits > 0:
            credits_refund(
                account=job.account,
                amount=job.credits,
                key=f"job:{job.pk}:cancel",
                reason=f"#{job.pk}",
            )
    return True


def message_cancel(*, message: OutgoingMessage) -> bool:
    """Cancel one message of a planned job and refund it; the job is cancelled with its last
    message. False when the job is no longer planned (dispatch began) or the message is gone."""
    with transaction.atomic():
        job = SmsJob.objects.select_for_update().filter(pk=message.job_id).first()
        if job is None or job.status != SmsJob.Status.SCHEDULED:
            return False
        if not _cancel_messages(OutgoingMessage.objects.filter(pk=message.pk, status=_Q.QUEUED)):
            return False
        remaining = job.credits - message.credits
        if OutgoingMessage.objects.filter(job=job, status=_Q.QUEUED).exists():
            SmsJob.objects.filter(pk=job.pk).update(credits=remaining)
        else:
            SmsJob.objects.filter(pk=job.pk).update(
                credits=remaining, status=SmsJob.Status.CANCELLED, finished_at=timezone.now()
            )
        if message.credits > 0:
            credits_refund(
                account=job.account,
                amount=message.credits,
                key=refund_key(message.pk),
                reason=f"#{job.pk}",
            )
    return True


# --- Templates for moderation (OVH templatesControl) ---------------------------------------------


class TemplateControlError(Exception):
    """The change was refused; the message says why."""


def template_control_create(*, account, name: str, activity: str, message: str,
                            description: str = "", reason: str = "") -> TemplateControl:  # fmt: skip
    if TemplateControl.objects.filter(account=account, name=name).exists():
        raise TemplateControlError(_("A template with this name already exists."))
    return TemplateControl.objects.create(account=account, name=name, activity=activity,
                                          message=message, description=description,
                                          reason=reason)  # fmt: skip


def template_control_update(template: TemplateControl, *, activity=None, description=None,
                            message=None, status=None) -> None:  # fmt: skip
    """The customer's changes: a new text or kind goes back to moderation; an approved
    template can be switched off and on, nothing else of the status is theirs to set."""
    _S = TemplateControl.Status
    if status is not None and status != template.status:
        if {status, template.status} != {_S.ENABLE, _S.DISABLE}:
            raise TemplateControlError(_("Only staff approve or refuse a template."))
        template.status = status
    if description is not None:
        template.description = description
    changed = (message is not None and message != template.message) or (
        activity is not None and activity != template.activity
    )
    if changed:
        template.message = template.message if message is None else message
        template.activity = template.activity if activity is None else activity
        template.status, template.comment = _S.WAITING, ""
    template.save()


def template_control_relaunch(template: TemplateControl, *, description: str, message: str):
    """A refused template, corrected, goes back to moderation."""
    if template.status != TemplateControl.Status.REFUSED:
        raise TemplateControlError(_("Only a refused template can be submitted again."))
    template.description, template.message = description, message
    template.status, template.comment = TemplateControl.Status.WAITING, ""
    template.save()
