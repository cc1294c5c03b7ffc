from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    # Django's documented way to replace the default admin site (admin.site).
    default_site = "accounts.admin_site.AdminSite"
