import re
from decimal import Decimal

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.models import CreditMovement, SmsAccount, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_newcomer_signs_up_logs_in_sees_the_dashboard_and_switches_language(
    page, live_server, settings
):
    settings.SIGNUP_FREE_CREDITS = Decimal("5")
    page.goto(live_server.url + "/")
    # Anonymous: sent to the login page, in French whatever the browser's language.
    expect(page.locator("h1")).to_have_text("Connectez-vous à votre espace client")
    page.get_by_role("link", name="Créer un compte").first.click()

    page.fill("#id_email", "Claire.Dubois@Example.com")
    page.fill("#id_first_name", "Claire")
    page.fill("#id_last_name", "Dubois")
    page.fill("#id_company", "Fleurs Dubois")
    page.fill("#id_password1", "un-jardin-en-mai-42")
    page.fill("#id_password2", "un-jardin-en-mai-42")
    page.get_by_role("button", name="Créer mon compte").click()

    account = SmsAccount.objects.get(memberships__user__email="claire.dubois@example.com")
    expect(page).to_have_url(f"{live_server.url}/sms/{account.name}/")
    expect(page.locator("h1")).to_contain_text(account.name)
    # The welcome credits wait for the e-mail address to be confirmed.
    expect(page.locator("#credits-left")).to_have_text("0,00")
    expect(page.get_by_test_id("verify-banner")).to_be_visible()
    page.screenshot(path="var/screenshots/verify-banner.png", full_page=True)
    link = re.search(r"https?://\S+/verify/\S+/", mail.outbox[0].body).group(0)
    page.goto(link)
    expect(page.get_by_test_id("verify-banner")).to_have_count(0)
    expect(page.locator("#credits-left")).to_have_text("5,00")
    expect(page.get_by_role("link", name="Tableau de bord")).to_be_visible()
    expect(page.locator("table")).to_contain_text("Crédits de bienvenue")
    page.screenshot(path="var/screenshots/dashboard-fr.png", full_page=True)

    # Log out, then log in again with the e-mail address.
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.locator("h1")).to_have_text("Connectez-vous à votre espace client")
    page.fill("#id_username", "claire.dubois@example.com")
    page.fill("#id_password", "un-jardin-en-mai-42")
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(f"{live_server.url}/sms/{account.name}/")

    # Switch to English and back.
    page.get_by_role("button", name="EN").click()
    expect(page.get_by_role("link", name="Dashboard")).to_be_visible()
    expect(page.locator(".credits-badge span")).to_have_text("Credits left")
    page.screenshot(path="var/screenshots/dashboard-en.png", full_page=True)
    page.get_by_role("button", name="FR").click()
    expect(page.get_by_role("link", name="Tableau de bord")).to_be_visible()

    user = User.objects.get(email="claire.dubois@example.com")
    assert user.company == "Fleurs Dubois"
    assert CreditMovement.objects.get(account=account).kind == CreditMovement.Kind.SIGNUP


def test_the_counter_follows_typing_with_euro_and_emoji(page, live_server, owner, account):
    page.context.add_cookies([{"name": "django_language", "value": "fr", "url": live_server.url}])
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", owner.email)
    page.fill("#id_password", "secret-pass-123")
    page.get_by_role("button", name="Se connecter").click()
    page.goto(f"{live_server.url}/sms/{account.name}/send/")
    counter_posts = []
    page.on(
        "request",
        lambda r: "/send/counter/" in r.url and counter_posts.append(r.post_data_json or {}),
    )

    segments = page.get_by_test_id("segments")
    encoding = page.get_by_test_id("encoding")
    remaining = page.get_by_test_id("remaining")
    # Empty message with the STOP mention: 11 septets used.
    expect(remaining).to_have_text("149")

    page.locator("#id_message").press_sequentially("Prix : 10€")
    # "Prix : 10" = 9 septets, € = 2, STOP = 11: 22 of 160.
    expect(remaining).to_have_text("138")
    expect(encoding).to_contain_text("7 bits")
    expect(segments).to_have_text("1")

    page.locator("#id_message").press_sequentially(" 😀")
    # Now UCS-2: 9 + 1 (€) + 1 (space) + 2 (surrogate pair) + 11 = 24 of 70.
    expect(encoding).to_contain_text("Unicode")
    expect(remaining).to_have_text("46")
    expect(page.get_by_test_id("non-gsm")).to_contain_text("😀")

    page.locator("#id_message").press_sequentially(" " + "a" * 50)
    # 24 + 51 = 75 units > 70: two parts of at most 67.
    expect(segments).to_have_text("2")

    # Ticking the non-commercial box removes the STOP mention: 64 units, one SMS.
    page.get_by_label("Je certifie sur l'honneur").check()
    expect(segments).to_have_text("1")
    expect(remaining).to_have_text("6")
    page.screenshot(path="var/screenshots/counter.png", full_page=True)
    # Each keystroke pause posted the whole form (hx-include), the message with it.
    assert counter_posts and all("message" in p for p in counter_posts)


def test_smart_replace_button_replaces_typographic_characters(page, live_server, owner, account):
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", owner.email)
    page.fill("#id_password", "secret-pass-123")
    page.get_by_role("button", name="Se connecter").click()
    page.goto(f"{live_server.url}/sms/{account.name}/send/")
    text = "L’atelier ouvre à 9h — venez nombreux… " + "x" * 40
    page.locator("#id_message").fill(text)
    page.locator("#id_message").dispatch_event("input")
    expect(page.get_by_test_id("encoding")).to_contain_text("Unicode")
    expect(page.get_by_test_id("segments")).to_have_text("2")
    # Both typing events' counter requests answered: a late one cannot undo the replacement.
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Remplacer").click()
    expect(page.get_by_test_id("encoding")).to_contain_text("7 bits")
    expect(page.get_by_test_id("segments")).to_have_text("1")
    expect(page.locator("#id_message")).to_have_value(
        "L'atelier ouvre à 9h - venez nombreux... " + "x" * 40
    )
def test_a_replacement_answered_after_more_typing_does_not_erase_it(
    page, live_server, owner, account
):
    """The Replace answer is held back while keys are typed (their own count not sent yet):
    when it lands, it must not put the old text, replaced, over what was typed."""
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", owner.email)
    page.fill("#id_password", "secret-pass-123")
    page.get_by_role("button", name="Se connecter").click()
    page.goto(f"{live_server.url}/sms/{account.name}/send/")
    text = "L’atelier ouvre à 9h — venez nombreux…"
    page.locator("#id_message").fill(text)
    page.locator("#id_message").dispatch_event("input")
    expect(page.get_by_test_id("encoding")).to_contain_text("Unicode")
    page.wait_for_load_state("networkidle")
    held = []

    def hold_replacements(route):
        if "smart_replace" in (route.request.post_data or ""):
            held.append(route)
        else:
            route.continue_()

    page.route("**/send/counter/", hold_replacements)
    page.get_by_role("button", name="Remplacer").click()
    for _ in range(200):  # until the request is intercepted
        if held:
            break
        page.wait_for_timeout(25)
    # Keys typed meanwhile: in the box, their count not sent yet (no input event so far).
    page.evaluate("document.querySelector('#id_message').value += ' Merci d’avance'")
    held[0].fulfill(response=held[0].fetch())

    expect(page.locator("#id_message")).to_have_value(text + " Merci d’avance")
    # Counted again from what the box holds: still Unicode.
    expect(page.get_by_test_id("encoding")).to_contain_text("Unicode")


