"""An operator that accepts everything at once, for benchmarks that measure the panel's side
(bench/campaigns.py: the pace, not the operator). Importable without side effects."""

from messaging.operator.base import SubmitResult


class InstantOperator:
    def __init__(self, config):
        pass

    def submit(self, messages):
        return [SubmitResult(m.message_id, True, operator_id=f"b{m.message_id}") for m in messages]
