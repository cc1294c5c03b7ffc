"""Personalisation fields in a message: {{ name }} (first name), {{ surname }}, {{ group }}."""

import re

FIELD = re.compile(r"\{\{\s*(name|surname|group)\s*\}\}")


def has_fields(text: str) -> bool:
    return bool(FIELD.search(text))


def render(text: str, *, name: str = "", surname: str = "", group: str = "") -> str:
    values = {"name": name, "surname": surname, "group": group}
    return FIELD.sub(lambda m: values[m.group(1)], text)
