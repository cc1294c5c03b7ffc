from django.contrib import admin
from django.urls import include, path

from messaging import callbacks

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("callbacks/delivery-reports/", callbacks.delivery_reports, name="callback_reports"),
    path("callbacks/incoming/", callbacks.incoming, name="callback_incoming"),
    path("", include("messaging.urls")),
    path("", include("senders.urls")),
    path("", include("addressbooks.urls")),
    path("", include("accounts.urls")),
]
