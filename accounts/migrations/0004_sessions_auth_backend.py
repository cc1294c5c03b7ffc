"""Sessions opened before AccountsBackend name django's ModelBackend, which is no longer in
AUTHENTICATION_BACKENDS: Django would sign those people out. Point them at AccountsBackend."""

from django.db import migrations

from ._sessions import renaming

OLD = "django.contrib.auth.backends.ModelBackend"
NEW = "accounts.backends.AccountsBackend"

forwards, backwards = renaming(OLD, NEW)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_low_credit_alert"),
        ("sessions", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
