import pytest
from django.urls import reverse

from messaging.models import MessageTemplate

pytestmark = pytest.mark.django_db


def test_create_edit_and_delete_a_template(owner_client, account):
    new = reverse("messaging:template_new", args=[account.name])
    response = owner_client.post(new, {"name": "Rappel", "text": "Rappel : RDV demain 10h."})
    assert response.status_code == 302
    template = MessageTemplate.objects.get(account=account)
    assert template.text == "Rappel : RDV demain 10h."

    response = owner_client.post(new, {"name": "rappel", "text": "x"})  # same name
    assert 'class="field-errors"' in response.content.decode()
    assert MessageTemplate.objects.count() == 1

    edit = reverse("messaging:template_edit", args=[account.name, template.pk])
    html = owner_client.get(edit).content.decode()
    assert 'data-testid="segments">1<' in html
    assert 'data-testid="remaining">136<' in html  # 160 - 24, no STOP mention
    owner_client.post(edit, {"name": "Rappel", "text": "Rappel : RDV jeudi."})
    template.refresh_from_db()
    assert template.text == "Rappel : RDV jeudi."

    owner_client.post(reverse("messaging:template_delete", args=[account.name, template.pk]))
    assert not MessageTemplate.objects.exists()


def test_the_send_form_offers_the_templates(owner_client, account):
    template = MessageTemplate.objects.create(account=account, name="Promo", text="Soldes -20%")
    compose = reverse("messaging:compose", args=[account.name])
    assert "Promo" in owner_client.get(compose).content.decode()

    # With HTMX: the message box comes back filled and recounts itself on load.
    url = reverse("messaging:template_text", args=[account.name])
    html = owner_client.get(url, {"template": template.pk}, HTTP_HX_REQUEST="true").content
    assert b"Soldes -20%</textarea>" in html and b"load" in html

    # Without JavaScript: the "use" button fills the message.
    html = owner_client.post(compose, {"template": template.pk, "use_template": "1"}).content
    assert b"Soldes -20%</textarea>" in html


def test_templates_of_another_account_are_404(client, outsider, account):
    template = MessageTemplate.objects.create(account=account, name="Promo", text="x")
    client.force_login(outsider)
    assert client.get(reverse("messaging:templates", args=[account.name])).status_code == 404
    own = outsider.sms_accounts.get()
    url = reverse("messaging:template_text", args=[own.name])
    assert client.get(url, {"template": template.pk}).status_code == 404
