from django.urls import path

from . import http2sms, views

app_name = "api"

urlpatterns = [
    path("sms/<str:service>/api/", views.key_list, name="keys"),
    path(
        "sms/<str:service>/api/applications/create/",
        views.application_create,
        name="application_create",
    ),
    path(
        "sms/<str:service>/api/applications/<int:application_id>/delete/",
        views.application_delete,
        name="application_delete",
    ),
    path(
        "sms/<str:service>/api/applications/<int:application_id>/keys/create/",
        views.key_create,
        name="key_create",
    ),
    path("sms/<str:service>/api/keys/<int:key_id>/revoke/", views.key_revoke, name="key_revoke"),
    # The validationUrl of POST /1.0/auth/credential: the token names the key, hence the account.
    path("auth/validate/<str:token>/", views.credential_validate, name="validate"),
    # OVHcloud's HTTP sending interface, at the address its scripts call.
    path("cgi-bin/sms/http2sms.cgi", http2sms.http2sms, name="http2sms"),
]
