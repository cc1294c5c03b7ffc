"""Sessions opened while the project had its own backend (accounts.backends.AccountsBackend, see
0004) name it in `_auth_user_backend`. That class is gone and Django's ModelBackend, the default,
authenticates again: Django signs out a session whose backend is not in
AUTHENTICATION_BACKENDS, so point those sessions back at ModelBackend."""

from django.contrib.sessions.backends.db import SessionStore
from django.db import migrations

OLD = "accounts.backends.AccountsBackend"
NEW = "django.contrib.auth.backends.ModelBackend"
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
        ("accounts", "0004_sessions_auth_backend"),
        ("sessions", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
