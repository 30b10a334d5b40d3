"""The base of every case-file section and the value types the sections share (SI units).

A ``Section`` is frozen and rejects unknown keys with a "did you mean" hint; relative paths
(``CasePath``) are resolved against the case file's folder.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, model_validator
from pydantic_core import PydanticCustomError

from ionslit.case.units import Length, Time


class Section(BaseModel):
    """Base of every section: frozen, unknown keys are errors with a hint."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed = list(cls.model_fields)
            for key in data:
                if key not in allowed:
                    close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
                    hint = f"; did you mean '{close[0]}'?" if close else ""
                    raise PydanticCustomError(
                        "unknown_key",
                        "unknown key '{key}'{hint} (allowed: {allowed})",
                        {"key": key, "hint": hint, "allowed": ", ".join(allowed)},
                    )
        return data


def _resolve_path(value: Path, info: ValidationInfo) -> Path:
    """Relative paths in a case file are relative to the case file's folder."""
    base = (info.context or {}).get("base_dir")
    return value if value.is_absolute() or base is None else (Path(base) / value).resolve()


CasePath = Annotated[Path, AfterValidator(_resolve_path)]
PositiveLength = Annotated[Length, Field(gt=0)]
NonNegativeLength = Annotated[Length, Field(ge=0)]
PositiveTime = Annotated[Time, Field(gt=0)]
Name = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_+\-]*$")]
