"""Every URL that names an SMS account (or another object) answers 404 to anyone outside it.

The sweep walks the project's whole URL configuration, so a new page is covered the day it is
added, without a test of its own.
"""

import uuid
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.forms.models import model_to_dict
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter, PathConverter, SlugConverter, UUIDConverter
from django.urls.resolvers import RoutePattern

from accounts.models import CreditMovement, SmsAccount
from tests.addressbooks.factories import (
    make_book,
    make_contact,
    make_import,
    make_recipient_list,
)
from tests.senders.factories import make_sender

pytestmark = pytest.mark.django_db

# Namespaces that are not customer pages: the admin checks staff status before anything else
# (see test_admin.py and test_a_customer_is_sent_to_the_admin_login below).
STAFF_NAMESPACES = {"admin"}
# The OVH-compatible API authenticates by signed keys, not sessions: its own isolation tests
# (tests/api/test_routes.py TestIsolation) send a key to every other account's objects.
SIGNED_API_NAMESPACES = {"ovhapi"}
# URL kwargs that carry no object of the panel: the signed password-reset link, the token of
# an API credential's validation page (checked in tests/api/test_panel.py).
# The code of a campaign's tracked short link: a public redirect by design, for whoever got the
# SMS (tests/messaging/test_shortlinks.py).
NOT_OBJECT_KWARGS = {"uidb64", "token", "code"}
MIN_SERVICE_PATTERNS = 5


@dataclass
class Route:
    name: str | None  # full namespaced name, for reverse()
    namespace: str
    route: str  # the joined route, for messages
    kwargs: dict  # kwarg name -> converter (or None for a regex group)


def _converters(pattern) -> dict:
    if isinstance(pattern, RoutePattern):
        return dict(pattern.converters)
    return {name: None for name in pattern.regex.groupindex}  # RegexPattern: named groups


def walk(resolver=None, namespace="", prefix="", inherited=None):
    """Yield every URLPattern of the project with its namespaced name and all its kwargs."""
    resolver = resolver or get_resolver()
    inherited = inherited or {}
    for entry in resolver.url_patterns:
        kwargs = {**inherited, **_converters(entry.pattern)}
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from walk(entry, ns, route, kwargs)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield Route(name=name, namespace=namespace, route=route, kwargs=kwargs)


def customer_routes():
    excluded = STAFF_NAMESPACES | SIGNED_API_NAMESPACES
    return [r for r in walk() if r.namespace.split(":")[0] not in excluded]


def service_routes():
    return [r for r in customer_routes() if "service" in r.kwargs]


def placeholder(converter, number=999999):
    """A value the converter accepts, naming no existing object."""
    if isinstance(converter, IntConverter):
        return number
    if isinstance(converter, UUIDConverter):
        return uuid.UUID(int=number)
    if isinstance(converter, SlugConverter | PathConverter):
        return f"x{number}"
    return str(number)


# --- objects named in URLs next to `service` --------------------------------------------------
# One maker per URL kwarg: it creates an object of that kind belonging to `account`. A new
# kwarg without a maker fails test_every_object_kwarg_has_a_maker, so it cannot slip by.


def make_job(account):
    from messaging.models import SmsJob

    return SmsJob.objects.create(
        account=account,
        message="Rappel : rendez-vous demain",
        encoding="GSM7",
        segments=1,
        credits=Decimal("3.00"),
        recipients_count=3,
        status=SmsJob.Status.SCHEDULED,
    )


def make_message(account):
    from messaging.models import OutgoingMessage

    job = make_job(account)
    return OutgoingMessage.objects.create(
        job=job,
        account=account,
        receiver="+33612345670",
        country="FR",
        parts=1,
        credits=Decimal("1.00"),
        status=OutgoingMessage.Status.SUBMITTED,
        operator_id=f"sweep-{account.pk}",
    )


def make_incoming(account):
    from django.utils import timezone

    from messaging.models import IncomingMessage

    return IncomingMessage.objects.create(
        account=account,
        sender="+33612345678",
        text="Merci",
        received_at=timezone.now(),
        ref=f"sweep-{account.pk}",
    )


def make_stop_entry(account):
    from messaging.models import StopListEntry

    return StopListEntry.objects.create(account=account, number="+33612345679")


def make_template(account):
    from messaging.models import MessageTemplate

    return MessageTemplate.objects.create(account=account, name="T", text="x")


def make_application(account):
    from api import services

    app, _secret = services.application_create(account=account, user=None, name="Sweep")
    return app


def make_consumer_key(account):
    from api import services

    ck, _key = services.consumer_key_create(
        application=make_application(account),
        user=None,
        access_rules=services.FULL_ACCESS,
        expires_at=None,
    )
    return ck


def make_campaign(account):
    from django.utils import timezone

    from messaging.models import Campaign

    return Campaign.objects.create(
        account=account, name="Sweep", status=Campaign.Status.SENDING, start_at=timezone.now()
    )


OBJECT_MAKERS = {
    "campaign_uuid": make_campaign,
    "book_id": make_book,
    "slot": make_recipient_list,
    "contact_id": make_contact,
    "import_id": make_import,
    "template_id": make_template,
    "job_id": make_job,
    "message_id": make_message,
    "sender_id": make_sender,
    "incoming_id": make_incoming,
    "entry_id": make_stop_entry,
    "application_id": make_application,
    "key_id": make_consumer_key,
}


def object_kwargs(route):
    return [key for key in route.kwargs if key != "service"]


def make_objects(routes, account) -> dict:
    """{kwarg: object of `account`} for every object kwarg the routes use (and has a maker)."""
    keys = {key for route in routes for key in object_kwargs(route)}
    return {key: OBJECT_MAKERS[key](account) for key in keys if key in OBJECT_MAKERS}


def url_for(route: Route, service: str, objects: dict | None = None) -> str:
    assert route.name, f"{route.route} has no name: it cannot be reversed (name it)"
    objects = objects or {}
    kwargs = {}
    for key, converter in route.kwargs.items():
        if key == "service":
            kwargs[key] = service
        elif key in objects:
            kwargs[key] = {"slot": "slot", "campaign_uuid": "uuid"}.get(key, "pk")
            kwargs[key] = getattr(objects[key], kwargs[key])
        else:
            kwargs[key] = placeholder(converter)
    return reverse(route.name, kwargs=kwargs)


# Plausible form data for every page, so that a missing check would act on it.
def post_data(target):
    return {
        "description": "Pwned",
        "default_region": "DE",
        "target": target.pk,
        "amount": "50",
        "message": "Bonjour",
        "receivers": "+33601020304",
        "kind": "order",
        "reason": "Pwned",
        "name": "Pwned",
        "access": "full",
        "validity": "unlimited",
    }


def snapshot(account, objects=()):
    state = {
        "account": SmsAccount.objects.values(
            "description", "default_region", "status", "credits"
        ).get(pk=account.pk),
        "movements": CreditMovement.objects.filter(account=account).count(),
    }
    for key, obj in dict(objects).items():
        state[key] = model_to_dict(type(obj).objects.get(pk=obj.pk))
    return state


def request(client, method, url, data):
    return client.get(url) if method == "get" else client.post(url, data)


# --- the sweep finds what it must -------------------------------------------------------------


def test_the_sweep_finds_the_account_pages():
    names = {r.name for r in service_routes()}

    assert len(names) >= MIN_SERVICE_PATTERNS, names
    assert {
        "messaging:dashboard",
        "accounts:ledger",
        "accounts:transfer",
        "accounts:settings",
        "messaging:compose",
    } <= names


def test_every_object_url_is_scoped_by_service():
    """A customer URL taking an object id without the account name would escape this sweep."""
    unscoped = [
        r.route
        for r in customer_routes()
        if "service" not in r.kwargs and set(r.kwargs) - NOT_OBJECT_KWARGS
    ]

    assert unscoped == [], (
        "These URLs take an object id outside /sms/<service>/: scope them by account "
        "(account_view) or give them an ownership test and list their kwargs here."
    )


def test_every_object_kwarg_has_a_maker():
    missing = {
        f"{route.route} ({key})"
        for route in service_routes()
        for key in object_kwargs(route)
        if key not in OBJECT_MAKERS
    }

    assert missing == set(), "add an OBJECT_MAKERS entry for these URL kwargs"


# --- outsiders --------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_outsider_gets_404_everywhere(client, account, outsider, method):
    own = SmsAccount.objects.get(memberships__user=outsider)
    routes = service_routes()
    assert len(routes) >= MIN_SERVICE_PATTERNS
    objects = make_objects(routes, account)
    client.force_login(outsider)
    before = snapshot(account, objects)

    answers = {}
    for route in routes:
        url = url_for(route, account.name, objects)
        answers[url] = request(client, method, url, post_data(own)).status_code

    assert answers == {url: 404 for url in answers}
    assert snapshot(account, objects) == before
    assert SmsAccount.objects.get(pk=own.pk).credits == Decimal("0.00")


def expected_for_object(method, code):
    """404; a GET on a POST-only page may be refused first (405), whatever the object: that
    tells nothing about it, and the POST run of the same test does the lookup."""
    return 405 if method == "get" and code == 405 else 404


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_outsider_cannot_reach_objects_through_their_own_account(
    client, account, outsider, method
):
    """/sms/<my account>/jobs/<a job of someone else>/ must not find the job."""
    own = SmsAccount.objects.get(memberships__user=outsider)
    routes = [r for r in service_routes() if object_kwargs(r)]
    if not routes:
        pytest.skip("no URL names an object next to the account yet")
    objects = make_objects(routes, account)
    client.force_login(outsider)
    before = snapshot(account, objects)

    answers = {}
    for route in routes:
        url = url_for(route, own.name, objects)
        answers[url] = request(client, method, url, post_data(own)).status_code

    assert answers == {url: expected_for_object(method, code) for url, code in answers.items()}
    assert snapshot(account, objects) == before


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_unknown_service_is_404_for_the_owner(owner_client, account, method):
    routes = service_routes()
    assert len(routes) >= MIN_SERVICE_PATTERNS
    objects = make_objects(routes, account)

    answers = {}
    for route in routes:
        url = url_for(route, "sms-zz99999-1", objects)
        answers[url] = request(owner_client, method, url, {}).status_code

    assert answers == {url: 404 for url in answers}


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_unknown_object_is_404_for_the_owner(owner_client, account, method):
    routes = [r for r in service_routes() if object_kwargs(r)]
    if not routes:
        pytest.skip("no URL names an object next to the account yet")

    answers = {}
    for route in routes:
        url = url_for(route, account.name)  # placeholders name no object
        answers[url] = request(owner_client, method, url, {}).status_code

    assert answers == {url: expected_for_object(method, code) for url, code in answers.items()}


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_visitors_are_sent_to_login(client, account, method):
    routes = service_routes()
    objects = make_objects(routes, account)
    before = snapshot(account, objects)

    answers = {}
    for route in routes:
        url = url_for(route, account.name, objects)
        response = request(client, method, url, post_data(account))
        answers[url] = (response.status_code, response.get("Location", "").split("?")[0])

    assert answers == {url: (302, "/login/") for url in answers}
    assert snapshot(account, objects) == before


# --- the 404s are about membership, not broken pages ------------------------------------------


@pytest.mark.parametrize("role", ["owner", "member"])
def test_members_reach_every_account_page(client, account, owner, member, role):
    routes = service_routes()
    objects = make_objects(routes, account)
    client.force_login(owner if role == "owner" else member)

    answers = {}
    for route in routes:
        url = url_for(route, account.name, objects)
        answers[url] = client.get(url).status_code

    # 405: a POST-only endpoint (the HTMX counter, cancel buttons); 301: an old address that
    # leads to its page; anything but 404 / 5xx.
    assert all(
        code in {200, 405} or (code == 301 and url.endswith("/callbacks/"))
        for url, code in answers.items()
    ), answers
    assert list(answers.values()).count(200) >= MIN_SERVICE_PATTERNS - 1


# --- the admin is for staff only --------------------------------------------------------------


def admin_placeholder(key, converter, account):
    if key == "app_label":
        return "accounts"
    if key in {"object_id", "pk", "id"}:
        return str(account.pk)
    if key == "content_type_id":
        return "1"
    return placeholder(converter, number=1)


def test_a_customer_is_sent_to_the_admin_login(owner_client, account):
    routes = [r for r in walk() if r.namespace == "admin" and r.name]
    assert len(routes) > 20

    answers = {}
    for route in routes:
        if route.name in {"admin:login", "admin:logout", "admin:jsi18n"}:
            continue
        kwargs = {k: admin_placeholder(k, c, account) for k, c in route.kwargs.items()}
        url = reverse(route.name, kwargs=kwargs)
        response = owner_client.get(url)
        answers[url] = (response.status_code, response.get("Location", "").split("?")[0])

    bad = {
        url: answer
        for url, answer in answers.items()
        if answer[0] == 200 or (answer[0] == 302 and answer[1] != "/admin/login/")
    }
    assert bad == {}
    assert answers[f"/admin/accounts/smsaccount/{account.pk}/credit/"] == (302, "/admin/login/")
