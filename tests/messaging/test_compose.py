from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.models import DestinationRate
from tests.accounts.factories import MembershipFactory, UserFactory


def counter_url(account):
    return reverse("messaging:counter", args=[account.name])


def compose_url(account):
    return reverse("messaging:compose", args=[account.name])


@pytest.mark.django_db
class TestComposePage:
    def test_it_shows_the_empty_counter_with_the_stop_clause(self, owner_client, account):
        response = owner_client.get(compose_url(account))
        assert response.status_code == 200
        html = response.content.decode()
        assert 'data-testid="remaining">149<' in html  # 160 - 11 (STOP mention)
        assert 'data-testid="segments">1<' in html
        assert "Caractères restants" in html

    def test_it_counts_on_submit_without_javascript(self, owner_client, account):
        response = owner_client.post(compose_url(account), {"message": "a" * 150, "receivers": ""})
        assert response.status_code == 200
        # 150 + 11 = 161 septets: two parts.
        assert 'data-testid="segments">2<' in response.content.decode()

    def test_it_requires_login(self, client, account):
        response = client.get(compose_url(account))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))

    def test_it_checks_ownership(self, client, outsider, account):
        client.force_login(outsider)
        assert client.get(compose_url(account)).status_code == 404
        assert client.post(counter_url(account), {"message": "x"}).status_code == 404

    def test_member_can_use_it(self, client, member, account):
        client.force_login(member)
        assert client.get(compose_url(account)).status_code == 200


@pytest.mark.django_db
class TestCounter:
    def test_it_returns_only_the_partial(self, owner_client, account):
        response = owner_client.post(
            counter_url(account), {"message": "Bonjour"}, HTTP_HX_REQUEST="true"
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert html.strip().startswith('<div id="counter"')
        assert "<html" not in html
        assert 'data-testid="remaining">142<' in html  # 160 - 7 - 11

    def test_it_rejects_get(self, owner_client, account):
        assert owner_client.get(counter_url(account)).status_code == 405

    def test_it_checks_membership_on_each_request(self, client, outsider, account):
        client.force_login(outsider)
        assert client.post(counter_url(account), {"message": "x"}).status_code == 404
        user = UserFactory()
        membership = MembershipFactory(user=user, account=account, role="member")
        client.force_login(user)
        assert client.post(counter_url(account), {"message": "x"}).status_code == 200
        membership.delete()
        assert client.post(counter_url(account), {"message": "x"}).status_code == 404

    def test_it_requires_login(self, client, account):
        response = client.post(counter_url(account), {"message": "x"})
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))

    def test_it_checks_the_csrf_token(self, owner, account):
        client = Client(enforce_csrf_checks=True)
        client.force_login(owner)
        assert client.post(counter_url(account), {"message": "x"}).status_code == 403
        client.get(compose_url(account))  # sets the CSRF cookie, as the page does
        token = client.cookies[settings.CSRF_COOKIE_NAME].value
        response = client.post(counter_url(account), {"message": "x"}, HTTP_X_CSRFTOKEN=token)
        assert response.status_code == 200

    def test_typing_reads_only_the_session_the_user_and_the_membership(
        self, owner_client, account, django_assert_num_queries
    ):
        with django_assert_num_queries(3):
            response = owner_client.post(counter_url(account), {"message": "a" * 1000})
        assert 'data-testid="segments">7<' in response.content.decode()

    def test_no_stop_clause_box_removes_the_eleven_characters(self, owner_client, account):
        html = owner_client.post(
            counter_url(account), {"message": "a" * 150, "no_stop_clause": "on"}
        ).content.decode()
        assert 'data-testid="segments">1<' in html
        assert 'data-testid="remaining">10<' in html

    def test_it_lists_the_characters_forcing_unicode(self, owner_client, account):
        html = owner_client.post(counter_url(account), {"message": "Ça coûte 5 €"}).content.decode()
        assert "Unicode" in html
        assert "<mark" in html and "û" in html
        # Ç is in the GSM alphabet and € is an extension character: neither is listed.
        assert ">Ç<" not in html and ">€<" not in html

    def test_it_offers_smart_replace_with_the_saving(self, owner_client, account):
        message = "C’est prêt — à bientôt " + "x" * 100
        html = owner_client.post(counter_url(account), {"message": message}).content.decode()
        # UCS-2 ("’", "—", "ê", "ô"): 123 + 11 units → 2 parts; "ê" and "ô" stay UCS-2.
        assert 'data-testid="segments">2<' in html
        assert "Remplacer" in html

    def test_smart_replace_returns_the_new_text_out_of_band(self, owner_client, account):
        message = "L’heure — c’est l’heure… " + "x" * 100
        response = owner_client.post(
            counter_url(account),
            {"message": message, "smart_replace": "1"},
            HTTP_HX_REQUEST="true",
        )
        html = response.content.decode()
        assert 'hx-swap-oob="true"' in html
        assert "L&#x27;heure - c&#x27;est l&#x27;heure... " in html
        # Made from this text: the page applies it only if the box still holds it.
        assert f'data-replaced-from="{message}"' in html
        assert "7 bits" in html
        assert 'data-testid="segments">1<' in html

    def test_smart_replace_without_javascript(self, owner_client, account):
        response = owner_client.post(
            compose_url(account), {"message": "Prix « spécial »", "smart_replace": "1"}
        )
        assert "Prix &quot; spécial &quot;" in response.content.decode()

    def test_it_warns_past_eight_sms_and_errors_past_255(self, owner_client, account):
        html = owner_client.post(
            counter_url(account), {"message": "a" * 153 * 9, "no_stop_clause": "on"}
        ).content.decode()
        assert 'data-testid="over-recommended"' in html
        html = owner_client.post(
            counter_url(account), {"message": "a" * (153 * 255 + 1), "no_stop_clause": "on"}
        ).content.decode()
        assert 'data-testid="too-long"' in html
        assert "255" in html

    def test_it_estimates_credits_per_destination_rate(self, owner_client, account):
        DestinationRate.objects.filter(country="BE").update(credits_per_segment=Decimal("1.65"))
        html = owner_client.post(
            counter_url(account),
            {
                # French mobile (national form), Belgian mobile, a duplicate and garbage.
                "receivers": "06 12 34 56 78\n+32470123456\n+33612345678\nhello",
                "message": "a" * 150,  # + STOP = 2 segments
            },
        ).content.decode()
        assert 'data-testid="estimate-recipients">2<' in html
        # (1.00 + 1.65) × 2 segments = 5.30; balance 100 → 94.70
        assert 'data-testid="estimate-credits">5,30<' in html
        assert "94,70" in html
        assert "hello" in html and "pas un numéro de téléphone" in html
        assert "1 numéro en double ignoré" in html

    def test_it_flags_insufficient_credits(self, owner_client, account):
        receivers = "\n".join(f"+336123456{i:02d}" for i in range(60))
        html = owner_client.post(
            counter_url(account), {"receivers": receivers, "message": "a" * 200}
        ).content.decode()
        # 60 recipients × 2 segments = 120 credits > 100.
        assert 'data-testid="estimate-credits">120,00<' in html
        assert "insuffisant" in html

    def test_it_refuses_landlines_and_unserved_destinations(self, owner_client, account):
        DestinationRate.objects.filter(country="US").delete()
        html = owner_client.post(
            counter_url(account),
            {"receivers": "+33140000000\n+12015550123", "message": "x"},
        ).content.decode()
        assert "pas un numéro de mobile" in html
        assert "destination non desservie" in html
        assert 'data-testid="estimate-recipients">0<' in html

    def test_it_uses_few_queries(self, owner_client, account, django_assert_max_num_queries):
        receivers = "\n".join(f"+336123456{i:02d}" for i in range(20))
        with django_assert_max_num_queries(5):
            owner_client.post(counter_url(account), {"receivers": receivers, "message": "x"})


@pytest.mark.django_db
class TestCounterOffersAndNames:
    # "Crème brûlée" and "Noël" make it Unicode: 80 + 11 (STOP) units = 2 parts of 67.
    FRENCH = "Ce soir à la boutique : crème brûlée, bûche de Noël et œufs en neige. Venez !"

    def test_it_names_the_characters_in_the_page_language(self, owner_client, english, account):
        html = owner_client.post(counter_url(account), {"message": "C’est l’été ½"}).content
        assert b'title="right single quotation mark (curly apostrophe) (U+2019)"' in html
        owner_client.cookies["django_language"] = "fr"
        html = owner_client.post(counter_url(account), {"message": "C’est l’été ½ ж"}).content
        html = html.decode()
        assert 'title="guillemet simple droit (apostrophe typographique) (U+2019)"' in html
        assert 'title="fraction un demi (U+00BD)"' in html
        assert 'title="lettre ж (U+0436)"' in html

    def test_it_offers_letters_without_accents_with_a_preview_and_the_saving(
        self, owner_client, account
    ):
        html = owner_client.post(counter_url(account), {"message": self.FRENCH}).content.decode()
        assert 'data-testid="segments">2<' in html and "Unicode (UCS-2)" in html
        assert 'data-testid="accent-offer"' in html
        # The preview shows what changes, marked; é and à are GSM-7 and keep their accents.
        assert (
            "à la boutique : crème br<mark>u</mark>lée, b<mark>u</mark>che de No<mark>e</mark>l"
            " et <mark>oe</mark>ufs en neige." in html
        )
        assert "Il économise 1 SMS (1 au lieu de 2)." in html
        # Nothing is applied without asking: the counter still counts the accented text.
        assert "oeufs" not in html.replace("<mark>oe</mark>ufs", "")

    def test_removing_the_accents_is_explicit_and_returns_the_text(self, owner_client, account):
        response = owner_client.post(
            counter_url(account),
            {"message": self.FRENCH, "strip_accents": "1"},
            HTTP_HX_REQUEST="true",
        )
        html = response.content.decode()
        assert 'hx-swap-oob="true"' in html
        assert "crème brulée, buche de Noel et oeufs en neige" in html
        assert "7 bits" in html and 'data-testid="segments">1<' in html
        assert 'data-testid="accent-offer"' not in html

    def test_no_accent_offer_when_it_would_not_leave_unicode(self, owner_client, account):
        html = owner_client.post(counter_url(account), {"message": "Noël 🎄"}).content.decode()
        assert "Unicode (UCS-2)" in html
        assert 'data-testid="accent-offer"' not in html

    def test_the_template_editor_offers_nothing(self, owner_client, account):
        html = owner_client.post(
            counter_url(account), {"text": self.FRENCH, "no_replace": "1"}
        ).content.decode()
        assert 'data-testid="accent-offer"' not in html

    def test_personalised_text_is_counted_on_the_longest_recipient(self, owner_client, account):
        from tests.addressbooks.factories import BookFactory, ContactFactory

        book = BookFactory(account=account)
        ContactFactory(book=book, name="Jo")
        ContactFactory(book=book, name="Marie-Antoinette-Joséphine" * 3)
        message = "Bonjour {{ name }}, " + "a" * 100
        html = owner_client.post(
            counter_url(account), {"message": message, "books": [book.pk], "no_stop_clause": "on"}
        ).content.decode()
        # As typed, 121 characters (1 SMS); with the longest name, 188 (2 SMS), as billed.
        assert 'data-testid="segments">2<' in html
        assert 'data-testid="remaining">118<' in html  # 2 x 153 - 188
        assert "le plus long texte personnalisé (188 caractères)" in html
        assert "<dd>2</dd>" in html  # the estimate's SMS per message agrees

    def test_personalised_text_without_recipients_says_how_it_is_counted(
        self, owner_client, account
    ):
        html = owner_client.post(
            counter_url(account), {"message": "Bonjour {{ name }}", "no_stop_clause": "on"}
        ).content.decode()
        assert 'data-testid="personalised-count"' in html
        assert 'data-testid="segments">1<' in html
