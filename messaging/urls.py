from django.urls import path

from . import views

app_name = "messaging"

urlpatterns = [
    path("sms/<str:service>/send/", views.compose, name="compose"),
    path("sms/<str:service>/send/counter/", views.counter, name="counter"),
    path("sms/<str:service>/jobs/<int:job_id>/", views.job_detail, name="job"),
    path("sms/<str:service>/jobs/<int:job_id>/cancel/", views.job_cancel, name="job_cancel"),
    path("sms/<str:service>/scheduled/", views.scheduled, name="scheduled"),
]

from . import history  # noqa: E402

urlpatterns += [
    path("sms/<str:service>/outgoing/", history.history, name="history"),
    path("sms/<str:service>/outgoing/export.csv", history.history_export, name="history_export"),
]
