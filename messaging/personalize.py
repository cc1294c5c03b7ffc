"""Personalisation fields in a message: {{ name }} (first name), {{ surname }}, {{ group }}."""

import re

FIELD = re.compile(r"\{\{\s*(name|surname|group)\s*\}\}")


def has_fields(text: str) -> bool:
    return bool(FIELD.search(text))


def fields_used(text: str) -> tuple[str, ...]:
    """The fields the text uses, in a fixed order (name, surname, group)."""
    used = {m.group(1) for m in FIELD.finditer(text)}
    return tuple(f for f in ("name", "surname", "group") if f in used)


def render(text: str, *, name: str = "", surname: str = "", group: str = "") -> str:
    values = {"name": name, "surname": surname, "group": group}
    return FIELD.sub(lambda m: values[m.group(1)], text)
