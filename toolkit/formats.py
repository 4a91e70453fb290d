"""Load and validate the official format definitions in ``templates/formats/``.

A :class:`Format` is the single source of truth the writer, reader, checks and renderer derive
from: sections, tables (blocks of column and row trees), cells with ids and kinds, and rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator



def _templates_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "_templates", here.parent / "templates"):
        if (candidate / "formats").is_dir():
            return candidate
    raise RuntimeError("templates/ not found next to the toolkit package")


TEMPLATES_DIR = _templates_dir()
FORMATS_DIR = TEMPLATES_DIR / "formats"

RULE_KINDS_WITH_TERMS = {"sum", "equal", "at_least"}
SEVERITIES = {"error", "warning"}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class FormatError(ValueError):
    """A format definition file is itself broken (a bug in ``templates/``, not in user data)."""


@dataclass(frozen=True)
class Kind:
    id: str
    decimals: int
    min: float | None
    unit: str

    @property
    def signed(self) -> bool:
        return self.min is None


@dataclass
class Node:
    """A column or row of a block, possibly with children (a merged header)."""

    id: str
    label: str
    variants: tuple[str, ...] = ()
    kind: str | None = None
    children: list["Node"] = field(default_factory=list)
    depth: int = 0
    collapse_to: str | None = None  # a group row given as one row counts in this leaf (importers)

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def leaves(self) -> Iterator["Node"]:
        if self.is_leaf:
            yield self
        else:
            for child in self.children:
                yield from child.leaves()

    def walk(self) -> Iterator["Node"]:
        yield self
        for child in self.children:
            yield from child.walk()

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.label, *self.variants)


def _tree_depth(nodes: list[Node]) -> int:
    return max((1 + _tree_depth(n.children) for n in nodes), default=0)


@dataclass
class Block:
    id: str
    caption: str | None
    variants: tuple[str, ...]
    corner: str | None
    columns: list[Node]
    rows: list[Node]

    @property
    def leaf_columns(self) -> list[Node]:
        return [leaf for node in self.columns for leaf in node.leaves()]

    @property
    def leaf_rows(self) -> list[Node]:
        return [leaf for node in self.rows for leaf in node.leaves()]

    @property
    def column_depth(self) -> int:
        return _tree_depth(self.columns)

    @property
    def row_depth(self) -> int:
        """Number of label columns on the left; 0 for a block with one unlabeled row (表四)."""
        if all(not r.label and r.is_leaf for r in self.rows):
            return 0
        return _tree_depth(self.rows)


@dataclass
class Cell:
    """One number cell of an official table."""

    id: str
    table: "Table"
    block: Block
    row: Node
    column: Node
    kind: Kind
    is_total: bool = False

    @property
    def label(self) -> str:
        """Human label, e.g. ``表三 一、本年新收政府信息公开申请数量 / 自然人``."""
        names = [n.label for n in (self.row, self.column) if n.label]
        return f"{self.table.number} {' / '.join(names)}"


@dataclass
class Table:
    id: str
    number: str
    sheet: str
    caption: str
    blocks: list[Block]
    cells: list[Cell] = field(default_factory=list)

    @property
    def leaf_columns(self) -> list[Node]:
        seen, out = set(), []
        for block in self.blocks:
            for col in block.leaf_columns:
                if col.id not in seen:
                    seen.add(col.id)
                    out.append(col)
        return out

    @property
    def leaf_rows(self) -> list[Node]:
        return [row for block in self.blocks for row in block.leaf_rows]


@dataclass(frozen=True)
class Part:
    id: str
    label: str
    variants: tuple[str, ...] = ()


@dataclass(frozen=True)
class Section:
    id: str
    label: str
    variants: tuple[str, ...]
    table: str | None
    parts: tuple[Part, ...]


@dataclass(frozen=True)
class Term:
    """A reference to a cell inside a rule: ``-prior:t2.rules.in_force`` is sign -1, prior True."""

    cell: str
    sign: int = 1
    prior: bool = False

    @classmethod
    def parse(cls, text: str) -> "Term":
        sign = 1
        if text.startswith("-"):
            sign, text = -1, text[1:]
        prior = text.startswith("prior:")
        if prior:
            text = text[len("prior:"):]
        return cls(cell=text, sign=sign, prior=prior)


@dataclass(frozen=True)
class RuleInstance:
    """A rule with its placeholders bound, e.g. ``t3-balance`` for ``col=natural``."""

    rule: "Rule"
    bindings: tuple[tuple[str, str], ...]
    left: tuple[Term, ...]
    right: tuple[Term, ...]

    @property
    def target(self) -> Term:
        """The cell a finding is anchored on: the total for ``sum``, the first left term else."""
        return self.left[0] if self.left else self.right[0]

    @property
    def uses_prior(self) -> bool:
        return any(t.prior for t in (*self.left, *self.right))


@dataclass
class Rule:
    """A declared rule. For ``sum``: left is (total,), right the terms; ``equal``: sum(left) =
    sum(right); ``at_least``: sum(left) >= sum(right). Other kinds keep their fields in params."""

    id: str
    kind: str
    severity: str
    wording: str
    message: str
    params: dict[str, Any]
    instances: list[RuleInstance] = field(default_factory=list)


@dataclass
class Format:
    id: str
    name: str
    document: str
    year_from: int
    year_to: int | None
    title: str
    sections: list[Section]
    kinds: dict[str, Kind]
    tables: list[Table]
    rules: list[Rule]
    path: Path
    cells: dict[str, Cell] = field(default_factory=dict)

    def table(self, table_id: str) -> Table:
        for table in self.tables:
            if table.id == table_id:
                return table
        raise KeyError(table_id)

    def cell(self, cell_id: str) -> Cell:
        return self.cells[cell_id]

    @property
    def input_cells(self) -> list[Cell]:
        return [c for c in self.cells.values() if not c.is_total]

    @property
    def total_cells(self) -> list[Cell]:
        return [c for c in self.cells.values() if c.is_total]

    def total_rule(self, cell_id: str) -> RuleInstance | None:
        """The first ``sum`` rule instance whose total is this cell: it defines its formula."""
        return self._total_rules.get(cell_id)

    @property
    def parts(self) -> list[Part]:
        return [p for s in self.sections for p in s.parts]

    def covers(self, year: int) -> bool:
        return year >= self.year_from and (self.year_to is None or year <= self.year_to)

    def __hash__(self) -> int:
        return hash(self.id)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Format) and other.id == self.id


# ---------------------------------------------------------------- loading


def _node(data: dict, kinds: dict[str, Kind], where: str, depth: int = 0) -> Node:
    if not isinstance(data, dict) or "id" not in data or "label" not in data:
        raise FormatError(f"{where}: every column and row needs an id and a label: {data!r}")
    children = [_node(c, kinds, where, depth + 1) for c in data.get("children", [])]
    kind = data.get("kind")
    if kind is not None and kind not in kinds:
        raise FormatError(f"{where}: unknown kind {kind!r} for {data['id']!r}")
    if children and kind:
        raise FormatError(f"{where}: a header group ({data['id']!r}) cannot have a kind")
    collapse_to = data.get("collapse_to")
    if collapse_to is not None and collapse_to not in {leaf.id for c in children for leaf in c.leaves()}:
        raise FormatError(f"{where}: collapse_to {collapse_to!r} of {data['id']!r} is not one of its rows")
    return Node(
        id=str(data["id"]),
        label=str(data["label"]),
        variants=tuple(data.get("variants", ())),
        kind=kind,
        children=children,
        depth=depth,
        collapse_to=collapse_to,
    )


def _block(data: dict, kinds: dict[str, Kind], where: str) -> Block:
    where = f"{where} block {data.get('id')!r}"
    block = Block(
        id=data["id"],
        caption=data.get("caption"),
        variants=tuple(data.get("variants", ())),
        corner=data.get("corner"),
        columns=[_node(c, kinds, where) for c in data["columns"]],
        rows=[_node(r, kinds, where) for r in data["rows"]],
    )
    for col in block.leaf_columns:
        if col.kind is None:
            raise FormatError(f"{where}: column {col.id!r} has no kind")
    return block


def _expand_over(over: dict | None, fmt: Format, where: str) -> list[dict[str, str]]:
    if not over:
        return [{}]
    bindings: list[dict[str, str]] = [{}]
    for name, values in over.items():
        if isinstance(values, str) and values.startswith("@"):
            table_id, _, what = values[1:].partition(".")
            try:
                table = fmt.table(table_id)
            except KeyError:
                raise FormatError(f"{where}: unknown table in {values!r}") from None
            if what == "columns":
                values = [c.id for c in table.leaf_columns]
            elif what == "rows":
                values = [r.id for r in table.leaf_rows]
            else:
                raise FormatError(f"{where}: {values!r} must be @<table>.columns or @<table>.rows")
        bindings = [{**b, name: str(v)} for b in bindings for v in values]
    return bindings


def _rule(data: dict, fmt: Format) -> Rule:
    where = f"{fmt.path.name} rule {data.get('id')!r}"
    for key in ("id", "kind", "severity", "wording", "message"):
        if key not in data:
            raise FormatError(f"{where}: missing {key!r}")
    if data["severity"] not in SEVERITIES:
        raise FormatError(f"{where}: severity must be one of {sorted(SEVERITIES)}")
    params = {k: v for k, v in data.items() if k not in ("id", "kind", "severity", "wording", "message")}
    rule = Rule(
        id=data["id"],
        kind=data["kind"],
        severity=data["severity"],
        wording=data["wording"],
        message=data["message"],
        params=params,
    )
    if rule.kind in RULE_KINDS_WITH_TERMS:
        if rule.kind == "sum":
            left_src, right_src = [data["total"]], data["terms"]
        else:
            left_src, right_src = data["left"], data["right"]
        for binding in _expand_over(data.get("over"), fmt, where):
            left = tuple(Term.parse(t.format(**binding)) for t in left_src)
            right = tuple(Term.parse(t.format(**binding)) for t in right_src)
            for term in (*left, *right):
                if term.cell not in fmt.cells:
                    raise FormatError(f"{where}: unknown cell {term.cell!r}")
            rule.instances.append(RuleInstance(rule, tuple(binding.items()), left, right))
    for cell_id in [*params.get("cells", []), *(c for group in params.get("also", []) for c in group)]:
        if cell_id not in fmt.cells:
            raise FormatError(f"{where}: unknown cell {cell_id!r}")
    for name in params.get("parts", []):
        if name not in {p.id for p in fmt.parts}:
            raise FormatError(f"{where}: unknown narrative part {name!r}")
    for pattern_key in ("units", "pattern"):
        if pattern_key in params:
            try:
                re.compile(params[pattern_key])
            except re.error as exc:
                raise FormatError(f"{where}: bad regular expression in {pattern_key!r}: {exc}") from None
    return rule


def _cell_id(table: Table, row: Node, column: Node) -> str:
    return ".".join(p for p in (table.id, row.id, column.id) if p)


def load_yaml(path: str | Path) -> Any:
    """A template file's data: YAML parsed safely, with the C parser (libyaml) where PyYAML has
    it (the same data, several times faster: every process that reads a file loads the formats).
    A file of the toolkit's own templates is parsed once and its data kept while it is unchanged
    (:mod:`toolkit.template_cache`); other files are parsed each time."""
    path = Path(path)
    if path.is_relative_to(TEMPLATES_DIR):
        from toolkit.template_cache import load

        return load(path, _parse_file)
    return _parse_file(path)


def _parse_file(path: Path) -> Any:
    return parse_yaml(path.read_text(encoding="utf-8"))


def parse_yaml(text: str) -> Any:
    """YAML text parsed safely, with the C parser where PyYAML has it (see :func:`load_yaml`)."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _yaml_error() -> type[Exception]:
    import yaml

    return yaml.YAMLError


def load_format_file(path: str | Path) -> Format:
    """Load one format definition file and validate it; raises :class:`FormatError`."""
    path = Path(path)
    try:
        data = load_yaml(path)
    except (OSError, _yaml_error()) as exc:
        raise FormatError(f"{path}: cannot read format definition: {exc}") from None
    for key in ("id", "name", "years", "title", "sections", "kinds", "tables", "rules"):
        if key not in data:
            raise FormatError(f"{path.name}: missing top-level key {key!r}")
    kinds = {
        kid: Kind(id=kid, decimals=int(k.get("decimals", 0)), min=k.get("min"), unit=k["unit"])
        for kid, k in data["kinds"].items()
    }
    fmt = Format(
        id=str(data["id"]),
        name=data["name"],
        document=data.get("document", ""),
        year_from=int(data["years"]["from"]),
        year_to=data["years"].get("to"),
        title=data["title"],
        sections=[
            Section(
                id=s["id"],
                label=s["label"],
                variants=tuple(s.get("variants", ())),
                table=s.get("table"),
                parts=tuple(Part(p["id"], p["label"], tuple(p.get("variants", ()))) for p in s.get("parts", ())),
            )
            for s in data["sections"]
        ],
        kinds=kinds,
        tables=[],
        rules=[],
        path=path,
    )
    for t in data["tables"]:
        table = Table(
            id=t["id"],
            number=t["number"],
            sheet=t["sheet"],
            caption=t["caption"],
            blocks=[_block(b, kinds, f"{path.name} table {t['id']!r}") for b in t["blocks"]],
        )
        for block in table.blocks:
            for row in block.leaf_rows:
                for column in block.leaf_columns:
                    cell_id = _cell_id(table, row, column)
                    if cell_id in fmt.cells:
                        raise FormatError(f"{path.name}: duplicate cell id {cell_id!r}")
                    cell = Cell(cell_id, table, block, row, column, kinds[column.kind])
                    fmt.cells[cell_id] = cell
                    table.cells.append(cell)
        fmt.tables.append(table)
    for section in fmt.sections:
        if section.table and section.table not in {t.id for t in fmt.tables}:
            raise FormatError(f"{path.name}: section {section.id!r} names unknown table {section.table!r}")
    rule_ids: set[str] = set()
    for r in data["rules"]:
        rule = _rule(r, fmt)
        if rule.id in rule_ids:
            raise FormatError(f"{path.name}: duplicate rule id {rule.id!r}")
        rule_ids.add(rule.id)
        fmt.rules.append(rule)
    fmt._total_rules = {}
    for rule in fmt.rules:
        if rule.kind != "sum":
            continue
        for inst in rule.instances:
            total = inst.left[0]
            if total.prior or any(t.prior for t in inst.right):
                raise FormatError(f"{path.name}: sum rule {rule.id!r} cannot use last year's values")
            fmt.cells[total.cell].is_total = True
            fmt._total_rules.setdefault(total.cell, inst)
    for cell_id, inst in fmt._total_rules.items():
        if _formula_cycle(fmt, cell_id, set()):
            raise FormatError(f"{path.name}: total {cell_id!r} depends on itself")
    return fmt


def _formula_cycle(fmt: Format, cell_id: str, seen: set[str]) -> bool:
    if cell_id in seen:
        return True
    inst = fmt._total_rules.get(cell_id)
    if inst is None:
        return False
    return any(_formula_cycle(fmt, t.cell, seen | {cell_id}) for t in inst.right)


def format_ids(directory: Path = FORMATS_DIR) -> list[str]:
    if directory == FORMATS_DIR:
        return list(_builtin_format_ids())
    return sorted(p.stem for p in directory.glob("*.yaml"))


@lru_cache(maxsize=1)
def _builtin_format_ids() -> tuple[str, ...]:
    """The formats shipped in ``templates/formats``: listed once per process (every file read
    asks for them)."""
    return tuple(sorted(p.stem for p in FORMATS_DIR.glob("*.yaml")))


@lru_cache(maxsize=None)
def load_format(format_id: str) -> Format:
    """The built-in format ``format_id`` (``"2021"`` or ``"2019"``), cached."""
    path = FORMATS_DIR / f"{format_id}.yaml"
    if not path.is_file():
        raise FormatError(f"未知的报告格式：{format_id}（可用：{'、'.join(format_ids())}）")
    return load_format_file(path)


def all_formats() -> list[Format]:
    return [load_format(fid) for fid in format_ids()]


@lru_cache(maxsize=1)
def newest_first() -> tuple[Format, ...]:
    """The built-in formats, the newest first (the order a file's format is looked for in)."""
    return tuple(sorted(all_formats(), key=lambda f: f.year_from, reverse=True))


def format_for_year(year: int, forced: str | None = None) -> Format:
    """The format that applies to reports on ``year``, unless ``forced`` names one."""
    if forced:
        return load_format(str(forced))
    for fmt in newest_first():
        if fmt.covers(year):
            return fmt
    raise FormatError(f"{year}年没有适用的报告格式（支持2019年及以后的年度报告）")
