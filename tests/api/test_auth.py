from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from api import services
from api.models import ConsumerKey, key_hash, rule_matches

from .conftest import SignedClient, make_key

pytestmark = pytest.mark.django_db


def error(response):
    return response.status_code, response.json().get("errorCode")


class TestRuleMatching:
    @pytest.mark.parametrize(
        "rule_path, path, ok",
        [
            ("/sms", "/sms", True),
            ("/sms", "/sms/x", False),
            ("/sms/*", "/sms/sms-ab-1/jobs", True),
            ("/sms/*", "/sms", False),
            ("/sms*", "/sms", True),
            ("/sms/*/jobs", "/sms/sms-ab-1/jobs", True),
            ("/sms/*/jobs", "/sms/sms-ab-1/jobs/4", False),
            ("/sms/*/jobs/*", "/sms/a/jobs/4", True),
            ("/sms/*/jobs/*", "/sms/a/outgoing/4", False),
            ("/*", "/me", True),
        ],
    )
    def test_star_matches_any_run_of_characters(self, rule_path, path, ok):
        assert rule_matches({"method": "GET", "path": rule_path}, "GET", path) is ok

    def test_the_method_must_match(self):
        assert not rule_matches({"method": "GET", "path": "/sms*"}, "POST", "/sms")


class TestSignedRequests:
    def test_a_signed_request_is_served_and_marks_the_key_used(self, api_client, account):
        response = api_client.get("/sms")
        assert response.status_code == 200
        assert response.json() == [account.name]
        assert ConsumerKey.objects.get(pk=api_client.ck.pk).last_used_at is not None

    def test_only_the_hash_of_the_consumer_key_is_stored(self, api_client):
        ck = ConsumerKey.objects.get(pk=api_client.ck.pk)
        assert ck.key_hash == key_hash(api_client.consumer_key)
        assert api_client.consumer_key not in str(ConsumerKey.objects.values().get(pk=ck.pk))

    def test_no_headers_at_all(self, client):
        response = client.get("/1.0/sms")
        assert error(response) == (403, "INVALID_KEY")
        assert response.json()["message"] == "Invalid application key"

    def test_an_unknown_application_key(self, api_client):
        api_client.app_key = "nope"
        api_client.consumer_key = "unknown-consumer-key"
        assert error(api_client.get("/sms")) == (403, "INVALID_KEY")

    def test_a_wrong_application_key_with_a_real_consumer_key(self, api_client):
        api_client.app_key = "wrong-application-key"
        response = api_client.get("/sms")
        assert error(response) == (403, "INVALID_KEY")
        assert response.json()["message"] == "Invalid application key"

    def test_an_unknown_consumer_key(self, api_client):
        api_client.consumer_key = "x" * 32
        assert error(api_client.get("/sms")) == (403, "INVALID_CREDENTIAL")

    def test_a_missing_consumer_key(self, api_client):
        response = api_client.get("/sms", headers={"X-Ovh-Consumer": ""})
        assert error(response) == (401, "NOT_AUTHENTICATED")

    def test_a_wrong_secret_is_a_bad_signature(self, api_client):
        api_client.secret = "wrong"
        response = api_client.get("/sms")
        assert error(response) == (400, "INVALID_SIGNATURE")
        assert response.json()["message"] == "Invalid signature"

    def test_a_body_changed_after_signing_is_refused(self, api_client, account):
        headers = api_client.headers("POST", f"{api_client.base}/sms/estimate", '{"message":"a"}')
        response = api_client.client.post(
            "/1.0/sms/estimate", data='{"message":"ab"}', content_type="application/json",
            headers=headers,
        )  # fmt: skip
        assert error(response) == (400, "INVALID_SIGNATURE")

    def test_another_applications_key_is_unknown(self, api_client, account, owner):
        other, _secret, _ck, _key = make_key(account, owner)
        api_client.app_key = other.app_key
        assert error(api_client.get("/sms")) == (403, "INVALID_CREDENTIAL")

    @pytest.mark.parametrize("offset, ok", [(-100, True), (100, True), (-200, False), (200, False)])
    def test_the_timestamp_window(self, api_client, settings, offset, ok):
        settings.API_TIME_WINDOW = 120
        api_client.time_offset = offset
        response = api_client.get("/sms")
        assert (response.status_code == 200) is ok
        if not ok:
            assert error(response) == (400, "QUERY_TIME_OUT")

    def test_a_revoked_key(self, api_client):
        services.consumer_key_revoke(api_client.ck)
        assert error(api_client.get("/sms")) == (403, "INVALID_CREDENTIAL")

    def test_a_key_in_use_is_refused_from_the_request_after_its_revocation(
        self, api_client, owner_client, account
    ):
        assert api_client.get("/sms").status_code == 200
        assert api_client.get(f"/sms/{account.name}").status_code == 200

        owner_client.post(reverse("api:key_revoke", args=[account.name, api_client.ck.pk]))

        assert ConsumerKey.objects.get(pk=api_client.ck.pk).status == ConsumerKey.Status.REVOKED
        assert error(api_client.get("/sms")) == (403, "INVALID_CREDENTIAL")
        assert error(api_client.get(f"/sms/{account.name}")) == (403, "INVALID_CREDENTIAL")

    def test_a_key_in_use_is_refused_from_the_request_after_it_expires(self, api_client):
        assert api_client.get("/sms").status_code == 200
        ConsumerKey.objects.filter(pk=api_client.ck.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )

        assert error(api_client.get("/sms")) == (403, "INVALID_CREDENTIAL")

    def test_an_expired_key(self, api_client):
        ConsumerKey.objects.filter(pk=api_client.ck.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        assert error(api_client.get("/sms")) == (403, "INVALID_CREDENTIAL")

    def test_a_key_stops_when_its_holder_leaves_the_account(self, client, account, member):
        from accounts.models import Membership

        app, secret, _ck, key = make_key(account, member)
        signed = SignedClient(client, app.app_key, secret, key)
        assert signed.get("/sms").status_code == 200
        Membership.objects.filter(user=member, account=account).delete()
        assert error(signed.get("/sms")) == (403, "INVALID_CREDENTIAL")

    def test_a_key_stops_when_its_holder_is_deactivated(self, api_client, owner):
        assert api_client.get("/sms").status_code == 200
        owner.is_active = False
        owner.save()
        assert error(api_client.get("/sms")) == (403, "INVALID_CREDENTIAL")

    def test_a_key_waiting_for_validation(self, client, account, owner):
        app, secret = services.application_create(account=account, user=owner, name="x")
        ck, key = services.credential_request(application=app, access_rules=services.READ_ONLY)
        signed = SignedClient(client, app.app_key, secret, key)
        assert error(signed.get("/sms")) == (403, "NOT_CREDENTIAL")

    def test_calls_outside_the_access_rules(self, client, account, owner):
        rules = [{"method": "GET", "path": "/sms/*/jobs"}]
        app, secret, _ck, key = make_key(account, owner, rules=rules)
        signed = SignedClient(client, app.app_key, secret, key)
        assert signed.get(f"/sms/{account.name}/jobs").status_code == 200
        assert error(signed.get(f"/sms/{account.name}")) == (403, "NOT_GRANTED_CALL")
        assert error(signed.post(f"/sms/{account.name}/jobs", {"message": "x"})) == (
            403,
            "NOT_GRANTED_CALL",
        )
        # Its own credential stays readable.
        assert signed.get("/auth/currentCredential").json()["rules"] == rules


class TestRateLimit:
    def test_past_the_limit_the_key_gets_429_with_retry_after(self, api_client, settings):
        settings.API_RATE_LIMIT = 5
        statuses = [api_client.get("/sms").status_code for _ in range(8)]
        assert statuses.count(200) >= 5
        assert 429 in statuses
        limited = api_client.get("/sms")
        if limited.status_code == 429:  # unless a new second began
            assert int(limited["Retry-After"]) >= 1
            assert limited.json()["errorCode"] == "QUERY_RATE_LIMIT"

    def test_the_limit_is_per_key(self, api_client, settings, client, account, owner):
        settings.API_RATE_LIMIT = 3
        for _ in range(4):
            api_client.get("/sms")
        app, secret, _ck, key = make_key(account, owner)
        assert SignedClient(client, app.app_key, secret, key).get("/sms").status_code == 200


class TestTimeAndCredential:
    def test_auth_time_is_the_server_clock(self, client):
        response = client.get("/1.0/auth/time")
        assert abs(response.json() - int(timezone.now().timestamp())) <= 2

    def test_credential_request(self, client, account, owner):
        app, _secret = services.application_create(account=account, user=owner, name="x")
        response = client.post(
            "/1.0/auth/credential",
            {"accessRules": [{"method": "GET", "path": "/sms/*"}],
             "redirection": "https://example.com/ok"},
            content_type="application/json",
            headers={"X-Ovh-Application": app.app_key},
        )  # fmt: skip
        assert response.status_code == 200
        body = response.json()
        assert body["state"] == "pendingValidation"
        ck = ConsumerKey.objects.get(key_hash=key_hash(body["consumerKey"]))
        assert ck.status == ConsumerKey.Status.PENDING
        assert body["validationUrl"] == f"http://testserver/auth/validate/{ck.validation_token}/"
        assert ck.redirection == "https://example.com/ok"

    @pytest.mark.parametrize(
        "payload",
        [
            {"accessRules": []},
            {"accessRules": [{"method": "PATCH", "path": "/sms"}]},
            {"accessRules": [{"method": "GET", "path": "sms"}]},
            {"accessRules": [{"method": "GET", "path": "/sms"}], "redirection": "javascript:x"},
        ],
    )
    def test_bad_credential_requests_get_400(self, client, account, owner, payload):
        app, _secret = services.application_create(account=account, user=owner, name="x")
        response = client.post("/1.0/auth/credential", payload, content_type="application/json",
                               headers={"X-Ovh-Application": app.app_key})  # fmt: skip
        assert response.status_code == 400
        assert response.json()["message"]
        assert not ConsumerKey.objects.exists()

    def test_credential_without_application_key(self, client):
        response = client.post("/1.0/auth/credential", {"accessRules": [{"method": "GET",
                               "path": "/sms"}]}, content_type="application/json")  # fmt: skip
        assert error(response) == (403, "INVALID_KEY")

    def test_unknown_api_urls_answer_json(self, client):
        response = client.get("/1.0/no/such/route")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json()["message"]


class TestOddHeaderValues:
    """Header values come in as Latin-1 text: anything there is a 4xx, never a server error."""

    @pytest.mark.parametrize(
        "value",
        [
            "\u00b2",
            "9" * 5000,
            "\u0661\u0667\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660",
            "-1",
        ],
        ids=["superscript-two", "5000-digits", "arabic-indic-digits", "negative"],
    )
    def test_a_timestamp_that_is_not_ascii_digits(self, api_client, value):
        response = api_client.get("/sms", headers={"X-Ovh-Timestamp": value})
        assert error(response) == (400, "QUERY_TIME_OUT")

    def test_a_non_ascii_signature(self, api_client):
        response = api_client.get("/sms", headers={"X-Ovh-Signature": "$1$\u00b2"})
        assert error(response) == (400, "INVALID_SIGNATURE")

    def test_a_non_ascii_application_key_with_a_real_consumer_key(self, api_client):
        api_client.app_key = "\u00e9" + api_client.app_key[1:]
        assert error(api_client.get("/sms")) == (403, "INVALID_KEY")


class TestCredentialRequestLimits:
    def test_an_application_may_ask_for_a_few_credentials_a_minute(self, client, account, owner):
        from api.ovh import CREDENTIAL_REQUESTS_PER_MINUTE

        app, _secret = services.application_create(account=account, user=owner, name="x")
        body = {"accessRules": [{"method": "GET", "path": "/sms"}]}
        statuses = [
            client.post("/1.0/auth/credential", body, content_type="application/json",
                        headers={"X-Ovh-Application": app.app_key}).status_code
            for _ in range(CREDENTIAL_REQUESTS_PER_MINUTE + 2)
        ]  # fmt: skip
        assert statuses.count(200) <= CREDENTIAL_REQUESTS_PER_MINUTE
        assert statuses[-1] == 429
        assert ConsumerKey.objects.count() == statuses.count(200)

    def test_credentials_nobody_validated_are_purged_after_a_day(self, account, owner):
        app, _secret = services.application_create(account=account, user=owner, name="x")
        old, _key = services.credential_request(application=app, access_rules=services.READ_ONLY)
        fresh, _key = services.credential_request(application=app, access_rules=services.READ_ONLY)
        ConsumerKey.objects.filter(pk=old.pk).update(
            created_at=timezone.now() - timedelta(days=1, seconds=1)
        )
        assert services.pending_credentials_purge() == 1
        assert list(ConsumerKey.objects.values_list("pk", flat=True)) == [fresh.pk]
