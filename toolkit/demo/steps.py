"""``nianbao demo``: the county's job end to end on the built-in samples.

The demo is a list of steps (:data:`STEPS`); each takes the :class:`DemoContext` and returns a
:class:`StepResult`. Steps run in order; a step that fails is recorded and the others still run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from toolkit.checks.catalogue import FindingType
from toolkit.model import ERROR, Finding

DEMO_YEAR = 2025
DEMO_DEADLINE = dt.date(DEMO_YEAR + 1, 1, 15)
DEMO_CONTACT = {"office": "县政务公开办", "name": "李明", "phone": "0370-8112345",
                "email": "zwgk@suixian.example.cn"}


def samples_dir() -> Path:
    """The built-in samples: ``samples/`` in a checkout, ``toolkit/_samples`` when installed."""
    here = Path(__file__).resolve().parents[1]
    for candidate in (here / "_samples", here.parent / "samples"):
        if (candidate / "roster.csv").is_file():
            return candidate
    raise FileNotFoundError("samples/ not found next to the toolkit package")


class DemoStepFailed(FindingType):
    code = "demo-step-failed"
    severity = ERROR
    title = "演示步骤失败"
    template = "{step}失败：{reason}"
    description = "A step of `nianbao demo` raised; the other steps still ran."


@dataclass
class DemoContext:
    out_dir: Path
    samples: Path
    year: int = DEMO_YEAR
    deadline: dt.date = DEMO_DEADLINE
    contact: dict = field(default_factory=lambda: dict(DEMO_CONTACT))
    console: Any = None
    shared: dict[str, Any] = field(default_factory=dict)  # what a step leaves for later steps

    def say(self, text: str) -> None:
        if self.console is not None:
            self.console.print(text)


@dataclass
class StepResult:
    name: str
    title: str
    summary: str
    paths: list[Path] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    ok: bool = True


@dataclass
class DemoResult:
    out_dir: Path
    steps: list[StepResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps)


@dataclass(frozen=True)
class Step:
    name: str
    title: str
    run: Callable[[DemoContext], StepResult]


ROSTER_COPY = "roster.csv"
RETURNED_COPY = "returned"


def _copy_samples(ctx: DemoContext) -> tuple[Path, Path]:
    """The sample roster and returned workbooks, copied into the demo folder (written
    atomically), so that every command can be tried again on them there."""
    from toolkit.files import write_bytes_atomic

    roster = ctx.out_dir / ROSTER_COPY
    write_bytes_atomic(roster, (ctx.samples / "roster.csv").read_bytes())
    returned = ctx.out_dir / RETURNED_COPY
    returned.mkdir(exist_ok=True)
    for sample in sorted((ctx.samples / "returned").iterdir()):
        if sample.is_file() and not sample.name.startswith("."):
            write_bytes_atomic(returned / sample.name, sample.read_bytes())
    ctx.shared["roster"], ctx.shared["returned"] = roster, returned
    return roster, returned


def _blank_step(ctx: DemoContext) -> StepResult:
    from toolkit.blank import make_blanks

    roster, _ = _copy_samples(ctx)
    outbox = ctx.out_dir / "blank"
    batch = make_blanks(roster, ctx.year, outbox, deadline=ctx.deadline, contact=ctx.contact)
    ctx.shared["blank"] = batch
    paths = [path for _, path in batch.written]
    summary = (f"为样例名册中的 {len(paths)} 个单位生成了{ctx.year}年度空白填报表（{batch.format.name}），保存在 {outbox}；"
               f"样例名册复制为 {roster}，可用它重试：nianbao blank --roster {roster} --year {ctx.year} --out-dir 新文件夹")
    return StepResult("blank", "生成空白填报表", summary, [roster, *paths], list(batch.findings),
                      ok=batch.ok and bool(paths))


def _check_step(ctx: DemoContext) -> StepResult:
    from toolkit.batch import check_paths
    from toolkit.output_labels import counts_text, file_status_label

    if "returned" not in ctx.shared:
        _copy_samples(ctx)
    returned, roster = ctx.shared["returned"], ctx.shared["roster"]
    annotated = ctx.out_dir / "annotated"
    summary = ctx.out_dir / f"{ctx.year}年度填报表校验汇总.xlsx"
    report = check_paths([returned], roster=roster, year=ctx.year, annotate=annotated, summary=summary)
    ctx.shared["check"] = report
    for file in report.files:
        state = file_status_label(file) + (f"（{counts_text(file.errors, file.warnings)}）" if file.findings else "")
        ctx.say(f"    {Path(file.path).name}：{state}")
    errors = sum(1 for f in report.files if not f.valid)
    summary_text = (f"校验了乡镇和部门退回的 {len(report.files)} 个样例填报表（复制在 {returned}）："
                    f"{len(report.files) - errors} 个无错误，{errors} 个有错误（样例中的错误是有意的）；"
                    f"批注副本在 {annotated}，汇总表 {summary}；可重试：nianbao check {returned} --roster {roster}")
    return StepResult("check", "校验退回的填报表", summary_text, [annotated, summary], ok=bool(report.files))


def _render_step(ctx: DemoContext) -> StepResult:
    from toolkit.render import render_many

    report = ctx.shared.get("check")
    sources = [Path(f.path) for f in report.files if f.valid] if report else []
    out = ctx.out_dir / "reports"
    results = [r for to in ("html", "docx") for r in render_many(sources, to, out)]
    written = [r.out for r in results if r.out is not None]
    summary = f"为校验通过的 {len(sources)} 个单位生成了年度报告草稿（网页和 Word）共 {len(written)} 个，保存在 {out}"
    return StepResult("render", "生成年度报告草稿", summary, written, ok=bool(written) and all(r.ok for r in results))


def _round_step(ctx: DemoContext) -> StepResult:
    from toolkit.demo.round import demo_round

    result = demo_round(ctx.out_dir / "round", ctx.shared.get("roster", ctx.samples / "roster.csv"), ctx.year,
                        deadline=ctx.deadline, contact=ctx.contact)
    ctx.shared["round"] = result
    for line in result.lines:
        ctx.say(f"    {line}")
    summary = f"完整演示一轮工作（发送、退回、校验入档、催报、跨年度核对），邮件草稿在 {result.outbox}"
    return StepResult("round", "年度报送全过程", summary, [result.out_dir], ok=result.ok)


def _audit_step(ctx: DemoContext) -> StepResult:
    from toolkit.audit import audit_reports
    from toolkit.audit.outputs import write_html, write_xlsx

    drafts = sorted((ctx.out_dir / "reports").glob("*.html"))
    result = audit_reports(drafts)
    written = [write_html(result, ctx.out_dir / "audit.html"), write_xlsx(result, ctx.out_dir / "audit.xlsx")]
    scores = "、".join(f"{r.unit}{r.score:g}分" for r in result.ranking())
    summary = f"按评估机构的做法给 {len(drafts)} 份报告草稿打分（{scores}），评分表在 {written[0]}"
    return StepResult("audit", "评估已发布的年度报告", summary, written, ok=bool(drafts))


def _compare_step(ctx: DemoContext) -> StepResult:
    from toolkit.compare import compare_reports
    from toolkit.compare.outputs import write_comparison
    from toolkit.compare.sides import archive_sides

    played = ctx.shared.get("round")
    data = played.next_year.files[0].data if played is not None else None
    if data is None:
        return StepResult("compare", "两年对比", "没有可对比的两个年度", ok=False)
    last, this = archive_sides(played.archive, data.unit, (ctx.year, ctx.year + 1))
    comparison = compare_reports(last, this)
    written = [write_comparison(comparison, ctx.out_dir / f"对比_{data.unit}.{to}") for to in ("html", "xlsx")]
    changed = sum(1 for c in comparison.cells if c.change)
    summary = (f"{data.unit}{ctx.year}年与{ctx.year + 1}年逐格对比：{changed}个单元格有变化，发现问题"
               f"{len(comparison.findings)}处（跨年度核对、文字照搬等），对比表在 {written[0]}；可重试：nianbao compare "
               f"{data.unit} --archive {played.archive} --years {ctx.year} {ctx.year + 1} -o 对比.html")
    return StepResult("compare", "两年对比", summary, written, ok=True)


def _county_step(ctx: DemoContext) -> StepResult:
    from toolkit.archive import Archive
    from toolkit.checks.engine import check_data
    from toolkit.compare.county import county_view
    from toolkit.compare.county_outputs import write_county
    from toolkit.demo.synthetic import synthetic_report
    from toolkit.formats import format_for_year

    played = ctx.shared.get("round")
    if played is None:
        return StepResult("county", "各单位历年数据", "没有可用的年报档案", ok=False)
    next_year = ctx.year + 1
    with Archive(played.archive) as archive:  # the other units' next year, as if returned too
        for unit in archive.units():
            this = archive.data(unit, ctx.year)
            if this is None or archive.data(unit, next_year) is not None:
                continue
            data = synthetic_report(format_for_year(next_year), unit, next_year, seed=1, prior=this)
            archive.record_data(data, check_data(data, prior=this), source="check")
    view = county_view(played.archive)
    written = [write_county(view, ctx.out_dir / f"各单位历年数据.{to}") for to in ("html", "xlsx")]
    summary = (f"{len(view.units)}个单位{view.years[0]}–{view.years[-1]}年的主要数据列成一张表：与上年相比变化较大"
               f"{len(view.flagged())}处，跨年度错误{view.errors}个，表在 {written[0]}；可重试：nianbao compare "
               f"--archive {played.archive} --county -o 各单位历年数据.xlsx")
    return StepResult("county", "各单位历年数据", summary, written, ok=bool(view.units))


STEPS: list[Step] = [
    Step("blank", "生成空白填报表", _blank_step),
    Step("check", "校验退回的填报表", _check_step),
    Step("render", "生成年度报告草稿", _render_step),
    Step("audit", "评估已发布的年度报告", _audit_step),
    Step("round", "年度报送全过程", _round_step),
    Step("compare", "两年对比", _compare_step),
    Step("county", "各单位历年数据", _county_step),
]


def run_demo(out_dir: str | Path, console: Any = None) -> DemoResult:
    """Run every demo step, writing into ``out_dir``; ``console`` (rich) gets a line per step."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx = DemoContext(out_dir=out_dir, samples=samples_dir(), console=console)
    result = DemoResult(out_dir)
    for step in STEPS:
        ctx.say(f"[bold]{step.title}[/bold]")
        try:
            outcome = step.run(ctx)
        except Exception as exc:  # one failing step must not hide the others
            finding = DemoStepFailed.make(step=step.title, reason=f"{type(exc).__name__}: {exc}")
            outcome = StepResult(step.name, step.title, finding.message, findings=[finding], ok=False)
        result.steps.append(outcome)
        mark = "[green]✓[/green]" if outcome.ok else "[red]✗[/red]"
        ctx.say(f"{mark} {outcome.summary}")
    return result
