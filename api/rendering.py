"""Dates as OVHcloud writes them: `2025-06-23T09:01:50+02:00` — whole seconds, with the offset
of the account's time zone (smspanel's accounts all live in settings.TIME_ZONE, Paris)."""

from datetime import date, datetime

from django.utils import timezone
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder


def ovh_datetime(value: datetime) -> str:
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.replace(microsecond=0).isoformat()


class OvhEncoder(NinjaJSONEncoder):
    def default(self, o):
        if isinstance(o, datetime):
            return ovh_datetime(o)
        if isinstance(o, date):
            return o.isoformat()
        return super().default(o)


class OvhRenderer(JSONRenderer):
    encoder_class = OvhEncoder
