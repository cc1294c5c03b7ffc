"""A generic JSON-over-HTTP aggregator, for plugging in a real provider.

POST {"messages": [{id, to, from, text, class}]} to settings.SMS_OPERATOR["URL"] with a bearer
token; the answer is {"results": [{id, accepted, operator_id, error_code, permanent}]}.
Delivery reports come back through /callbacks/delivery-reports/ (signed).
"""

import json
import urllib.request
from collections.abc import Sequence

from .base import OutboundSms, SubmitResult


class HttpOperator:
    def __init__(self, config: dict):
        self.url = config["URL"]
        self.token = config.get("TOKEN", "")
        self.timeout = config.get("TIMEOUT", 30)

    def submit(self, messages: Sequence[OutboundSms]) -> list[SubmitResult]:
        body = json.dumps(
            {
                "messages": [
                    {
                        "id": m.message_id,
                        "to": m.receiver,
                        "from": m.sender,
                        "text": m.text,
                        "class": m.sms_class,
                    }
                    for m in messages
                ]
            }
        ).encode()
        request = urllib.request.Request(
            self.url,
            data=body,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.load(response)
        except (OSError, ValueError) as error:
            # The whole batch is retried later.
            code = type(error).__name__[:32]
            return [
                SubmitResult(message_id=m.message_id, accepted=False, error_code=code)
                for m in messages
            ]
        return [
            SubmitResult(
                message_id=int(r["id"]),
                accepted=bool(r.get("accepted")),
                operator_id=str(r.get("operator_id", "")),
                error_code=str(r.get("error_code", ""))[:32],
                permanent=bool(r.get("permanent")),
            )
            for r in answer.get("results", [])
        ]
