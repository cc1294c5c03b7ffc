"""Every password check now goes through accounts.backends.ThrottledModelBackend (the login
throttle), the only entry of AUTHENTICATION_BACKENDS. Django signs out a session whose backend
is not listed: point the sessions opened through ModelBackend at the new class."""

from django.contrib.sessions.backends.db import SessionStore
from django.db import migrations

OLD = "django.contrib.auth.backends.ModelBackend"
NEW = "accounts.backends.ThrottledModelBackend"
KEY = "_auth_user_backend"  # django.contrib.auth.BACKEND_SESSION_KEY


def _rename(apps, schema_editor, before: str, after: str) -> None:
    Session = apps.get_model("sessions", "Session")
    sessions = Session.objects.using(schema_editor.connection.alias)
    store = SessionStore()
    changed = []
    for session in sessions.iterator():
        data = store.decode(session.session_data)  # {} when it cannot be read
        if data.get(KEY) == before:
            data[KEY] = after
            session.session_data = store.encode(data)
            changed.append(session)
    sessions.bulk_update(changed, ["session_data"], batch_size=500)


def forwards(apps, schema_editor):
    _rename(apps, schema_editor, OLD, NEW)


def backwards(apps, schema_editor):
    _rename(apps, schema_editor, NEW, OLD)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_security"),
        ("sessions", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
