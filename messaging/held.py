"""A campaign's recipients waiting for their turn (`HeldRecipients`): stored in chunks when the
campaign is prepared, written as message rows, already due, when the pacer releases them.

bench/campaigns.py showed that writing a million held rows at preparation (and their short
links) was nearly all of its minutes, and that every row was then written a second time when
released. Now preparing stores a few hundred chunks, and each message row and its short links
are written once, a few at a time, as the pace allows; charging stays whole at preparation.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import F, Sum

from core import bulk

from . import dispatch, ledger, shortlinks
from .models import HeldRecipients, OutgoingMessage, ShortLink, SmsJob, StopListEntry

CHUNK = 5000
_Q = OutgoingMessage.Status


def store(job: SmsJob, rows: Sequence[tuple]) -> None:
    """Keep a job's queued rows (messages_insert's, without the status) for the pacer. COPY on
    PostgreSQL: the ORM's client-side quoting of these large JSON values took seconds."""
    chunks = [rows[start : start + CHUNK] for start in range(0, len(rows), CHUNK)]
    bulk.insert(
        HeldRecipients,
        fields=("job", "seq", "rows", "size", "taken"),
        rows=[(job.pk, n, json.dumps(chunk), len(chunk), 0) for n, chunk in enumerate(chunks)],
    )


def waiting(job_ids) -> dict[int, int]:
    """Recipients not written yet, per job (jobs with none are left out)."""
    return {
        job_id: n
        for job_id, n in HeldRecipients.objects.filter(job_id__in=list(job_ids))
        .values_list("job_id")
        .annotate(n=Sum(F("size") - F("taken")))
        .order_by()
        if n
    }


def write(job: SmsJob, n: int, *, due: datetime, now: datetime, links: list[str]) -> int:
    """Write up to n of the job's waiting recipients as queued messages due at `due`, with
    their short links for the URLs in `links`; returns how many were written. One transaction
    per chunk taken from; a chunk is read under a lock (PostgreSQL) or in the writers' queue
    (SQLite, bulk.atomic_write), so two writers never write the same recipients."""
    written = 0
    while written < n:
        with bulk.atomic_write():
            chunks = HeldRecipients.objects.filter(job=job).order_by("seq")
            if connection.features.has_select_for_update:
                chunks = chunks.select_for_update()
            chunk = chunks.only("id", "taken", "size").first()
            if chunk is None:
                break
            rows = HeldRecipients.objects.values_list("rows", flat=True).get(pk=chunk.pk)
            part = rows[chunk.taken : chunk.taken + n - written]
            # A recipient who answered STOP since the campaign was prepared is not sent to:
            # written STOP-listed (never sent, nothing kept), the credits charged for it given
            # back.
            listed = set(
                StopListEntry.objects.filter(
                    account_id=job.account_id, number__in=[row[0] for row in part]
                ).values_list("number", flat=True)
            )
            sent = [row for row in part if row[0] not in listed]
            stopped = [row for row in part if row[0] in listed]
            if links and sent:
                sent = _with_links(job, sent, links)
            dispatch.messages_insert(
                job=job,
                rows=[(*row[:6], _Q.QUEUED) for row in sent]
                + [(*row[:5], "0.00", _Q.STOPLISTED) for row in stopped],
                due=due,
                now=now,
            )
            if stopped:
                ledger.messages_refund_stopped(job, {row[0]: Decimal(row[5]) for row in stopped})
            if chunk.taken + len(part) >= chunk.size:
                HeldRecipients.objects.filter(pk=chunk.pk).delete()
            else:
                HeldRecipients.objects.filter(pk=chunk.pk).update(taken=chunk.taken + len(part))
        written += len(part)
    return written


def _with_links(job: SmsJob, part: list, links: list[str]) -> list:
    """The rows with each URL replaced by a new short link of its recipient, the links
    written (same transaction)."""
    codes = iter(shortlinks.new_codes(len(part) * len(links)))
    out, made = [], []
    for receiver, country, source, parts, text, credits in part:
        mine = {url: next(codes) for url in links}
        made.extend((code, job.pk, receiver, url, 0) for url, code in mine.items())
        text = shortlinks.with_links(text or job.message, mine)
        out.append((receiver, country, source, parts, text, credits))
    bulk.insert(ShortLink, fields=("code", "job", "receiver", "url", "clicks"), rows=made)
    return out


def credits_waiting(job: SmsJob) -> Decimal:
    """The credits of the job's recipients not written yet (refunded when it is cancelled)."""
    return sum(
        (
            Decimal(row[5])
            for rows, taken in HeldRecipients.objects.filter(job=job).values_list("rows", "taken")
            for row in rows[taken:]
        ),
        Decimal("0"),
    )


def write_cancelled(limit: int, *, job_ids=None) -> int:
    """Write the recipients of cancelled campaigns (of these jobs) that were still waiting as
    cancelled messages (their credits were refunded by the cancellation), up to about `limit`;
    returns how many. A cancellation writes what a second allows, the tick the rest."""
    written = 0
    finished = (SmsJob.Status.DONE, SmsJob.Status.CANCELLED)
    while written < limit:
        with bulk.atomic_write():
            chunks = HeldRecipients.objects.filter(job__status__in=finished).order_by("id")
            if job_ids is not None:
                chunks = chunks.filter(job_id__in=list(job_ids))
            if connection.features.has_select_for_update_of:
                chunks = chunks.select_for_update(of=("self",), skip_locked=True)
            chunk = chunks.only("id", "taken", "job_id").first()
            if chunk is None:
                break
            rows = HeldRecipients.objects.values_list("rows", flat=True).get(pk=chunk.pk)
            job = SmsJob.objects.only("id", "account_id", "created_at").get(pk=chunk.job_id)
            part = rows[chunk.taken :]
            dispatch.messages_insert(
                job=job, rows=[(*row[:6], _Q.CANCELLED) for row in part], due=None
            )
            HeldRecipients.objects.filter(pk=chunk.pk).delete()
        written += len(part)
    return written


def holds_number(account, number: str) -> bool:
    """Whether a campaign of the account still has this number waiting for its turn."""
    for rows, taken in HeldRecipients.objects.filter(job__account=account).values_list(
        "rows", "taken"
    ):
        if any(row[0] == number for row in rows[taken:]):
            return True
    return False
