from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and credits")

    def ready(self):
        from django.conf import settings

        from . import audit  # noqa: F401  (connects the login signals)

        if settings.REDIS_EMBEDDED:
            from smspanel.embedded_redis import ensure_started

            ensure_started(settings.VAR_DIR, settings.REDIS_SOCKET)
