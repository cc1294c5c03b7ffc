"""Sessions opened while the project had its own backend (accounts.backends.AccountsBackend, see
0004) name it in `_auth_user_backend`. That class is gone and Django's ModelBackend, the default,
authenticates again: Django signs out a session whose backend is not in
AUTHENTICATION_BACKENDS, so point those sessions back at ModelBackend."""

from django.db import migrations

from ._sessions import renaming

OLD = "accounts.backends.AccountsBackend"
NEW = "django.contrib.auth.backends.ModelBackend"

forwards, backwards = renaming(OLD, NEW)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_sessions_auth_backend"),
        ("sessions", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
