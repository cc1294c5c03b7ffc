import pytest
from playwright.sync_api import expect

from addressbooks.models import Contact
from messaging.models import OutgoingMessage, SmsJob

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSV = (
    "surname;name;group;homeMobile;workPhone\n"
    "Martin;Léa;Boulangerie;+33612345671;\n"
    "Roux;Paul;;06 12 34 56 72;+33140000000\n"
    "Bad;Line;;12345;\n"
    '"Dupont; Jr";Éloi;;+33612345673;\n'
)


def test_import_a_file_then_send_to_the_book(page, live_server, owner, account, tmp_path, settings):
    from smspanel.celery import app

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SMS_OPERATOR = {"BACKEND": "tests.messaging.fakes.ScriptedOperator"}
    settings.CONTACT_IMPORT_PROCESSES = 1
    app.conf.task_always_eager = True
    upload = tmp_path / "clients.csv"
    upload.write_text(CSV, encoding="utf-8")
    try:
        page.goto(live_server.url + "/login/")
        page.fill("#id_username", owner.email)
        page.fill("#id_password", "secret-pass-123")
        page.get_by_role("button", name="Se connecter").click()

        nav = page.get_by_role("navigation", name="Rubriques du compte")
        nav.get_by_text("Contacts", exact=True).click()
        nav.get_by_role("link", name="Carnets d'adresses").click()
        page.fill("input[name=name]", "Clients")
        page.get_by_role("button", name="Créer").click()
        page.get_by_role("link", name="Importer un fichier").click()
        page.set_input_files("input[type=file]", str(upload))
        page.get_by_role("button", name="Importer").click()
        expect(page.locator("main")).to_contain_text("3 contacts importés")
        expect(page.locator("#contacts")).to_contain_text("Dupont; Jr")
        expect(page.get_by_test_id("book-count")).to_have_text("3 contacts")
        page.get_by_role("link", name="Voir le rapport").click()
        expect(page.locator("main")).to_contain_text("12345")
        page.screenshot(path="var/screenshots/import-report.png", full_page=True)
        assert Contact.objects.count() == 3

        nav.get_by_text("Messages", exact=True).click()
        nav.get_by_role("link", name="Envoyer un SMS").click()
        page.get_by_label("Clients").check()
        page.locator("#id_message").fill("Joyeuses fêtes !")
        page.check("#id_no_stop_clause")
        expect(page.get_by_test_id("estimate-recipients")).to_have_text("3")
        page.get_by_role("button", name="Envoyer", exact=True).click()
        expect(page.get_by_test_id("valid-receivers")).to_have_text("3")
        job = SmsJob.objects.get()
        assert set(OutgoingMessage.objects.filter(job=job).values_list("receiver", flat=True)) == {
            "+33612345671",
            "+33612345672",
            "+33612345673",
        }
    finally:
        app.conf.task_always_eager = False


def test_the_contacts_table_fills_itself_when_the_import_finishes(
    page, live_server, owner, account, tmp_path, settings, monkeypatch
):
    """The import runs after the page is shown (a worker, here the test itself): the page polls,
    and on completion the table is swapped in without "Refresh the list" being clicked."""
    from addressbooks import services, tasks
    from addressbooks.models import AddressBook, ContactImport

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CONTACT_IMPORT_PROCESSES = 1
    queued = []
    monkeypatch.setattr(tasks.contact_import, "delay", queued.append)
    book = AddressBook.objects.create(account=account, name="Clients")
    upload = tmp_path / "clients.csv"
    upload.write_text(CSV, encoding="utf-8")
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", owner.email)
    page.fill("#id_password", "secret-pass-123")
    page.get_by_role("button", name="Se connecter").click()
    page.goto(f"{live_server.url}/sms/{account.name}/addressbooks/{book.pk}/import/")
    page.set_input_files("input[type=file]", str(upload))
    page.get_by_role("button", name="Importer").click()
    expect(page.get_by_test_id("import-progress")).to_contain_text("en cours")
    expect(page.locator("#contacts")).to_contain_text("Aucun contact")

    services.contact_import_run(queued[0])

    assert ContactImport.objects.get(pk=queued[0]).status == ContactImport.Status.DONE
    expect(page.locator("#contacts")).to_contain_text("Dupont; Jr")
    expect(page.get_by_test_id("contact-row")).to_have_count(3)
    expect(page.get_by_test_id("book-count")).to_have_text("3 contacts")
    assert page.url.endswith(f"/addressbooks/{book.pk}/")  # no reload, no click
