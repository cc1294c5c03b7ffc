"""The « API users » page of an account (applications, consumer keys) and the page where a
member validates a credential asked through POST /1.0/auth/credential."""

import html
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from api import services
from api.models import ApiApplication, ConsumerKey, key_hash
from tests.accounts.factories import AccountFactory

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


def keys_url(account) -> str:
    return reverse("api:keys", args=[account.name])


def make_app(account, user=None, name="Boutique CRM", description="Sends the order SMS"):
    app, _secret = services.application_create(
        account=account, user=user, name=name, description=description
    )
    return app


def make_key(app, rules=services.READ_ONLY, expires_at=None):
    ck, _key = services.consumer_key_create(
        application=app, user=None, access_rules=rules, expires_at=expires_at
    )
    return ck


def shown(body: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}">([^<]*)<', body)
    assert match, f"{testid} is not on the page"
    return match.group(1)


def close_to(value, expected):
    return abs(value - expected) < timedelta(minutes=1)


# --- the page ---------------------------------------------------------------------------------


def test_the_page_lists_applications_and_their_keys(owner_client, english, owner, account):
    app = make_app(account, user=owner)
    ck = make_key(app, expires_at=timezone.now() + timedelta(days=30))
    used = make_key(app, rules=services.FULL_ACCESS)
    ConsumerKey.objects.filter(pk=used.pk).update(last_used_at=timezone.now())

    response = owner_client.get(keys_url(account))

    assert response.status_code == 200
    body = text(response)
    assert "Boutique CRM" in body
    assert "Sends the order SMS" in body
    assert app.app_key in body
    assert f"by {owner.email}" in body
    assert f"{ck.key_prefix}…" in body
    assert f"{used.key_prefix}…" in body
    assert "GET /sms*" in body
    assert "DELETE /sms*" in body
    assert body.count(">Valid<") == 2
    assert body.count(">Never<") == 2  # ck: never used; used: never expires
    # The secret is never shown again, and the consumer keys were never stored.
    assert app.app_secret not in body
    assert response["Cache-Control"].startswith("max-age=0")


def test_the_tab_and_the_example_point_at_this_account(owner_client, english, account):
    dashboard = owner_client.get(reverse("messaging:dashboard", args=[account.name]))
    assert f'href="{keys_url(account)}"' in text(dashboard)
    assert "API users" in text(dashboard)

    body = text(owner_client.get(keys_url(account)))

    example = re.search(r'data-testid="api-example"><code>(.*?)</code>', body, re.S).group(1)
    assert example.splitlines() == [
        "import ovh",
        "",
        'ovh.client.ENDPOINTS["smspanel"] = "http://testserver/1.0"',
        'client = ovh.Client(endpoint="smspanel", application_key="…", '
        'application_secret="…", consumer_key="…")',
        f'client.post("/sms/{account.name}/jobs", message="Hello", '
        'receivers=["+33612345678"], noStopClause=True)',
    ]
    assert "No application yet" in body


def test_the_page_shows_expired_revoked_and_pending_keys(owner_client, english, account):
    app = make_app(account)
    make_key(app, expires_at=timezone.now() - timedelta(days=1))
    services.consumer_key_revoke(make_key(app))
    services.credential_request(application=app, access_rules=services.READ_ONLY)

    body = text(owner_client.get(keys_url(account)))

    statuses = re.findall(r'data-testid="key-status">([^<]*)<', body)
    assert sorted(statuses) == ["Expired", "Revoked", "Waiting for validation"]
    assert body.count('data-testid="key-revoke"') == 1  # only the pending one can be revoked


def test_the_page_makes_the_same_queries_for_one_or_many_applications(owner_client, account):
    make_key(make_app(account))
    owner_client.get(keys_url(account))  # warm up (session, caches)
    with CaptureQueriesContext(connection) as one:
        owner_client.get(keys_url(account))
    for n in range(3):
        app = make_app(account, name=f"App {n}")
        make_key(app)
        make_key(app)
    with CaptureQueriesContext(connection) as many:
        owner_client.get(keys_url(account))

    assert len(many) == len(one)


# --- applications -----------------------------------------------------------------------------


def test_creating_an_application_shows_its_key_and_secret_once(
    owner_client, english, owner, account
):
    response = owner_client.post(
        reverse("api:application_create", args=[account.name]),
        {"name": "Boutique CRM", "description": "Order SMS"},
    )

    assert response.status_code == 200
    app = ApiApplication.objects.get()
    assert (app.account, app.created_by, app.name, app.description) == (
        account,
        owner,
        "Boutique CRM",
        "Order SMS",
    )
    body = text(response)
    assert shown(body, "created-app-key") == app.app_key
    assert shown(body, "created-app-secret") == app.app_secret
    assert len(app.app_secret) == services.APP_SECRET_LENGTH
    assert "Copy the application secret now: it will not be shown again." in body
    assert "no-store" in response["Cache-Control"]

    again = text(owner_client.get(keys_url(account)))
    assert app.app_key in again
    assert app.app_secret not in again


@pytest.mark.parametrize(
    ("name", "description", "error"),
    [
        ("", "", "This field is required."),
        ("x" * 61, "", "Ensure this value has at most 60 characters (it has 61)."),
        ("CRM", "d" * 201, "Ensure this value has at most 200 characters (it has 201)."),
    ],
)
def test_an_application_needs_a_short_name(
    owner_client, english, account, name, description, error
):
    response = owner_client.post(
        reverse("api:application_create", args=[account.name]),
        {"name": name, "description": description},
    )

    assert response.status_code == 200
    assert error in text(response)
    assert 'data-testid="created-credentials"' not in text(response)
    assert not ApiApplication.objects.exists()


def test_deleting_an_application_asks_first_then_deletes_its_keys(owner_client, english, account):
    app = make_app(account)
    make_key(app)
    make_key(app)
    url = reverse("api:application_delete", args=[account.name, app.pk])

    confirm = owner_client.get(url)

    assert confirm.status_code == 200
    assert "Delete the application Boutique CRM?" in text(confirm)
    assert "Its 2 consumer keys will be deleted too" in text(confirm)
    assert ApiApplication.objects.filter(pk=app.pk).exists()

    response = owner_client.post(url, follow=True)

    assert response.redirect_chain == [(keys_url(account), 302)]
    assert "The application Boutique CRM and its consumer keys were deleted." in text(response)
    assert not ApiApplication.objects.exists()
    assert not ConsumerKey.objects.exists()


def test_deleting_an_application_without_keys(owner_client, english, account):
    app = make_app(account)

    confirm = owner_client.get(reverse("api:application_delete", args=[account.name, app.pk]))

    assert "It has no consumer key: no script can be using it." in text(confirm)


# --- consumer keys ----------------------------------------------------------------------------


def create_key(client, app, **data):
    return client.post(
        reverse("api:key_create", args=[app.account.name, app.pk]),
        {"access": "full", "validity": "unlimited", **data},
    )


def test_creating_a_consumer_key_shows_it_once_and_stores_only_its_hash(
    owner_client, english, owner, account
):
    app = make_app(account)

    response = create_key(owner_client, app, access="read", validity="30d")

    assert response.status_code == 200
    body = text(response)
    key = shown(body, "created-consumer-key")
    assert len(key) == services.CONSUMER_KEY_LENGTH
    assert "Copy the consumer key now: it will not be shown again." in body
    assert "no-store" in response["Cache-Control"]
    ck = ConsumerKey.objects.get()
    assert ck.application == app
    assert ck.key_hash == key_hash(key)
    assert ck.key_prefix == key[:6]
    assert key not in str(model_to_dict(ck))
    assert (ck.status, ck.validated_by) == (ConsumerKey.Status.VALIDATED, owner)
    assert ck.access_rules == services.READ_ONLY
    assert close_to(ck.expires_at, timezone.now() + timedelta(days=30))

    again = text(owner_client.get(keys_url(account)))
    assert f"{key[:6]}…" in again
    assert key not in again


@pytest.mark.parametrize(
    ("validity", "days"), [("unlimited", None), ("1d", 1), ("30d", 30), ("1y", 365)]
)
def test_the_validity_sets_the_expiry(owner_client, account, validity, days):
    create_key(owner_client, make_app(account), validity=validity)

    expires_at = ConsumerKey.objects.get().expires_at
    if days is None:
        assert expires_at is None
    else:
        assert close_to(expires_at, timezone.now() + timedelta(days=days))


def test_full_access_covers_every_method(owner_client, account):
    create_key(owner_client, make_app(account), access="full")

    assert ConsumerKey.objects.get().access_rules == services.FULL_ACCESS


def test_custom_rules_are_read_one_per_line(owner_client, account):
    rules = "GET /sms/*\r\n\r\n  post   /sms/*/jobs  \r\n"

    create_key(owner_client, make_app(account), access="custom", rules=rules)

    assert ConsumerKey.objects.get().access_rules == [
        {"method": "GET", "path": "/sms/*"},
        {"method": "POST", "path": "/sms/*/jobs"},
    ]


def test_custom_rules_are_ignored_for_the_other_choices(owner_client, account):
    create_key(owner_client, make_app(account), access="read", rules="DELETE /sms/*")

    assert ConsumerKey.objects.get().access_rules == services.READ_ONLY


@pytest.mark.parametrize(
    ("rules", "error"),
    [
        ("FETCH /sms/*", "Line 1 is not a valid rule"),
        ("GET /sms/*\nGET sms", "Line 2 is not a valid rule"),
        ("GET", "Line 1 is not a valid rule"),
        ("GET /sms /jobs", "Line 1 is not a valid rule"),
        ("GET /" + "x" * 200, "Line 1 is not a valid rule"),
        ("  \n", "Write at least one rule."),
    ],
)
def test_bad_custom_rules_are_shown_in_the_form(owner_client, english, account, rules, error):
    app = make_app(account)

    response = create_key(owner_client, app, access="custom", rules=rules)

    assert response.status_code == 200
    body = text(response)
    assert error in body
    assert 'data-testid="created-credentials"' not in body
    assert '<details class="advanced" open>' in body  # the form stays open, with the rules
    typed = re.search(
        rf'<textarea name="rules"[^>]* id="ck{app.pk}_rules"[^>]*>(.*?)</textarea>', body, re.S
    )
    assert typed.group(1).strip() == rules.strip()
    assert not ConsumerKey.objects.exists()


def test_a_key_cannot_be_made_for_an_application_of_another_account(owner_client, account):
    other = make_app(AccountFactory())

    response = create_key(owner_client, other)
    through_own = owner_client.post(
        reverse("api:key_create", args=[account.name, other.pk]),
        {"access": "full", "validity": "unlimited"},
    )

    assert (response.status_code, through_own.status_code) == (404, 404)
    assert not ConsumerKey.objects.exists()


def test_revoking_a_key(owner_client, english, account):
    ck = make_key(make_app(account))

    response = owner_client.post(reverse("api:key_revoke", args=[account.name, ck.pk]), follow=True)

    assert response.redirect_chain == [(keys_url(account), 302)]
    ck.refresh_from_db()
    assert ck.status == ConsumerKey.Status.REVOKED
    body = text(response)
    assert f"The consumer key {ck.key_prefix}… of Boutique CRM was revoked" in body
    assert shown(body, "key-status") == "Revoked"
    assert 'data-testid="key-revoke"' not in body


def test_a_member_can_use_the_page(client, english, account, member):
    client.force_login(member)

    response = client.post(
        reverse("api:application_create", args=[account.name]), {"name": "Script"}
    )

    assert response.status_code == 200
    assert ApiApplication.objects.get().created_by == member


@pytest.mark.parametrize("name", ["application_create", "key_create", "key_revoke"])
def test_actions_refuse_get(owner_client, account, name):
    ck = make_key(make_app(account))
    args = {
        "application_create": [account.name],
        "key_create": [account.name, ck.application_id],
        "key_revoke": [account.name, ck.pk],
    }[name]

    response = owner_client.get(reverse(f"api:{name}", args=args))

    assert response.status_code == 405
    ck.refresh_from_db()
    assert ck.status == ConsumerKey.Status.VALIDATED
    assert ApiApplication.objects.count() == 1


def outsider_urls(service, app, ck):
    return {
        "keys": reverse("api:keys", args=[service]),
        "application_create": reverse("api:application_create", args=[service]),
        "application_delete": reverse("api:application_delete", args=[service, app.pk]),
        "key_create": reverse("api:key_create", args=[service, app.pk]),
        "key_revoke": reverse("api:key_revoke", args=[service, ck.pk]),
    }


def rows():
    return [
        model_to_dict(row) for row in [*ApiApplication.objects.all(), *ConsumerKey.objects.all()]
    ]


FORM_DATA = {"name": "Pwned", "access": "full", "validity": "unlimited"}


def test_an_outsider_gets_404_on_every_page_and_action(client, account, outsider):
    ck = make_key(make_app(account))
    client.force_login(outsider)
    before = rows()

    answers = {
        name: (client.get(url).status_code, client.post(url, FORM_DATA).status_code)
        for name, url in outsider_urls(account.name, ck.application, ck).items()
    }

    assert answers == {name: (404, 404) for name in answers}
    assert rows() == before


def test_an_outsider_cannot_reach_objects_through_their_own_account(client, account, outsider):
    own = outsider.memberships.get().account
    ck = make_key(make_app(account))
    client.force_login(outsider)
    before = rows()
    urls = outsider_urls(own.name, ck.application, ck)
    del urls["keys"], urls["application_create"]  # their own page, no object of `account`

    answers = {name: client.post(url, FORM_DATA).status_code for name, url in urls.items()}
    delete_page = client.get(urls["application_delete"])

    assert answers == {name: 404 for name in answers}
    assert delete_page.status_code == 404
    assert rows() == before


# --- the validation page of POST /1.0/auth/credential -----------------------------------------


@pytest.fixture
def pending(account):
    app = make_app(account, name="Agenda Pro", description="Reminders for the salon")
    ck, _key = services.credential_request(
        application=app,
        access_rules=[
            {"method": "GET", "path": "/sms*"},
            {"method": "POST", "path": "/sms/*/jobs"},
        ],
        redirection="https://agenda.example.com/back?step=2",
    )
    return ck


def validate_url(ck) -> str:
    return reverse("api:validate", args=[ck.validation_token])


def test_the_validation_page_shows_what_is_asked(client, english, account, member, pending):
    client.force_login(member)

    response = client.get(validate_url(pending))

    assert response.status_code == 200
    body = text(response)
    assert "<strong>Agenda Pro</strong>" in body
    assert "Reminders for the salon" in body
    assert shown(body, "validate-account").startswith(account.name)
    assert "GET /sms*" in body
    assert "POST /sms/*/jobs" in body
    assert shown(body, "validate-redirection") == "https://agenda.example.com/back?step=2"
    assert ">Validate</button>" in body
    assert ">Refuse</button>" in body
    assert '<option value="unlimited" selected>Unlimited</option>' in body
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(("validity", "days"), [("1d", 1), ("1y", 365), ("unlimited", None)])
def test_a_member_validates_and_goes_back_to_the_application(
    client, account, member, pending, validity, days
):
    client.force_login(member)

    response = client.post(validate_url(pending), {"decision": "validate", "validity": validity})

    assert response.status_code == 302
    assert response["Location"] == "https://agenda.example.com/back?step=2"
    pending.refresh_from_db()
    assert (pending.status, pending.validated_by) == (ConsumerKey.Status.VALIDATED, member)
    assert pending.validation_token is None
    if days is None:
        assert pending.expires_at is None
    else:
        assert close_to(pending.expires_at, timezone.now() + timedelta(days=days))


@pytest.mark.parametrize("redirection", ["", "javascript:alert(1)", "ftp://files.example.com/"])
def test_without_a_web_redirection_the_panel_says_it_is_done(
    client, english, owner, pending, redirection
):
    ConsumerKey.objects.filter(pk=pending.pk).update(redirection=redirection)
    client.force_login(owner)

    response = client.post(validate_url(pending), {"decision": "validate", "validity": "30d"})

    assert response.status_code == 200
    assert "The application Agenda Pro can now use the account" in text(response)
    pending.refresh_from_db()
    assert pending.status == ConsumerKey.Status.VALIDATED


def test_a_member_refuses(client, english, member, pending):
    client.force_login(member)

    response = client.post(validate_url(pending), {"decision": "refuse", "validity": "1d"})

    assert response.status_code == 200
    assert "The application Agenda Pro will not get access" in text(response)
    pending.refresh_from_db()
    assert (pending.status, pending.validation_token) == (ConsumerKey.Status.REFUSED, None)
    assert pending.expires_at is None


def test_no_decision_changes_nothing(client, member, pending):
    client.force_login(member)

    response = client.post(validate_url(pending), {"validity": "1d"})

    assert response.status_code == 200
    pending.refresh_from_db()
    assert pending.status == ConsumerKey.Status.PENDING


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_non_member_gets_404(client, outsider, pending, method):
    client.force_login(outsider)

    response = getattr(client, method)(
        validate_url(pending), {"decision": "validate", "validity": "unlimited"}
    )

    assert response.status_code == 404
    pending.refresh_from_db()
    assert pending.status == ConsumerKey.Status.PENDING


def test_an_unknown_token_is_404(client, member, pending):
    client.force_login(member)

    response = client.get(reverse("api:validate", args=[pending.validation_token + "x"]))

    assert response.status_code == 404


@pytest.mark.parametrize("decision", ["validate", "refuse"])
def test_a_token_works_once(client, member, pending, decision):
    client.force_login(member)
    url = validate_url(pending)
    client.post(url, {"decision": decision, "validity": "unlimited"})
    pending.refresh_from_db()
    status = pending.status

    again = client.post(url, {"decision": "validate", "validity": "1d"})

    assert (client.get(url).status_code, again.status_code) == (404, 404)
    pending.refresh_from_db()
    assert pending.status == status


def test_a_key_no_longer_pending_is_404_even_with_its_token(client, member, pending):
    """A key revoked from the panel keeps no token; one that kept it must still not be validated."""
    ConsumerKey.objects.filter(pk=pending.pk).update(status=ConsumerKey.Status.REVOKED)
    client.force_login(member)

    assert client.get(validate_url(pending)).status_code == 404


def test_anonymous_visitors_log_in_first_then_come_back(client, pending):
    url = validate_url(pending)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={url}"


# --- admin ------------------------------------------------------------------------------------


def test_the_admin_never_shows_the_secrets(staff_client, account, pending):
    app = pending.application
    ck, key = services.consumer_key_create(
        application=app, user=None, access_rules=services.READ_ONLY, expires_at=None
    )
    pages = [
        reverse("admin:api_apiapplication_changelist"),
        reverse("admin:api_apiapplication_change", args=[app.pk]),
        reverse("admin:api_consumerkey_changelist"),
        reverse("admin:api_consumerkey_change", args=[ck.pk]),
        reverse("admin:api_consumerkey_change", args=[pending.pk]),
    ]

    bodies = {url: staff_client.get(url) for url in pages}

    assert {url: r.status_code for url, r in bodies.items()} == {url: 200 for url in pages}
    secrets = [app.app_secret, ck.key_hash, key, pending.key_hash, pending.validation_token]
    leaks = [(url, s) for url, r in bodies.items() for s in secrets if s in text(r)]
    assert leaks == []
    assert app.app_key in text(bodies[pages[0]])


def test_staff_can_revoke_keys_from_the_admin(staff_client, english, pending):
    response = staff_client.post(
        reverse("admin:api_consumerkey_changelist"),
        {"action": "revoke", "_selected_action": [pending.pk]},
        follow=True,
    )

    assert "1 consumer key was revoked." in text(response)
    pending.refresh_from_db()
    assert (pending.status, pending.validation_token) == (ConsumerKey.Status.REVOKED, None)
