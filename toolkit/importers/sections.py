"""The six sections by their headings, and the narrative parts of each, split on part headings."""

from __future__ import annotations

from dataclasses import dataclass, field

from toolkit.checks import import_findings as imf
from toolkit.formats import Format, Section
from toolkit.importers.document import Document, Item
from toolkit.importers.match import LabelIndex, Match, core
from toolkit.importers.rows import ValueRow, table_rows
from toolkit.importers.vocabulary import vocabulary
from toolkit.model import Finding

_SENTENCE_END = "。！？：；!?:;"

# ---------------------------------------------------------------- sections


@dataclass
class Region:
    section: Section
    items: list[Item] = field(default_factory=list)


def _section_index(fmt: Format) -> LabelIndex:
    sn = vocabulary().section_number_text
    return LabelIndex((s, sn.sub("", s.label), [sn.sub("", v) for v in s.variants]) for s in fmt.sections)


def _heading_text(item: Item) -> str | None:
    if item.is_row and len(item.non_empty) != 1:
        return None
    text = item.text.strip()
    return text if 0 < len(text) <= vocabulary().section_heading_max else None


def find_sections(doc: Document, fmt: Format) -> tuple[dict[str, Region], list[Finding]]:
    """Split the items at the section headings: (regions by section id, findings for headings
    read through a variant). Items before the first heading (title, preface) belong to none."""
    voc = vocabulary()
    index = _section_index(fmt)
    heads: list[tuple[int, Section, Match]] = []
    for i, item in enumerate(doc.items):
        text = _heading_text(item)
        if text is None:
            continue
        m = voc.section_number_text.match(text)
        if not m:
            continue
        match = index.best(text[m.end():], voc.thresholds["heading"], pieces=False)
        if match is not None:
            heads.append((i, match.key, match))

    def regions_for(heads):
        out: dict[str, Region] = {}
        bounds = [h[0] for h in heads] + [len(doc.items)]
        for (i, section, _), end in zip(heads, bounds[1:]):
            region = out.setdefault(section.id, Region(section))
            region.items.extend(doc.items[i + 1:end])
        return out

    # a table section heading counts only when numbers follow it
    while True:
        regions = regions_for(heads)
        bad = [h for h in heads if h[1].table and not any(
            isinstance(r, ValueRow) and not r.blank for r in table_rows(_region_slice(doc, heads, h)))]
        if not bad:
            break
        heads = [h for h in heads if h not in bad]
    findings = []
    seen = set()
    for i, section, match in heads:
        if section.id in seen:
            continue
        seen.add(section.id)
        if match.is_variant:
            findings.append(imf.ImportSectionVariant.make(
                where=f"{doc.items[i].where}：", found=doc.items[i].text.strip(), label=section.label))
    return regions, findings


def _region_slice(doc: Document, heads, head) -> list[Item]:
    k = heads.index(head)
    end = heads[k + 1][0] if k + 1 < len(heads) else len(doc.items)
    return doc.items[head[0] + 1:end]


# ---------------------------------------------------------------- narrative


def _paragraphs(items: list[Item], width: int) -> list[str]:
    """Running text of a narrative region: one paragraph per item, or, for hard-wrapped PDF
    text (``width``: the full line length), lines joined until a sentence ends on a short line,
    a short heading line ends, or an item number starts a line."""
    voc = vocabulary()
    lines = [it.text.strip() for it in items if it.text.strip()]
    if not width:
        return lines
    out: list[str] = []
    prev = ""
    for line in lines:
        starts = bool(voc.part_number_text.match(line) or voc.section_number_text.match(line))
        if out and not starts:
            ended = prev[-1:] in _SENTENCE_END and len(prev) < 0.9 * width
            heading = bool(voc.part_number_text.match(prev)) and len(prev) < 0.8 * width
            if not ended and not heading and len(prev) >= 0.6 * width:
                out[-1] += line
                prev = line
                continue
        out.append(line)
        prev = line
    return out


def _part_index(section: Section) -> LabelIndex:
    pn = vocabulary().part_number_text
    return LabelIndex((p, pn.sub("", p.label), [pn.sub("", v) for v in p.variants]) for p in section.parts)


def _part_heading(paragraph: str, index: LabelIndex) -> tuple[object, str] | None:
    """(part, the paragraph without its heading) when it starts with a part heading."""
    voc = vocabulary()
    m = voc.part_number_text.match(paragraph)
    if not m:
        return None
    rest = paragraph[m.end():]
    end = voc.part_heading_end.search(rest[: voc.part_heading_max + 1])
    if end:
        heading, body = rest[: end.start()], rest[end.end():]
    elif len(rest) <= voc.part_heading_max:
        heading, body = rest, ""
    else:
        return None
    match = index.best(heading, voc.thresholds["part"], pieces=False)
    if match is None:
        c = core(heading)
        prefixed = [e for e in index.entries if len(e.core) >= 4 and c.startswith(e.core)
                    and len(c) <= len(e.core) + 4]
        keys = {id(e.key) for e in prefixed}
        if len(keys) != 1:
            return None
        return prefixed[0].key, body.strip()
    return match.key, body.strip()


def narrative(section: Section, items: list[Item], width: int = 0) -> tuple[dict[str, str], Finding | None]:
    """The section's text by part id, split on part headings."""
    if not section.parts:
        return {}, None
    paragraphs = _paragraphs(items, width)
    if not paragraphs:
        return {}, None
    section_core = core(vocabulary().section_number_text.sub("", section.label))
    general = next((p for p in section.parts if core(p.label) == section_core), None)
    texts: dict[str, list[str]] = {p.id: [] for p in section.parts}
    index = _part_index(section)
    current = None
    headings = 0
    for paragraph in paragraphs:
        if len(section.parts) > 1:
            found = _part_heading(paragraph, index)
            if found is not None:
                current, paragraph = found[0], found[1]
                headings += 1
                if not paragraph:
                    continue
        target = current or general or section.parts[0]
        texts[target.id].append(paragraph)
    finding = None
    if len(section.parts) > 1 and headings == 0 and general is None:
        finding = imf.ImportNarrativeUnsplit.make(
            section=section.label, parts="、".join(p.label for p in section.parts[:3]),
            part=section.parts[0].label)
    return {pid: "\n".join(t) for pid, t in texts.items() if t}, finding
