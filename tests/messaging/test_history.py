"""The outgoing SMS history /sms/<name>/outgoing/ and its CSV export."""

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from messaging import history, selectors
from messaging.models import OutgoingMessage, SmsJob
from senders.models import Sender

pytestmark = pytest.mark.django_db


def history_url(account):
    return f"/sms/{account.name}/outgoing/"


def export_url(account):
    return f"/sms/{account.name}/outgoing/export.csv"


def make_job(account, *, message="Bonjour", sender_label="", tag="", status="done"):
    return SmsJob.objects.create(
        account=account,
        sender_label=sender_label,
        message=message,
        tag=tag,
        encoding="GSM-7",
        segments=1,
        credits=Decimal("1.00"),
        status=status,
    )


def make_message(job, receiver, *, status="delivered", at=None, credits="1.00", error_code=""):
    message = OutgoingMessage.objects.create(
        job=job,
        account=job.account,
        receiver=receiver,
        country="FR",
        parts=1,
        credits=Decimal(credits),
        status=status,
        error_code=error_code,
    )
    if at is not None:  # created_at is auto_now_add: set it afterwards
        OutgoingMessage.objects.filter(pk=message.pk).update(created_at=at)
    return message


def fill(account, n, *, job=None):
    job = job or make_job(account)
    return [make_message(job, f"+336{i:08d}") for i in range(n)]


def ids(response):
    return [m.id for m in response.context["page"].rows]


def csv_rows(response):
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:]), delimiter=";"))


# --- the page ---------------------------------------------------------------------------------


def test_it_lists_the_accounts_messages_newest_first(owner_client, account, outsider):
    mine = fill(account, 3)
    other_account = outsider.memberships.get().account
    fill(other_account, 2)

    response = owner_client.get(history_url(account))

    assert response.status_code == 200
    assert ids(response) == [m.id for m in reversed(mine)]
    assert response.context["tab"] == "history"


def test_it_shows_each_column(owner_client, account):
    job = make_job(account, message="Votre code est 1234", sender_label="MaBoutique", tag="otp")
    message = make_message(job, "+33612345678", status="undelivered", error_code="ABSENT")
    short = make_message(make_job(account), "+33698765432", status="stoplisted")
    owner_client.cookies["django_language"] = "en"

    response = owner_client.get(history_url(account))

    content = response.content.decode()
    assert "+33612345678" in content and "MaBoutique" in content
    assert 'title="Votre code est 1234"' in content
    assert '<span class="status status-undelivered">Not delivered</span>' in content
    assert "<code>ABSENT</code>" in content
    assert f'href="/sms/{account.name}/jobs/{job.pk}/"' in content
    assert "Short number" in content  # the job without a sender label
    assert f'data-id="{message.pk}"' in content and f'data-id="{short.pk}"' in content


def test_it_truncates_long_messages_but_keeps_them_whole_in_the_title(owner_client, account):
    text = "Promo " + "x" * 200
    make_message(make_job(account, message=text), "+33612345678")

    content = owner_client.get(history_url(account)).content.decode()

    assert f'title="{text}"' in content
    assert text not in content.replace(f'title="{text}"', "")


def test_it_says_when_nothing_was_sent(owner_client, account):
    owner_client.cookies["django_language"] = "en"

    response = owner_client.get(history_url(account))

    assert response.context["page"].rows == []
    assert "No SMS sent yet." in response.content.decode()


def test_the_history_tab_is_current(owner_client, account):
    content = owner_client.get(history_url(account)).content.decode()

    assert f'href="{history_url(account)}" aria-current="page"' in content


# --- filters ----------------------------------------------------------------------------------


def test_it_filters_by_paris_dates(owner_client, account):
    job = make_job(account)
    # 2025-03-01 23:30 UTC is already March 2nd in Paris (UTC+1).
    late_utc = make_message(job, "+33600000001", at=datetime(2025, 3, 1, 23, 30, tzinfo=UTC))
    first = make_message(job, "+33600000002", at=datetime(2025, 3, 1, 12, 0, tzinfo=UTC))
    third = make_message(job, "+33600000003", at=datetime(2025, 3, 3, 12, 0, tzinfo=UTC))

    on_2nd = owner_client.get(
        history_url(account), {"date_from": "2025-03-02", "date_to": "2025-03-02"}
    )
    from_2nd = owner_client.get(history_url(account), {"date_from": "2025-03-02"})
    to_1st = owner_client.get(history_url(account), {"date_to": "2025-03-01"})

    assert ids(on_2nd) == [late_utc.id]
    assert ids(from_2nd) == [third.id, late_utc.id]
    assert ids(to_1st) == [first.id]


def test_it_filters_by_exact_receiver_in_any_format(owner_client, account):
    job = make_job(account)
    wanted = make_message(job, "+33612345678")
    make_message(job, "+33612345679")
    make_message(job, "+33712345678")

    for typed in ("+33612345678", "06 12 34 56 78", "0033612345678"):
        response = owner_client.get(history_url(account), {"receiver": typed})
        assert ids(response) == [wanted.id], typed


def test_it_filters_by_receiver_prefix(owner_client, account):
    job = make_job(account)
    a = make_message(job, "+33612345678")
    b = make_message(job, "+33612999999")
    make_message(job, "+33712345678")
    make_message(job, "+32470123456")

    by_plus = owner_client.get(history_url(account), {"receiver": "+33612"})
    by_national = owner_client.get(history_url(account), {"receiver": "0612"})
    nonsense = owner_client.get(history_url(account), {"receiver": "abc"})

    assert ids(by_plus) == [b.id, a.id]
    assert ids(by_national) == [b.id, a.id]
    assert ids(nonsense) == []


def test_a_prefix_ending_in_9_keeps_its_range(owner_client, account):
    job = make_job(account)
    inside = [make_message(job, n) for n in ("+33690000000", "+33699999999")]
    make_message(job, "+33700000000")
    make_message(job, "+33689999999")

    response = owner_client.get(history_url(account), {"receiver": "+3369"})
    nines = owner_client.get(history_url(account), {"receiver": "+99"})

    assert ids(response) == [m.id for m in reversed(inside)]
    assert ids(nines) == []


@pytest.mark.parametrize(
    ("prefix", "end"), [("+336", "+337"), ("+3369", "+337"), ("+399", "+4"), ("+99", None)]
)
def test_prefix_end(prefix, end):
    assert selectors.prefix_end(prefix) == end


def test_it_filters_by_sender(owner_client, account):
    Sender.objects.create(account=account, sender="MaBoutique", status="enable")
    named = make_message(make_job(account, sender_label="MaBoutique"), "+33612345678")
    short = make_message(make_job(account), "+33612345679")
    make_message(make_job(account, sender_label="Autre"), "+33612345670")

    by_name = owner_client.get(history_url(account), {"sender": "MaBoutique"})
    by_short = owner_client.get(history_url(account), {"sender": history.SHORT_NUMBER})

    assert ids(by_name) == [named.id]
    assert ids(by_short) == [short.id]
    assert '<option value="MaBoutique" selected>' in by_name.content.decode()


@pytest.mark.parametrize("status", ["delivered", "failed", "stoplisted"])
def test_it_filters_by_status(owner_client, account, status):
    job = make_job(account)
    made = {
        s: make_message(job, f"+3361234567{i}", status=s)
        for i, s in enumerate(["delivered", "failed", "stoplisted", "submitted"])
    }

    response = owner_client.get(history_url(account), {"status": status})

    assert ids(response) == [made[status].id]


def test_it_filters_by_tag_and_job(owner_client, account):
    tagged = make_job(account, tag="promo-mars")
    other = make_job(account, tag="otp")
    t1 = make_message(tagged, "+33612345678")
    t2 = make_message(tagged, "+33612345679")
    o1 = make_message(other, "+33612345678")

    by_tag = owner_client.get(history_url(account), {"tag": "promo-mars"})
    by_job = owner_client.get(history_url(account), {"job": other.pk})
    both = owner_client.get(history_url(account), {"tag": "promo-mars", "job": other.pk})

    assert ids(by_tag) == [t2.id, t1.id]
    assert ids(by_job) == [o1.id]
    assert ids(both) == []


def test_a_job_of_another_account_shows_nothing(owner_client, account, outsider):
    foreign_job = make_job(outsider.memberships.get().account)
    make_message(foreign_job, "+33612345678")

    response = owner_client.get(history_url(account), {"job": foreign_job.pk})

    assert ids(response) == []


def test_an_invalid_filter_is_reported_not_applied(owner_client, account):
    made = fill(account, 2)

    response = owner_client.get(
        history_url(account), {"job": "abc", "date_from": "yesterday", "status": "lost"}
    )
    huge = owner_client.get(history_url(account), {"job": str(10**30)})

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"job", "date_from", "status"}
    assert huge.status_code == 200 and set(huge.context["form"].errors) == {"job"}
    assert ids(response) == [m.id for m in reversed(made)]


# --- keyset pages -----------------------------------------------------------------------------


def test_keyset_pages_neither_overlap_nor_skip(owner_client, account):
    made = fill(account, 120)
    url = history_url(account)

    first = owner_client.get(url)
    second = owner_client.get(url, {"before": first.context["page"].next_before})
    third = owner_client.get(url, {"before": second.context["page"].next_before})

    pages = [ids(first), ids(second), ids(third)]
    assert [len(p) for p in pages] == [50, 50, 20]
    assert pages[0] + pages[1] + pages[2] == sorted((m.id for m in made), reverse=True)
    assert third.context["page"].next_before is None
    assert first.context["page"].previous_after is None

    back_to_second = owner_client.get(url, {"after": third.context["page"].previous_after})
    back_to_first = owner_client.get(url, {"after": second.context["page"].previous_after})
    assert ids(back_to_second) == pages[1]
    assert ids(back_to_first) == pages[0]
    assert back_to_first.context["page"].first


def test_the_links_carry_the_filters(owner_client, account):
    fill(account, 60)
    make_message(make_job(account), "+32470123456")

    first = owner_client.get(history_url(account), {"receiver": "+336"})
    next_before = first.context["page"].next_before
    second = owner_client.get(history_url(account), {"receiver": "+336", "before": next_before})
    previous_after = second.context["page"].previous_after

    assert len(ids(first)) == 50 and len(ids(second)) == 10
    assert f'href="?receiver=%2B336&amp;before={next_before}"' in first.content.decode()
    assert f'href="?receiver=%2B336&amp;after={previous_after}"' in second.content.decode()
    assert f'href="{export_url(account)}?receiver=%2B336"' in second.content.decode()
    assert 'data-testid="next"' not in second.content.decode()


def test_an_unusable_cursor_shows_the_first_page(owner_client, account):
    made = fill(account, 3)

    for cursor in ("x", "-3", str(10**30)):
        response = owner_client.get(history_url(account), {"before": cursor, "after": cursor})
        assert ids(response) == [m.id for m in reversed(made)], cursor


def test_the_page_stays_at_six_queries(owner_client, account, django_assert_max_num_queries):
    for j in range(5):
        fill(account, 15, job=make_job(account, tag=f"t{j}", sender_label=f"S{j}"))

    # The session read is one of them.
    with django_assert_max_num_queries(6):
        response = owner_client.get(history_url(account))
    with django_assert_max_num_queries(6):
        filtered = owner_client.get(
            history_url(account),
            {
                "tag": "t1",
                "sender": "S1",
                "status": "delivered",
                "receiver": "+336",
                "date_from": "2020-01-01",
                "before": response.context["page"].rows[10].id,
            },
        )

    assert len(response.context["page"].rows) == 50
    assert len(filtered.context["page"].rows) == 15


# --- CSV export -------------------------------------------------------------------------------


def test_the_export_streams_a_semicolon_csv_with_a_bom(owner_client, account):
    job = make_job(account, message="Bonjour, ça va ?", sender_label="MaBoutique", tag="été")
    make_message(job, "+33612345678", credits="1.50")

    response = owner_client.get(export_url(account))

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(f'attachment; filename="{account.name}-')
    header, row = csv_rows(response)
    assert len(header) == len(row) == 13
    assert row[2:8] == ["'+33612345678", "MaBoutique", "Bonjour, ça va ?", "été", "1", "1,50"]


def test_the_export_escapes_formulas(owner_client, account):
    job = make_job(account, message='=HYPERLINK("http://evil.example","x")', tag="=HYPERLINK(1)")
    make_message(job, "+33612345678", error_code="@SUM(A1)")
    make_message(make_job(account, message="-2+3", tag="+cmd"), "+33612345679")

    header, second, first = csv_rows(owner_client.get(export_url(account)))

    assert first[4] == '\'=HYPERLINK("http://evil.example","x")'
    assert first[5] == "'=HYPERLINK(1)"
    assert first[11] == "'@SUM(A1)"
    assert second[4:6] == ["'-2+3", "'+cmd"]
    # A number starts with +: the same apostrophe as every export (core.csv_export).
    assert first[2] == "'+33612345678"


def test_the_export_applies_the_filters(owner_client, account):
    job = make_job(account)
    failed = make_message(job, "+33612345678", status="failed")
    make_message(job, "+33612345679", status="delivered")

    rows = csv_rows(owner_client.get(export_url(account), {"status": "failed"}))

    assert [r[0] for r in rows[1:]] == [str(failed.id)]


def test_the_export_reads_every_row_by_chunks(account):
    made = fill(account, 7)

    rows = list(history.export_rows(account, {}, chunk=3))

    assert [r[0] for r in rows[1:]] == [m.id for m in reversed(made)]


def test_the_export_header_follows_the_language(owner_client, account):
    owner_client.cookies["django_language"] = "en"

    header, *_ = csv_rows(owner_client.get(export_url(account)))

    assert header[:3] == ["Id", "Date", "Recipient"]


# --- access -----------------------------------------------------------------------------------


def test_the_page_and_export_are_404_for_an_outsider(client, account, outsider):
    fill(account, 1)
    client.force_login(outsider)

    assert client.get(history_url(account)).status_code == 404
    assert client.get(export_url(account)).status_code == 404


def test_the_page_needs_a_login(client, account):
    response = client.get(history_url(account))

    assert response.status_code == 302
    assert response.url.startswith("/login/")


def test_a_member_reads_the_history(client, account, member):
    made = fill(account, 2)
    client.force_login(member)

    assert ids(client.get(history_url(account))) == [m.id for m in reversed(made)]
