from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AddressbooksConfig(AppConfig):
    name = "addressbooks"
    verbose_name = _("Address books")

    def ready(self):
        from .search import repair_sqlite_index

        post_migrate.connect(repair_sqlite_index, sender=self)
