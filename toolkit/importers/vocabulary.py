"""The words and patterns of published reports, from ``templates/importing.yaml``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from toolkit.formats import TEMPLATES_DIR, load_yaml


@dataclass(frozen=True)
class ImportVocabulary:
    title_patterns: tuple[re.Pattern, ...]
    year_patterns: tuple[re.Pattern, ...]
    opening_chars: int
    front_matter: re.Pattern
    front_matter_title: str
    page_furniture: tuple[re.Pattern, ...]
    rule_cells: frozenset[str]
    section_number: re.Pattern
    section_number_text: re.Pattern
    part_number_text: re.Pattern
    part_number: re.Pattern
    label_number: str
    part_heading_end: re.Pattern
    part_heading_max: int
    section_heading_max: int
    thresholds: dict[str, float]
    unit_factors: dict[str, dict[str, Decimal]]
    wrapped_line_max: int
    html_skip_classes: tuple[str, ...]
    max_file_bytes: int
    max_docx_xml_bytes: int
    max_pdf_pages: int
    max_pdf_chars: int
    max_pdf_rules: int


@lru_cache(maxsize=None)
def vocabulary() -> ImportVocabulary:
    data = load_yaml(TEMPLATES_DIR / "importing.yaml")
    return ImportVocabulary(
        title_patterns=tuple(re.compile(p) for p in data["title_patterns"]),
        year_patterns=tuple(re.compile(p) for p in data["year_patterns"]),
        opening_chars=int(data["opening_chars"]),
        front_matter=re.compile(data["front_matter"]),
        front_matter_title=data["front_matter_title"],
        page_furniture=tuple(re.compile(p) for p in data["page_furniture"]),
        rule_cells=frozenset(data["rule_cells"]),
        section_number=re.compile(data["section_number"]),
        section_number_text=re.compile(data["section_number_text"]),
        part_number_text=re.compile(data["part_number_text"]),
        part_number=re.compile(data["part_number"]),
        label_number=data["label_number"],
        part_heading_end=re.compile(data["part_heading_end"]),
        part_heading_max=int(data["part_heading_max"]),
        section_heading_max=int(data["section_heading_max"]),
        thresholds={k: float(v) for k, v in data["thresholds"].items()},
        unit_factors={unit: {word: Decimal(str(f)) for word, f in words.items()}
                      for unit, words in data["unit_factors"].items()},
        wrapped_line_max=int(data["wrapped_line_max"]),
        html_skip_classes=tuple(str(c).lower() for c in data.get("html_skip_classes", ())),
        max_file_bytes=int(data["max_file_bytes"]),
        max_docx_xml_bytes=int(data["max_docx_xml_bytes"]),
        max_pdf_pages=int(data["max_pdf_pages"]),
        max_pdf_chars=int(data["max_pdf_chars"]),
        max_pdf_rules=int(data["max_pdf_rules"]),
    )
