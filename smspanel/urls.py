from django.contrib import admin
from django.urls import include, path

from api.routes import api as ovh_api
from messaging import callbacks

urlpatterns = [
    path("admin/", admin.site.urls),
    path("1.0/", ovh_api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("callbacks/delivery-reports/", callbacks.delivery_reports, name="callback_reports"),
    path("callbacks/incoming/", callbacks.incoming, name="callback_incoming"),
    # accounts first: its fixed paths (sms/new/) come before the dashboard's sms/<service>/.
    path("", include("accounts.urls")),
    path("", include("messaging.urls")),
    path("", include("senders.urls")),
    path("", include("addressbooks.urls")),
    path("", include("api.urls")),
]

handler400 = "smspanel.views.bad_request"
handler404 = "smspanel.views.page_not_found"
handler500 = "smspanel.views.server_error"
