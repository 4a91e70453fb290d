"""Unit identity: when two unit names, or a unit name and a file name, mean the same unit.

Driven by ``templates/identity.yaml`` (how unit names end, the words people put in file names,
how a year appears in one). Used by the identity checks (toolkit/checks/engine.py), the archive
(which unit a report belongs to) and the round (a roster entry's file, findings and status).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from toolkit.formats import TEMPLATES_DIR, load_yaml
from toolkit.labels import normalize_label


_HAN_RUN = re.compile(r"[\u3400-\u9fff]+")


@lru_cache(maxsize=None)
def _config() -> dict[str, Any]:
    data = load_yaml(TEMPLATES_DIR / "identity.yaml")
    data["file_name_noise"] = sorted((normalize_label(w) for w in data["file_name_noise"]), key=len, reverse=True)
    data["unit_suffixes"] = sorted((normalize_label(w) for w in data["unit_suffixes"]), key=len, reverse=True)
    data["name_endings"] = tuple(normalize_label(e) for e in data["name_endings"])
    data["file_name_year_words"] = re.compile(data["file_name_year"] + "年?度?")
    data["file_name_year_pattern"] = re.compile(data["file_name_year"])
    return data


def unit_key(name: str) -> str:
    """The form unit names are matched by: width, brackets and spaces folded."""
    return normalize_label(name)


def unit_core(name: str) -> str:
    """A unit name compared loosely: normalised, without 人民政府/办事处 at the end."""
    text = normalize_label(name)
    for suffix in _config()["unit_suffixes"]:
        if text.endswith(suffix) and len(text) > len(suffix) + 1:
            return text[: -len(suffix)]
    return text


def same_unit(a: str, b: str) -> bool:
    """Whether two names are the same unit once 人民政府/办事处 and widths are set aside."""
    return unit_core(a) == unit_core(b)


def match_unit(name: str, candidates: dict[str, Any]) -> Any | None:
    """The value in ``candidates`` (keyed by :func:`unit_key`) for unit ``name``: the exact name
    first, else the only one that is the same unit without 人民政府/办事处 (``蓼堤镇`` ~
    ``蓼堤镇人民政府``)."""
    if not name:
        return None
    exact = candidates.get(unit_key(name))
    if exact is not None:
        return exact
    loose = [value for key, value in candidates.items() if same_unit(key, name)]
    return loose[0] if len(loose) == 1 else None


def without_file_name_noise(text: str) -> str:
    """``text`` with years and the words people put in file names (年度报告, 副本 …) blanked out."""
    cfg = _config()
    text = cfg["file_name_year_words"].sub(" ", normalize_label(text))
    for word in cfg["file_name_noise"]:
        text = text.replace(word, " ")
    return text


def roster_units_in_name(file_name: str, roster: Iterable[str]) -> list[str]:
    """The roster units whose name appears in a file name (the longest matches only)."""
    stem = normalize_label(Path(file_name).stem)
    found = [u for u in roster if unit_core(u) and unit_core(u) in stem]
    if not found:
        return []
    longest = max(len(unit_core(u)) for u in found)
    return [u for u in found if len(unit_core(u)) == longest]


def unit_in_file_name(file_name: str) -> str | None:
    """Without a roster: the part of a file name that looks like a unit name, if any."""
    runs = _HAN_RUN.findall(without_file_name_noise(Path(file_name).stem))
    endings = _config()["name_endings"]
    candidates = [r for r in runs if len(r) >= 2 and r.endswith(endings)]
    return max(candidates, key=len) if candidates else None


def year_in_file_name(file_name: str) -> int | None:
    """The year a file name gives (19xx or 20xx), or None when it gives none or several."""
    years = set(_config()["file_name_year_pattern"].findall(Path(file_name).stem))
    return int(years.pop()) if len(years) == 1 else None
