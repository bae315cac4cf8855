"""Attribute templates: `{name}` in a flow's text is replaced by the contact attribute `name`.

Names are letters, digits and `_`, with dotted paths for a lookup's JSON answer
(`{answer.customer.tier}`, `{answer.accounts.0.id}`). A name without a value renders as
"". Rendering is pure and never fails; `problems` says what is wrong with a template.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["BUILTINS", "names", "problems", "render", "scalar"]

BUILTINS = ("ani", "dnis", "contact_id", "flow_id")
"""Attributes every contact has from the start."""

_NAME = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}")


def names(text: str) -> list[str]:
    """The names a template refers to, in order."""
    return _NAME.findall(text)


def problems(text: str) -> str:
    """What is wrong with the template, or ""."""
    rest = _NAME.sub("", text)
    if "{" in rest or "}" in rest:
        return f"{text!r}: a brace that is not part of a {{name}} (names are letters, digits, _ and .)"
    return ""


def scalar(value: Any) -> str:
    """A JSON value as attribute text: true/false, numbers as written, null as ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _path(root: Any, parts: list[str]) -> Any:
    for part in parts:
        if isinstance(root, dict):
            root = root.get(part)
        elif isinstance(root, list) and part.isdigit() and int(part) < len(root):
            root = root[int(part)]
        else:
            return None
    return root


def render(
    text: str,
    attributes: Mapping[str, str],
    answer: Any = None,
    escape: Callable[[str], str] | None = None,
) -> str:
    """`text` with each `{name}` replaced (`escape` applied to each value, e.g. URL quoting)."""

    def value(m: re.Match[str]) -> str:
        name = m.group(1)
        if name == "answer" or name.startswith("answer."):
            out = scalar(_path(answer, name.split(".")[1:]))
        else:
            out = attributes.get(name, "")
        return escape(out) if escape else out

    return _NAME.sub(value, text)
