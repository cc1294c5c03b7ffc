"""Every password check now goes through accounts.backends.ThrottledModelBackend (the login
throttle), the only entry of AUTHENTICATION_BACKENDS. Django signs out a session whose backend
is not listed: point the sessions opened through ModelBackend at the new class."""

from django.db import migrations

from ._sessions import renaming

OLD = "django.contrib.auth.backends.ModelBackend"
NEW = "accounts.backends.ThrottledModelBackend"

forwards, backwards = renaming(OLD, NEW)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_security"),
        ("sessions", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
