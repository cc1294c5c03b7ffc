"""In a real browser, at 1280 and 390 px: an owner finds a number's data from the settings,
then erases it (the STOP entry stays)."""

import pytest
from playwright.sync_api import expect

from addressbooks.models import AddressBook, Contact
from messaging.models import StopListEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "secret-pass-123"  # the password UserFactory sets


@pytest.mark.parametrize("width", [1280, 390])
def test_find_then_erase_a_number(page, live_server, owner, account, width):
    book = AddressBook.objects.create(account=account, name="Clients", contacts_count=1)
    Contact.objects.create(book=book, name="Alice", surname="Durand", home_mobile="+33612345678")
    StopListEntry.objects.create(account=account, number="+33612345678")
    page.set_viewport_size({"width": width, "height": 900})
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", owner.email)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto(f"{live_server.url}/sms/{account.name}/settings/")
    page.get_by_role("link", name="Personal data of a number (export, erasure)").click()
    page.fill("#id_number", "06 12 34 56 78")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("held")).to_contain_text("Alice Durand (Clients)")
    expect(page.get_by_test_id("held")).to_contain_text("On the STOP list")
    page.screenshot(path=f"var/screenshots/personal-data-{width}.png", full_page=True)
    page.get_by_label("I confirm").check()
    page.get_by_role("button", name="Erase").click()

    expect(page.locator(".alert-success")).to_contain_text("Erased: 1 contacts")
    assert not Contact.objects.exists()
    assert StopListEntry.objects.filter(number="+33612345678").exists()
