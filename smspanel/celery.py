import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smspanel.settings")

app = Celery("smspanel")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
