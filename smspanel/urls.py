from django.contrib import admin
from django.urls import include, path

from api.routes import api as ovh_api
from messaging import callbacks, shortlinks

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
    # Tracked short links of campaigns, where SHORT_LINK_BASE's path says (last: with no path
    # they answer at the root).
    path(f"{shortlinks.url_prefix()}<str:code>", shortlinks.follow, name="short_link"),
]

handler400 = "smspanel.views.bad_request"
handler404 = "smspanel.views.page_not_found"
handler500 = "smspanel.views.server_error"
