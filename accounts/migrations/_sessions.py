"""What the session-backend migrations (0004, 0005, 0010) share; not a migration itself (the
loader skips modules whose name starts with "_").

Django signs out a session whose `_auth_user_backend` names a class that is not in
AUTHENTICATION_BACKENDS: when that setting changes, sessions naming the old class are pointed
at the new one. Only Django and the historical models are used here, never the app's code,
which may change after these migrations were written."""

from django.contrib.sessions.backends.db import SessionStore

KEY = "_auth_user_backend"  # django.contrib.auth.BACKEND_SESSION_KEY


def rename_backend(apps, schema_editor, before: str, after: str) -> None:
    """Point every session whose backend is `before` at `after` (unreadable ones are left)."""
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


def renaming(before: str, after: str):
    """The forwards and backwards functions of a migration moving sessions from `before` to
    `after`."""

    def forwards(apps, schema_editor):
        rename_backend(apps, schema_editor, before, after)

    def backwards(apps, schema_editor):
        rename_backend(apps, schema_editor, after, before)

    return forwards, backwards
