"""The rule engine: evaluates the rules declared in a format definition on a ReportData.

No rule lives here. A rule *kind* is a small generator registered with :func:`rule_kind`; it
reads a declared :class:`~toolkit.formats.Rule` (its bound instances or its params) and yields
:class:`Hit` objects. The engine turns each hit into a :class:`~toolkit.model.Finding`: it
stamps the rule id, the sheet and A1 cell, the row and column labels, and renders the rule's
``message`` template.

Totals are never trusted: every total is recomputed from the input cells (recursively through
totals of totals) and rules see the recomputed values; ``sum`` rules compare the total stored in
the file with its recomputation.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from toolkit.checks import rule_findings as rf
from toolkit.checks.catalogue import FindingType
from toolkit.formats import Format, FormatError, Rule, RuleInstance, Term, load_format
from toolkit.identity import (
    roster_units_in_name,
    same_unit,
    unit_core,
    unit_in_file_name,
    without_file_name_noise,
    year_in_file_name,
)
from toolkit.labels import normalize_label
from toolkit.layout import cell_addresses, info_rows, workbook_plan
from toolkit.checks.figures import ZERO, cell_label, cell_labels, recompute, same_value, show, to_decimal
from toolkit.model import ERROR, Finding, ReportData



@dataclass(frozen=True)
class CheckContext:
    """What is known about a report beyond its contents.

    ``file_name``: the name of the file it was read from; ``roster``: the unit names the county
    expects; ``year``: the report year being collected. Each is optional.
    """

    file_name: str | None = None
    roster: tuple[str, ...] | None = None
    year: int | None = None


@dataclass
class Hit:
    """What a rule kind found. ``fields`` fill the message template; ``note`` is appended to the
    rule's message; ``rule_message=False`` uses the finding type's own template instead."""

    type: type[FindingType]
    cell: str | None = None
    expected: Any = None
    actual: Any = None
    fields: dict[str, Any] = field(default_factory=dict)
    severity: str | None = None
    note: str = ""
    rule_message: bool = True
    related: tuple[str, ...] = ()  # other cell ids the finding is about (e.g. "narrative.<part id>")


RuleKind = Callable[[Rule, "Evaluation"], Iterator[Hit]]


@dataclass(frozen=True)
class KindInfo:
    """A registered rule kind: its generator, the finding types it raises (a tuple, or a function
    of the rule) and the extra message placeholders it fills."""

    name: str
    fn: RuleKind
    codes: tuple[type[FindingType], ...] | Callable[[Rule], tuple[type[FindingType], ...]]
    fields: tuple[str, ...] = ()

    def finding_types(self, rule: Rule) -> tuple[type[FindingType], ...]:
        return self.codes(rule) if callable(self.codes) else self.codes


RULE_KINDS: dict[str, KindInfo] = {}
COMMON_FIELDS = ("column", "row", "cell", "cell_label", "unit", "expected", "actual")
TERM_FIELDS = ("left", "right")


def rule_kind(name: str, *, codes: Any, fields: tuple[str, ...] = ()) -> Callable[[RuleKind], RuleKind]:
    """Register a generator ``fn(rule, evaluation) -> Iterator[Hit]`` for rules of kind ``name``;
    ``codes``: the finding types it raises; ``fields``: message placeholders it adds to the
    common ones (and, for kinds with terms, ``left``/``right``/``left_N``/``right_N``)."""

    def register(fn: RuleKind) -> RuleKind:
        if name in RULE_KINDS:
            raise ValueError(f"rule kind {name!r} registered twice")
        RULE_KINDS[name] = KindInfo(name, fn, codes, tuple(fields))
        return fn

    return register


def message_placeholders(rule: Rule) -> set[str]:
    """The placeholders the engine fills for ``rule``'s message template."""
    allowed = set(COMMON_FIELDS) | set(RULE_KINDS[rule.kind].fields)
    if rule.instances:
        allowed |= set(TERM_FIELDS)
        allowed |= {f"left_{i}" for i in range(1, min(len(x.left) for x in rule.instances) + 1)}
        allowed |= {f"right_{i}" for i in range(1, min(len(x.right) for x in rule.instances) + 1)}
    return allowed


def rule_finding_types(rule: Rule) -> tuple[type[FindingType], ...]:
    """The finding types a declared rule can raise."""
    return RULE_KINDS[rule.kind].finding_types(rule)


class ValidationError(ValueError):
    """Raised by :func:`validate` with the first error-severity finding."""

    def __init__(self, finding: Finding):
        super().__init__(finding.message)
        self.finding = finding


# ---------------------------------------------------------------- evaluation


class Evaluation:
    """One report being checked: its values, recomputed totals, last year's values, context."""

    def __init__(self, data: ReportData, fmt: Format, prior: ReportData | None, context: CheckContext):
        self.data, self.fmt, self.prior, self.context = data, fmt, prior, context
        self.computed = recompute(fmt, data.values)
        self.prior_fmt: Format | None = None
        self.prior_computed: dict[str, Decimal] = {}
        if prior is not None:
            try:
                self.prior_fmt = fmt if str(prior.format) == fmt.id else load_format(str(prior.format))
            except FormatError:
                self.prior_fmt = None
            if self.prior_fmt is not None:
                self.prior_computed = recompute(self.prior_fmt, prior.values)
        self.typed_over_reported: set[str] = set()

    # values
    def value(self, cell_id: str) -> Decimal:
        """This year's value: input as typed (blank = 0), totals recomputed."""
        return self.computed[cell_id]

    def file_value(self, cell_id: str) -> Decimal | None:
        """The value stored in the file, None when blank or not a number."""
        return to_decimal(self.data.values.get(cell_id))

    def term_value(self, term: Term) -> Decimal:
        """A term's value without its sign: last year's for ``prior:`` terms."""
        if term.prior:
            return self.prior_computed.get(term.cell, ZERO)
        return self.computed[term.cell]

    def total(self, terms: Iterable[Term]) -> Decimal:
        return sum((t.sign * self.term_value(t) for t in terms), ZERO)

    def typed_over(self, cell_id: str) -> bool:
        """A total holding a number where the formula should be (only when formulas are known)."""
        formulas = self.data.formulas
        return formulas is not None and cell_id not in formulas and self.file_value(cell_id) is not None

    def formula_deleted(self, cell_id: str) -> bool:
        """A total left empty without its formula (only when formulas are known)."""
        formulas = self.data.formulas
        return (formulas is not None and cell_id not in formulas and cell_id in self.data.values
                and self.data.values[cell_id] is None and not str(self.data.raw.get(cell_id) or "").strip())

    def decimals(self, inst: RuleInstance) -> int:
        return max(self.fmt.cell(t.cell).kind.decimals for t in (*inst.left, *inst.right))

    def same(self, a: Decimal, b: Decimal, inst: RuleInstance) -> bool:
        return a == b or same_value(a, b, self.decimals(inst))

    def instances(self, rule: Rule) -> Iterator[RuleInstance]:
        """The rule's instances that can be evaluated: those using last year's values only when
        last year is known and has those cells."""
        flags = rule.__dict__.get("_uses_prior")
        if flags is None:
            flags = rule.__dict__["_uses_prior"] = [inst.uses_prior for inst in rule.instances]
        for inst, uses_prior in zip(rule.instances, flags):
            if self.absent_cell(inst) is not None:
                continue
            if uses_prior:
                if self.prior_fmt is None:
                    continue
                if any(t.cell not in self.prior_fmt.cells for t in (*inst.left, *inst.right) if t.prior):
                    continue
            yield inst

    def absent_cell(self, inst: RuleInstance) -> str | None:
        """A cell of this year that ``inst`` uses and the source does not have, if any."""
        absent = self.data.absent
        if not absent:
            return None
        return next((t.cell for t in (*inst.left, *inst.right) if not t.prior and t.cell in absent), None)

    def term_fields(self, inst: RuleInstance) -> dict[str, Any]:
        """``left``/``right`` sums and ``left_1``.. ``right_1``.. term values (unsigned)."""
        fields: dict[str, Any] = {"left": self.total(inst.left), "right": self.total(inst.right)}
        for side, terms in (("left", inst.left), ("right", inst.right)):
            for i, term in enumerate(terms, 1):
                fields[f"{side}_{i}"] = self.term_value(term)
        return fields

    @staticmethod
    def anchor(inst: RuleInstance) -> str:
        """The cell a finding sits on: the target, or the first term of this year."""
        if not inst.target.prior:
            return inst.target.cell
        return next(t.cell for t in (*inst.left, *inst.right) if not t.prior)

    # where
    def locate(self, cell_id: str | None) -> tuple[str | None, str | None, str]:
        """(sheet, A1, how the message names the place) of a cell of the report."""
        if cell_id is None:
            return None, None, ""
        source = self.data.cells.get(cell_id)
        if source is not None and source.cell:
            return source.sheet, source.cell, source.cell
        if source is not None and source.line:
            return None, None, f"第{source.line}行"
        if cell_id in self.fmt.cells:
            addr = cell_addresses(self.fmt)[cell_id]
            return addr.sheet, addr.a1, addr.a1
        return None, None, ""

    def locate_info(self, field_id: str) -> tuple[str | None, str | None]:
        """Sheet and A1 of a 基本信息 field (unit, year) in the standard workbook."""
        source = self.data.cells.get(f"info.{field_id}")
        if source is not None:
            return source.sheet, source.cell
        if any(s.line and not s.cell for s in self.data.cells.values()):
            return None, None
        for row, fid, _ in info_rows():
            if fid == field_id:
                return workbook_plan().info_sheet, f"B{row}"
        return None, None


class _Lenient(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(template: str, fields: dict[str, Any]) -> str:
    """Fill a message template; Decimals are shown as typed, unknown placeholders kept."""
    return template.format_map(_Lenient({k: show(v) for k, v in fields.items()}))


def _related(ev: Evaluation, hit: Hit) -> tuple[tuple[str, str], ...]:
    places = (ev.locate(cell_id)[:2] for cell_id in hit.related)
    return tuple((sheet, a1) for sheet, a1 in places if sheet and a1)


def _finding(ev: Evaluation, rule: Rule | None, hit: Hit) -> Finding:
    sheet, a1, where = ev.locate(hit.cell)
    row = column = None
    label = ""
    if hit.cell is not None and hit.cell in ev.fmt.cells:
        row, column = cell_labels(ev.fmt)[hit.cell]
        label = cell_label(ev.fmt, hit.cell)
    fields = {
        "column": column or "", "row": row or "", "cell": where, "cell_label": label,
        "unit": ev.data.unit or "本单位", "expected": hit.expected, "actual": hit.actual, **hit.fields,
    }
    if rule is not None and hit.rule_message:
        message = render(rule.message, fields) + hit.note
    else:
        message = render(hit.type.template, fields)
    return hit.type.make(
        message=message, severity=hit.severity, rule=rule.id if rule else None, sheet=sheet, cell=a1,
        row=row, column=column, expected=hit.expected, actual=hit.actual, related=_related(ev, hit),
    )


# ---------------------------------------------------------------- rule kinds


@rule_kind("sum", codes=(rf.TotalMismatch, rf.TotalTypedOver, rf.TotalTypedOverWrong, rf.TotalFormulaDeleted))
def _sum_rule(rule: Rule, ev: Evaluation) -> Iterator[Hit]:
    """total = sum(terms): the total stored in the file against its recomputation."""
    for inst in ev.instances(rule):
        total = inst.left[0].cell
        actual = ev.file_value(total)
        if actual is None:
            if ev.formula_deleted(total) and total not in ev.typed_over_reported:
                ev.typed_over_reported.add(total)
                yield Hit(rf.TotalFormulaDeleted, total, ev.computed[total], None, rule_message=False)
            continue
        expected = ev.computed[total] if ev.fmt.total_rule(total) is inst else ev.total(inst.right)
        same = ev.same(expected, actual, inst)
        typed_over = ev.typed_over(total)
        if same and not typed_over:
            continue
        fields = {**ev.term_fields(inst), "left": actual, "left_1": actual}
        if typed_over:
            if same and total not in ev.typed_over_reported:
                ev.typed_over_reported.add(total)
                yield Hit(rf.TotalTypedOver, total, expected, actual, fields, rule_message=False)
            elif not same:
                yield Hit(rf.TotalTypedOverWrong, total, expected, actual, fields, note=rf.TotalTypedOverWrong.note)
        elif not same:
            yield Hit(rf.TotalMismatch, total, expected, actual, fields, severity=rule.severity)


@rule_kind("equal", codes=lambda rule: (rf.PriorYearMismatch,) if any(i.uses_prior for i in rule.instances)
           else (rf.RuleNotEqual,))
def _equal_rule(rule: Rule, ev: Evaluation) -> Iterator[Hit]:
    """sum(left) = sum(right); with ``prior:`` terms a cross-year check."""
    for inst in ev.instances(rule):
        left, right = ev.total(inst.left), ev.total(inst.right)
        if not ev.same(left, right, inst):
            kind = rf.PriorYearMismatch if inst.uses_prior else rf.RuleNotEqual
            yield Hit(kind, ev.anchor(inst), right, left, ev.term_fields(inst), severity=rule.severity)


@rule_kind("at_least", codes=(rf.ImplausibleValue,))
def _at_least_rule(rule: Rule, ev: Evaluation) -> Iterator[Hit]:
    """sum(left) >= sum(right): numbers that cannot be true together."""
    for inst in ev.instances(rule):
        left, right = ev.total(inst.left), ev.total(inst.right)
        if left < right and not ev.same(left, right, inst):
            yield Hit(rf.ImplausibleValue, ev.anchor(inst), right, left, ev.term_fields(inst),
                      severity=rule.severity)


@rule_kind("unit_zero", codes=(rf.UnitShouldBeZero,))
def _unit_zero_rule(rule: Rule, ev: Evaluation) -> Iterator[Hit]:
    """Units whose name matches ``units`` must have 0 in each of ``cells``."""
    unit = (ev.data.unit or "").strip()
    pattern = re.compile(rule.params["units"])
    if not unit or not (pattern.search(unit) or pattern.search(normalize_label(unit))):
        return
    for cell_id in rule.params["cells"]:
        value = ev.value(cell_id)
        if value != 0:
            yield Hit(rf.UnitShouldBeZero, cell_id, ZERO, value, severity=rule.severity)


def _numbers_in(match: re.Match) -> list[int]:
    out = []
    for group in match.groups():
        text = unicodedata.normalize("NFKC", group or "")
        if text.isdigit():
            out.append(int(text))
    return out


@rule_kind("narrative_zero", codes=(rf.NarrativeContradictsZero,), fields=("part", "quote"))
def _narrative_zero_rule(rule: Rule, ev: Evaluation) -> Iterator[Hit]:
    """All of ``cells`` are 0, but a narrative part in ``parts`` matches ``pattern`` with a
    non-zero number in it."""
    cells = rule.params["cells"]
    if any(ev.value(c) != 0 for c in cells):
        return
    pattern = re.compile(rule.params["pattern"])
    labels = {p.id: p.label for p in ev.fmt.parts}
    for part_id in rule.params["parts"]:
        for match in pattern.finditer(ev.data.narrative.get(part_id) or ""):
            numbers = _numbers_in(match)
            if numbers and not any(numbers):
                continue
            quote = match.group(0)
            yield Hit(rf.NarrativeContradictsZero, cells[0], None, quote,
                      {"part": labels.get(part_id, part_id), "quote": quote}, severity=rule.severity,
                      related=(f"narrative.{part_id}",))
            return


@rule_kind("narrative_number", codes=(rf.NarrativeNumberDiffers,), fields=("part", "quote"))
def _narrative_number_rule(rule: Rule, ev: Evaluation) -> Iterator[Hit]:
    """A narrative part in ``parts`` states a number (``pattern``'s digit group) that differs
    from the sum of ``cells`` (and from the sum of each cell group in ``also``); with ``skip_when_zero`` nothing is said when that sum is 0 (a
    ``narrative_zero`` rule covers it). One finding, at the first differing statement."""
    cells = rule.params["cells"]
    expected = sum((ev.value(c) for c in cells), ZERO)
    if rule.params.get("skip_when_zero") and expected == 0:
        return
    accepted = {expected, *(sum((ev.value(c) for c in group), ZERO) for group in rule.params.get("also", ()))}
    pattern = re.compile(rule.params["pattern"])
    labels = {p.id: p.label for p in ev.fmt.parts}
    for part_id in rule.params["parts"]:
        for match in pattern.finditer(ev.data.narrative.get(part_id) or ""):
            numbers = _numbers_in(match)
            if not numbers or Decimal(numbers[-1]) in accepted:
                continue
            quote = match.group(0)
            yield Hit(rf.NarrativeNumberDiffers, cells[0], expected, Decimal(numbers[-1]),
                      {"part": labels.get(part_id, part_id), "quote": quote}, severity=rule.severity,
                      related=(f"narrative.{part_id}",))
            return


# ---------------------------------------------------------------- identity


def _identity(ev: Evaluation) -> Iterator[Finding]:
    data, ctx = ev.data, ev.context
    unit_sheet, unit_cell = ev.locate_info("unit")
    year_sheet, year_cell = ev.locate_info("year")
    file_name = Path(ctx.file_name).name if ctx.file_name else None
    named: list[str] = []
    if file_name and ctx.roster:
        named = roster_units_in_name(file_name, ctx.roster)
    not_in_roster = False
    if data.unit and ctx.roster is not None:
        if not any(same_unit(data.unit, u) or normalize_label(data.unit) == normalize_label(u) for u in ctx.roster):
            close = named or [u for u in ctx.roster
                              if unit_core(data.unit) in unit_core(u) or unit_core(u) in unit_core(data.unit)]
            hint = f"（名单中有“{close[0]}”，是否为同一单位？）" if close else ""
            not_in_roster = True
            yield rf.UnitNotInRoster.make(sheet=unit_sheet, cell=unit_cell, expected=close[0] if close else None,
                                          actual=data.unit, unit=data.unit, hint=hint)
    if data.unit and file_name and not not_in_roster:
        if named:
            if not any(same_unit(data.unit, u) for u in named):
                yield rf.UnitDiffersFromFileName.make(
                    sheet=unit_sheet, cell=unit_cell, expected=named[0], actual=data.unit, unit=data.unit,
                    file_name=file_name, named="、".join(f"名单中“{u}”" for u in named))
        else:
            guess = unit_in_file_name(file_name)
            mine = without_file_name_noise(unit_core(data.unit)).replace(" ", "")
            if guess and mine and guess not in mine and unit_core(guess) not in mine and mine not in guess:
                yield rf.UnitDiffersFromFileName.make(
                    sheet=unit_sheet, cell=unit_cell, expected=guess, actual=data.unit, unit=data.unit,
                    file_name=file_name, named=f"“{guess}”")
    if data.year is not None and ctx.year is not None and int(data.year) != int(ctx.year):
        yield rf.YearDiffers.make(sheet=year_sheet, cell=year_cell, expected=int(ctx.year), actual=int(data.year))
    if data.year is not None and file_name:
        named_year = year_in_file_name(file_name)
        if named_year is not None and named_year != int(data.year):
            yield rf.YearDiffersFromFileName.make(sheet=year_sheet, cell=year_cell, expected=named_year,
                                                  actual=int(data.year), file_name=file_name)
    prior = ev.prior
    if prior is not None:
        if prior.year is not None and data.year is not None and int(prior.year) != int(data.year) - 1:
            yield rf.PriorYearNotPrevious.make(expected=int(data.year) - 1, actual=int(prior.year),
                                               year=int(data.year))
        if prior.unit and data.unit and not same_unit(prior.unit, data.unit):
            yield rf.PriorUnitDiffers.make(expected=data.unit, actual=prior.unit)


# ---------------------------------------------------------------- entry points


def iter_findings(data: ReportData, fmt: Format | None = None, *, prior: ReportData | None = None,
                  context: CheckContext | None = None) -> Iterator[Finding]:
    """Evaluate every rule of ``fmt`` (default: the format ``data`` says it is in), then the
    identity checks; yield findings lazily, in the order the rules are declared.

    ``prior`` is last year's report (enables rules with ``prior:`` terms); ``context`` carries the
    file name, roster and expected year for the identity checks.
    """
    fmt = fmt or load_format(str(data.format))
    ev = Evaluation(data, fmt, prior, context or CheckContext())
    yield from _identity(ev)
    for rule in fmt.rules:
        kind = RULE_KINDS.get(rule.kind)
        if kind is None:
            raise FormatError(f"{fmt.path.name}: rule {rule.id!r} has unknown kind {rule.kind!r}")
        for hit in kind.fn(rule, ev):
            yield _finding(ev, rule, hit)
    yield from _incomplete_tables(ev)


def _incomplete_tables(ev: Evaluation) -> Iterator[Finding]:
    """One finding for each table that is partly absent and had rules left unevaluated."""
    if not ev.data.absent:
        return
    skipped: dict[str, int] = {}
    for rule in ev.fmt.rules:
        for inst in rule.instances:
            cell = ev.absent_cell(inst)
            if cell is not None:
                table = ev.fmt.cells[cell].table.id
                skipped[table] = skipped.get(table, 0) + 1
    for table in ev.fmt.tables:
        rules = skipped.get(table.id)
        if not rules:
            continue
        missing = sum(1 for c in table.cells if c.id in ev.data.absent)
        if missing < len(table.cells):
            yield rf.TableIncomplete.make(table=table.number, missing=missing, rules=rules, sheet=table.sheet)


def check_data(data: ReportData, fmt: Format | None = None, *, prior: ReportData | None = None,
               context: CheckContext | None = None) -> list[Finding]:
    """All findings of :func:`iter_findings` as a list."""
    return list(iter_findings(data, fmt, prior=prior, context=context))


def validate(data: ReportData, fmt: Format | None = None, *, prior: ReportData | None = None,
             context: CheckContext | None = None) -> None:
    """Raise :class:`ValidationError` with the first error-severity finding; warnings pass."""
    for finding in iter_findings(data, fmt, prior=prior, context=context):
        if finding.severity == ERROR:
            raise ValidationError(finding)
