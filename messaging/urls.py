from django.urls import path

from . import dashboard, replies, views

app_name = "messaging"

urlpatterns = [
    # A virtual number's conversations, at a secret address (the API's chatAccess).
    path("chat/<str:token>/", replies.chat, name="chat"),
    path("sms/<str:service>/", dashboard.dashboard, name="dashboard"),
    path("sms/<str:service>/send/", views.compose, name="compose"),
    path("sms/<str:service>/send/counter/", views.counter, name="counter"),
    path("sms/<str:service>/jobs/<int:job_id>/", views.job_detail, name="job"),
    path("sms/<str:service>/jobs/<int:job_id>/cancel/", views.job_cancel, name="job_cancel"),
    path("sms/<str:service>/scheduled/", views.scheduled, name="scheduled"),
    path("sms/<str:service>/webhooks/", views.webhook_settings, name="webhooks"),
    path("sms/<str:service>/callbacks/", views.webhook_settings_old_address, name="webhooks_old"),
    path("sms/<str:service>/templates/", views.templates, name="templates"),
    path("sms/<str:service>/templates/new/", views.template_edit, name="template_new"),
    path("sms/<str:service>/templates/text/", views.template_text, name="template_text"),
    path(
        "sms/<str:service>/templates/<int:template_id>/", views.template_edit, name="template_edit"
    ),
    path(
        "sms/<str:service>/templates/<int:template_id>/delete/",
        views.template_delete,
        name="template_delete",
    ),
]

from . import history  # noqa: E402

urlpatterns += [
    path("sms/<str:service>/outgoing/", history.history, name="history"),
    path("sms/<str:service>/outgoing/export.csv", history.history_export, name="history_export"),
]

from . import message_pages  # noqa: E402

urlpatterns += [
    path(
        "sms/<str:service>/outgoing/<int:message_id>/",
        message_pages.message_detail,
        name="message",
    ),
    path(
        "sms/<str:service>/outgoing/<int:message_id>/reply/",
        message_pages.message_simulate_reply,
        name="message_reply",
    ),
]

from . import replies  # noqa: E402

urlpatterns += [
    path("sms/<str:service>/received/", replies.received, name="received"),
    path("sms/<str:service>/received/export.csv", replies.received_export, name="received_export"),
    path(
        "sms/<str:service>/received/<int:incoming_id>/delete/",
        replies.received_delete,
        name="received_delete",
    ),
    path("sms/<str:service>/stop-list/", replies.stoplist, name="stoplist"),
    path("sms/<str:service>/stop-list/export.csv", replies.stoplist_export, name="stoplist_export"),
    path(
        "sms/<str:service>/stop-list/<int:entry_id>/remove/",
        replies.stoplist_remove,
        name="stoplist_remove",
    ),
]

from . import campaign_views  # noqa: E402

urlpatterns += [
    path("sms/<str:service>/campaigns/", campaign_views.campaign_list, name="campaigns"),
    path("sms/<str:service>/campaigns/new/", campaign_views.campaign_new, name="campaign_new"),
    path(
        "sms/<str:service>/campaigns/<uuid:campaign_uuid>/",
        campaign_views.campaign_detail,
        name="campaign",
    ),
    path(
        "sms/<str:service>/campaigns/<uuid:campaign_uuid>/export.csv",
        campaign_views.campaign_export,
        name="campaign_export",
    ),
] + [
    path(
        f"sms/<str:service>/campaigns/<uuid:campaign_uuid>/{action}/",
        campaign_views.campaign_action,
        {"action": action},
        name=f"campaign_{action}",
    )
    for action in campaign_views.ACTIONS
]

from . import privacy  # noqa: E402

urlpatterns += [
    path("sms/<str:service>/personal-data/", privacy.personal_data_page, name="personal_data"),
    path(
        "sms/<str:service>/personal-data/export.json",
        privacy.personal_data_export,
        name="personal_data_export",
    ),
]
