"""Sixty wrong passwords at once through a real HTTP server (pytest-django's live_server, a
threaded WSGI server): at most LOGIN_THROTTLE_ATTEMPTS of them are checked, and the owner still
logs in from another address. Then the same through the admin's login."""

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from accounts.models import AuditEvent, User
from tests.accounts.conftest import PASSWORD
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

ATTACKER, OWNER = "198.51.100.7", "203.0.113.5"


@pytest.fixture
def checks(monkeypatch):
    """Count the passwords actually checked (every check goes through User.check_password)."""
    seen = []
    lock = threading.Lock()
    real = User.check_password

    def counting(self, raw_password):
        with lock:
            seen.append(raw_password)
        return real(self, raw_password)

    monkeypatch.setattr(User, "check_password", counting)
    return seen


@pytest.fixture
def behind_proxy(settings):
    # Every request reaches the test server from 127.0.0.1; the proxy header tells them apart.
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"


def browser_session(base: str, path: str = "/login/") -> tuple[requests.Session, str]:
    session = requests.Session()
    page = session.get(base + path)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return session, token


def post_login(session, token, base, email, password, ip, next_url=""):
    return session.post(
        base + "/login/",
        data={
            "csrfmiddlewaretoken": token,
            "username": email,
            "password": password,
            "next": next_url,
        },
        headers={"X-Forwarded-For": ip, "Referer": base + "/login/"},
        allow_redirects=False,
        timeout=60,
    )


def test_sixty_wrong_passwords_at_once_check_at_most_the_limit(
    live_server, behind_proxy, checks, settings
):
    owner = UserFactory()
    base = live_server.url
    session, token = browser_session(base)

    def attempt(i):
        # Each thread its own connection; they share the CSRF cookie and token.
        s = requests.Session()
        s.cookies.update(session.cookies)
        return post_login(s, token, base, owner.email, f"wrong-{i}", ATTACKER).status_code

    with ThreadPoolExecutor(max_workers=60) as pool:
        statuses = list(pool.map(attempt, range(60)))

    assert statuses == [200] * 60  # all refused, none crashed
    wrong_checked = [p for p in checks if p.startswith("wrong-")]
    assert 1 <= len(wrong_checked) <= settings.LOGIN_THROTTLE_ATTEMPTS
    assert AuditEvent.objects.filter(action="login_throttled", subject=owner).count() == 60 - len(
        wrong_checked
    )

    # The right password from the attacker's address is refused unchecked…
    response = post_login(session, token, base, owner.email, PASSWORD, ATTACKER)
    assert response.status_code == 200
    assert PASSWORD not in checks
    # …and the owner, from their own address, logs in.
    response = post_login(session, token, base, owner.email, PASSWORD, OWNER)
    assert response.status_code == 302, response.text[:500]
    assert response.headers["Location"] == "/"
    assert AuditEvent.objects.filter(action="login", subject=owner, ip=OWNER).exists()


def test_the_admin_login_is_throttled_too(live_server, behind_proxy, checks, settings):
    staff = UserFactory(is_staff=True, is_superuser=True)
    base = live_server.url
    # The admin sends staff to the panel's login, with the admin as the next page.
    session = requests.Session()
    response = session.get(base + "/admin/", allow_redirects=True)
    assert response.url.startswith(base + "/login/?next=")
    session, token = browser_session(base, "/login/?next=/admin/")

    for i in range(30):
        post_login(session, token, base, staff.email, f"wrong-{i}", ATTACKER, "/admin/")
    response = post_login(session, token, base, staff.email, PASSWORD, ATTACKER, "/admin/")

    assert response.status_code == 200
    assert len([p for p in checks if p.startswith("wrong-")]) == settings.LOGIN_THROTTLE_ATTEMPTS
    assert PASSWORD not in checks
    # From elsewhere the password is right, and staff without a device must set one up.
    response = post_login(session, token, base, staff.email, PASSWORD, OWNER, "/admin/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/security/?next=%2Fadmin%2F"
    assert session.get(base + "/admin/").url == base + "/security/?next=%2Fadmin%2F"
