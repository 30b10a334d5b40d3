"""Read a case file once: TOML -> overrides -> validated ``Case`` (SI) -> cross-checks."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ionslit.case.consistency import check_consistency
from ionslit.case.overrides import OverrideError, apply_overrides
from ionslit.case.schema import Case


class CaseError(ValueError):
    """Invalid input: each problem names the case key, the value and what is allowed."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}:\n" + "\n".join(f"  {p}" for p in problems))


@dataclass(frozen=True)
class LoadedCase:
    """A validated case with its provenance (for the manifest)."""

    case: Case
    path: Path
    text: str
    sha256: str
    overrides: tuple[str, ...] = field(default_factory=tuple)

    @property
    def results_directory(self) -> Path:
        """``[output] directory`` if given, else ``results/<case name>`` in the working
        directory."""
        return self.case.output.directory or Path("results") / self.case.name


def _lookup(data: Any, loc: tuple) -> tuple[str, Any]:
    """Dotted key and input value at a pydantic error location, skipping union tags."""
    parts: list[str] = []
    value = data
    for part in loc:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and isinstance(part, int) and part < len(value):
            value = value[part]
        elif isinstance(value, dict) and value.get("kind") == part:
            continue  # the discriminator tag pydantic inserts for tagged unions
        else:
            value = None
        parts.append(str(part))
    return ".".join(parts), value


def format_validation_error(error: ValidationError, data: dict[str, Any]) -> list[str]:
    """One line per problem: ``key = value: message``."""
    problems = []
    for item in error.errors():
        loc = tuple(item["loc"])
        if item["type"] == "unknown_key":
            loc = loc + (item["ctx"]["key"],)
        key, value = _lookup(data, loc)
        message = item["msg"].removeprefix("Value error, ")
        shown = "" if value is None or isinstance(value, (dict, list)) else f" = {value!r}"
        problems.append(f"{key or '(top level)'}{shown}: {message}")
    return problems


def load_case(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> LoadedCase:
    """Parse and validate a case file; raises ``CaseError`` naming every bad key."""
    path = Path(path)
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CaseError(source, [f"cannot read the case file: {exc.strerror}"]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CaseError(source, [f"not UTF-8 text (TOML files must be): {exc}"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CaseError(source, [f"not valid TOML: {exc}"]) from None
    try:
        apply_overrides(data, list(overrides))
    except OverrideError as exc:
        raise CaseError(source, [str(exc)]) from None
    data.setdefault("name", path.stem)
    try:
        case = Case.model_validate(data, context={"base_dir": path.parent.resolve()})
    except ValidationError as exc:
        raise CaseError(source, format_validation_error(exc, data)) from None
    problems = check_consistency(case) + _live_slit_problems(case)
    if problems:
        raise CaseError(source, problems)
    return LoadedCase(case, path.resolve(), text, hashlib.sha256(raw).hexdigest(), tuple(overrides))


def _live_slit_problems(case: Case) -> list[str]:
    """A circuit's live slits are case files of their own: check them as thoroughly."""
    problems: list[str] = []
    for index, branch in enumerate(case.circuit.branches if case.circuit else []):
        if branch.slit is None:
            continue
        key = f"circuit.branches.{index}.slit = '{branch.slit}'"
        try:
            slit = load_case(branch.slit).case
        except CaseError as error:
            problems += [f"{key}: {problem}" for problem in error.problems]
            continue
        if slit.geometry is None:
            problems.append(f"{key}: not a slit case (it has no [geometry])")
    return problems
