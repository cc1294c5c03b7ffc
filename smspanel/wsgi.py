import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smspanel.settings")
django_application = get_wsgi_application()

# Tracked short links are answered in front of Django's middleware (messaging.shortlinks.Front);
# everything else goes to Django.
from messaging.shortlinks import Front  # noqa: E402 - models load after the setup above

application = Front(django_application)
