"""The mobile operator the panel submits SMS to.

`get_operator()` returns the backend named by settings.SMS_OPERATOR["BACKEND"]:
"simulated" (default, messaging.operator.simulated) or "http" (messaging.operator.http).
"""

from django.conf import settings
from django.utils.module_loading import import_string

from .base import Operator, OutboundSms, SubmitResult

BACKENDS = {
    "simulated": "messaging.operator.simulated.SimulatedOperator",
    "http": "messaging.operator.http.HttpOperator",
}


def get_operator() -> Operator:
    config = settings.SMS_OPERATOR
    backend = BACKENDS.get(config.get("BACKEND", "simulated"), config.get("BACKEND"))
    return import_string(backend)(config)


__all__ = ["Operator", "OutboundSms", "SubmitResult", "get_operator"]
