"""``--set section.key=value`` overrides, applied to the parsed TOML before validation.

The value is read as a TOML value (``--set mesh.cells_per_debye_length=6``,
``--set 'geometry.length="3 um"'``); text that is not valid TOML is taken as a string
(``--set geometry.length=3um``). List items are addressed by index or by their ``name``
(``electrolyte.species.Na.concentration=20mM``). Validation is the same as for the file.
"""

from __future__ import annotations

import tomllib
from typing import Any


class OverrideError(ValueError):
    """An override that cannot be applied; ``key`` is the dotted path as the user wrote it."""

    def __init__(self, key: str, message: str):
        super().__init__(f"--set {key}: {message}")
        self.key = key


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split ``a.b.c=value`` into the key path and the TOML-decoded value."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise OverrideError(text, "expected KEY.PATH=VALUE")
    try:
        value = tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return [part.strip() for part in key.strip().split(".")], value


def _child(container: Any, part: str, dotted: str) -> tuple[Any, Any]:
    """The key (or index) addressing ``part`` in ``container``."""
    if isinstance(container, list):
        if part.lstrip("-").isdigit() and -len(container) <= int(part) < len(container):
            return container, int(part)
        for index, item in enumerate(container):
            if isinstance(item, dict) and item.get("name") == part:
                return container, index
        names = [str(item.get("name")) for item in container if isinstance(item, dict)]
        raise OverrideError(
            dotted, f"no list item '{part}' (use an index 0..{len(container) - 1} or a name: {names})"
        )
    if isinstance(container, dict):
        return container, part
    raise OverrideError(dotted, f"'{part}' is inside a value that is not a table")


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Set each override in ``data`` (in place; returned for convenience). Missing tables are
    created, so an override may add a key the file left at its default; unknown keys are then
    reported by the schema like any other."""
    for text in overrides:
        path, value = parse_override(text)
        dotted = ".".join(path)
        container: Any = data
        for part in path[:-1]:
            container, key = _child(container, part, dotted)
            if isinstance(container, dict) and key not in container:
                container[key] = {}
            container = container[key]
        container, key = _child(container, path[-1], dotted)
        container[key] = value
    return data
