"""Every customer page of an account fits a phone (390 px) and a laptop (1280 px), in French and
in English: the page never scrolls sideways (wide tables scroll inside their box), and the
account navigation is one row on a laptop and one "Menu" button on a phone."""

from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from addressbooks.models import AddressBook, Contact, RecipientList, RecipientListNumber
from messaging.models import (
    IncomingMessage,
    MessageTemplate,
    OutgoingMessage,
    SmsJob,
    StopListEntry,
)
from senders.models import Sender
from tests.senders.factories import SenderFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG = "Boulangerie-Pâtisserie du Marché Saint-Honoré"


@pytest.fixture
def filled_account(account):
    """An account whose pages all have rows, with the long names customers really type."""
    SenderFactory(
        account=account,
        sender="BOULANGERIE",
        status=Sender.Status.REFUSED,
        description="Boulangerie du centre-ville",
        comment="Le nom demandé ne correspond pas au nom commercial de la société : "
        "joignez un extrait Kbis.",
    )
    SenderFactory(account=account, sender="MARCHE", status=Sender.Status.ENABLE)
    book = AddressBook.objects.create(account=account, name=LONG[:50], contacts_count=3)
    for i in range(3):
        Contact.objects.create(
            book=book,
            surname=f"Dupont-Lagarde de La Tour {i}",
            name="Marie-Hélène",
            group=LONG[:50],
            home_mobile=f"+3361234567{i}",
            work_phone="+33140000000",
            work_mobile=f"+3370000000{i}",
        )
    rlist = RecipientList.objects.create(
        account=account, slot=1, description="Clients fidèles du samedi matin", records=2
    )
    RecipientListNumber.objects.bulk_create(
        RecipientListNumber(rlist=rlist, number=n, region="FR")
        for n in ("+33612345678", "+33612345679")
    )
    job = SmsJob.objects.create(
        account=account,
        message="Votre commande de galettes des rois est prête : passez la prendre avant 19 h.",
        encoding="GSM-7",
        segments=1,
        credits=Decimal("1.00"),
        recipients_count=1,
        tag="galettes-janvier",
        status=SmsJob.Status.DONE,
    )
    OutgoingMessage.objects.create(
        job=job, account=account, receiver="+33612345678", country="FR", parts=1,
        credits=Decimal("1.00"), status="delivered",
    )  # fmt: skip
    SmsJob.objects.create(
        account=account,
        message="Rappel : rendez-vous demain à 10 h à la boutique de la rue Saint-Honoré.",
        encoding="GSM-7",
        segments=1,
        credits=Decimal("3.00"),
        recipients_count=3,
        status=SmsJob.Status.SCHEDULED,
        scheduled_at=timezone.now() + timezone.timedelta(days=2),
    )
    IncomingMessage.objects.create(
        account=account,
        sender="+33612345678",
        text="Merci beaucoup, je passerai samedi matin vers onze heures.",
        received_at=timezone.now(),
        ref="layout-1",
    )
    StopListEntry.objects.create(account=account, number="+33612345679")
    MessageTemplate.objects.create(
        account=account, name="Commande prête", text="Bonjour {{ name }}, votre commande est prête."
    )
    return account, book


def pages(account, book):
    base = f"/sms/{account.name}/"
    return {
        "dashboard": base,
        "compose": base + "send/",
        "history": base + "outgoing/",
        "scheduled": base + "scheduled/",
        "received": base + "received/",
        "senders": base + "senders/",
        "books": base + "addressbooks/",
        "book": f"{base}addressbooks/{book.pk}/",
        "import": f"{base}addressbooks/{book.pk}/import/",
        "lists": base + "lists/",
        "list": base + "lists/1/",
        "stoplist": base + "stop-list/",
        "templates": base + "templates/",
        "webhooks": base + "webhooks/",
        "api": base + "api/",
        "settings": base + "settings/",
        "order": base + "credits/order/",
        "campaigns": base + "campaigns/",
        "campaign_new": base + "campaigns/new/",
        "events": base + "events/",
        "personal_data": base + "personal-data/?number=%2B33612345678",
    }


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("width", [1280, 390])
def test_no_page_scrolls_sideways(
    browser, live_server, page, owner, filled_account, language, width
):
    account, book = filled_account
    context = browser.new_context(viewport={"width": width, "height": 844})
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    try:
        tab.goto(live_server.url + "/login/")
        tab.fill("#id_username", owner.email)
        tab.fill("#id_password", "secret-pass-123")
        tab.locator("main button[type=submit]").click()
        expect(tab.locator("#credits-left")).to_be_visible()
        too_wide = {}
        for name, url in pages(account, book).items():
            response = tab.goto(live_server.url + url)
            assert response.status == 200, name
            scroll, inner = tab.evaluate(
                "[document.documentElement.scrollWidth, window.innerWidth]"
            )
            if scroll > inner:
                too_wide[name] = scroll
            nav = tab.get_by_role("navigation", name="Rubriques du compte" if language == "fr"
                                  else "Account sections")  # fmt: skip
            height = nav.bounding_box()["height"]
            # One row of tabs on a laptop; one "Menu" button on a phone (it was 5 rows).
            assert height < 60, (name, height)
        tab.screenshot(path=f"var/screenshots/layout-{language}-{width}.png", full_page=True)
        assert too_wide == {}, f"wider than the {width} px window: {too_wide}"
    finally:
        context.close()


def test_the_phone_menu_opens_and_leads_to_every_section(
    browser, live_server, page, owner, account
):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.add_cookies([{"name": "django_language", "value": "fr", "url": live_server.url}])
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    try:
        tab.goto(live_server.url + "/login/")
        tab.fill("#id_username", owner.email)
        tab.fill("#id_password", "secret-pass-123")
        tab.locator("main button[type=submit]").click()
        tab.goto(f"{live_server.url}/sms/{account.name}/outgoing/")
        nav = tab.get_by_role("navigation", name="Rubriques du compte")
        menu = tab.get_by_test_id("nav-menu-button")
        expect(menu).to_contain_text("Menu · Historique")
        expect(nav.get_by_role("link", name="Liste STOP")).to_be_hidden()
        menu.click()
        expect(nav).to_contain_text("Messages")
        nav.get_by_role("link", name="Liste STOP").click()
        expect(tab).to_have_url(f"{live_server.url}/sms/{account.name}/stop-list/")
        expect(tab.get_by_test_id("nav-menu-button")).to_contain_text("Liste STOP")
        tab.screenshot(path="var/screenshots/phone-menu.png")
    finally:
        context.close()


def test_the_laptop_menus_drop_down_and_close(page, live_server, owner, account):
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", owner.email)
    page.fill("#id_password", "secret-pass-123")
    page.locator("main button[type=submit]").click()
    page.goto(f"{live_server.url}/sms/{account.name}/")
    nav = page.get_by_role("navigation", name="Account sections")
    expect(page.get_by_test_id("nav-menu-button")).to_be_hidden()
    tops = {
        round(box["y"])
        for box in (item.bounding_box() for item in nav.locator(".nav-items > li").all())
    }
    assert len(tops) == 1, "the account navigation wraps"
    expect(nav.get_by_role("link", name="Recipient lists")).to_be_hidden()
    nav.get_by_text("Contacts", exact=True).click()
    expect(nav.get_by_role("link", name="Recipient lists")).to_be_visible()
    page.keyboard.press("Escape")
    expect(nav.get_by_role("link", name="Recipient lists")).to_be_hidden()
    nav.get_by_text("Messages", exact=True).click()
    nav.get_by_role("link", name="Planned sends").click()
    expect(page).to_have_url(f"{live_server.url}/sms/{account.name}/scheduled/")
    # The current group's pages stay one click away under the tabs.
    expect(
        page.get_by_role("navigation", name="Messages").get_by_role("link", name="Received")
    ).to_be_visible()
