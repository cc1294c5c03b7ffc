"""A scripted operator for tests: answers what the test tells it, records every submission."""

from collections import defaultdict

from messaging.operator.base import SubmitResult

# Simulator settings without any fault (a route that does what it is told).
CLEAN = {
    k: 0.0
    for k in (
        "transient_error_rate",
        "permanent_error_rate",
        "undelivered_rate",
        "expired_rate",
        "duplicate_report_rate",
        "out_of_order_rate",
    )
}
SUBMITTED: list = []  # every OutboundSms handed to the operator, in order
SCRIPT: dict[str, list] = defaultdict(list)  # receiver → answers to give, in order


class ScriptedOperator:
    def __init__(self, config):
        pass

    def submit(self, messages):
        results = []
        for m in messages:
            SUBMITTED.append(m)
            answer = SCRIPT[m.receiver].pop(0) if SCRIPT[m.receiver] else "ok"
            if answer == "ok":
                results.append(SubmitResult(m.message_id, True, operator_id=f"op-{m.message_id}"))
            else:
                kind, code = answer.split(":")
                results.append(
                    SubmitResult(
                        m.message_id, False, error_code=code, permanent=kind == "permanent"
                    )
                )
        return results


def reset():
    SUBMITTED.clear()
    SCRIPT.clear()
