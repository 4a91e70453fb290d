"""The catalogue of findings: every finding has a stable kebab-case code, a severity and a
Chinese message template. docs/findings.md is generated from this module (tests check it).

Add a finding type by subclassing :class:`FindingType`; the class registers itself.
"""

from __future__ import annotations

from typing import Any, ClassVar

from toolkit.files import printable
from toolkit.model import ERROR, WARNING, Finding

REGISTRY: dict[str, type["FindingType"]] = {}


class FindingType:
    code: ClassVar[str]
    severity: ClassVar[str]
    title: ClassVar[str]  # short Chinese name for the catalogue
    template: ClassVar[str]  # str.format template of the Chinese message
    description: ClassVar[str] = ""  # English, for developers: when it is raised

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.code in REGISTRY:
            raise ValueError(f"duplicate finding code {cls.code!r}")
        if cls.severity not in (ERROR, WARNING):
            raise ValueError(f"{cls.code}: bad severity {cls.severity!r}")
        REGISTRY[cls.code] = cls

    @classmethod
    def make(cls, *, message: str | None = None, severity: str | None = None, **fields: Any) -> Finding:
        """A Finding of this type. The message comes from ``template`` filled with ``fields``
        (extra keys are for the template only), unless ``message`` is given (rule messages
        come from the format definition)."""
        finding_fields = {k: fields.pop(k) for k in list(fields) if k in _FINDING_FIELDS}
        text = message if message is not None else cls.template.format(**finding_fields, **fields)
        text = printable(text)  # a file name that is not valid UTF-8 must not break what the message goes into
        return Finding(code=cls.code, severity=severity or cls.severity, message=text, **finding_fields)


_FINDING_FIELDS = {"rule", "sheet", "cell", "row", "column", "expected", "actual", "related"}


def finding_type(code: str) -> type[FindingType]:
    return REGISTRY[code]
