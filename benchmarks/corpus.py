"""The bench's workbooks: filled by the toolkit itself for made-up units, clean ones and ones
with the mistakes townships make."""

from __future__ import annotations

import csv
import os
import random
import re
import shutil
import zipfile
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from pathlib import Path



YEAR = 2025
FORMAT = "2021"

_FIRST = "蓼城东西南北石河桥湖山林田溪岭坪塘岗庄集店铺口关寨营堡湾滩洲坝沟峪泉水新安平和兴隆丰"
_SECOND = "堤关湖桥港店集口镇铺坊岗庄湾寨村园营坝头岭沟冈埠垣驿渡亭台阁楼源泉溪川"
_KINDS = ("镇人民政府", "乡人民政府", "街道办事处", "镇人民政府", "乡人民政府")
_OFFICES = ("县教育局", "县民政局", "县财政局", "县自然资源局", "县住房和城乡建设局", "县交通运输局",
            "县农业农村局", "县卫生健康委员会", "县市场监督管理局", "县生态环境分局")

# what share of the files carry each mistake (the rest are clean)
MISTAKES = (
    ("balance", 0.08),  # 表三 does not balance in one column
    ("typed_over_wrong", 0.05),  # a total's formula typed over with a wrong number
    ("typed_over_right", 0.04),  # ... with the right number (a warning)
    ("text", 0.06),  # "12件", "/", "无" typed into number cells
    ("blank", 0.05),  # input cells left empty
    ("negative", 0.03),  # a negative count
    ("narrative", 0.04),  # the text's count of applications differs from 表三
    ("township_rules", 0.03),  # a township reporting 规章
)


def unit_names(n: int) -> list[str]:
    """``n`` distinct, plausible unit names (townships, sub-districts, county offices)."""
    names: list[str] = []
    seen: set[str] = set()
    rng = random.Random(6)
    while len(names) < n:
        if rng.random() < 0.08:
            name = rng.choice(_FIRST) + rng.choice(_SECOND) + rng.choice(_OFFICES)[1:]
            name = "县" + name if not name.startswith("县") else name
        else:
            name = rng.choice(_FIRST) + rng.choice(_SECOND) + rng.choice(_KINDS)
        if name not in seen:
            seen.add(name)
            names.append(name)
        if len(seen) > len(_FIRST) * len(_SECOND) * 4:
            raise ValueError("too many units asked for")
    return names


def mistake_for(index: int) -> str:
    rng = random.Random(f"mistake|{index}")
    x, acc = rng.random(), 0.0
    for name, share in MISTAKES:
        acc += share
        if x < acc:
            return name
    return "clean"


def _make_one(args: tuple[int, str, str]) -> tuple[str, str]:
    """Write one returned workbook; returns (file name, mistake)."""
    index, unit, out_dir = args
    from toolkit.blank import blank_file_name
    from toolkit.formats import load_format
    from toolkit.demo.synthetic import synthetic_report
    from toolkit.round import cell_value
    from toolkit.layout import cell_addresses
    from toolkit.workbook.writer import write_workbook

    fmt = load_format(FORMAT)
    data = synthetic_report(fmt, unit, YEAR, seed=index)
    mistake = mistake_for(index)
    rng = random.Random(index)
    addresses = cell_addresses(fmt)
    inputs = [c.id for c in fmt.input_cells if c.table.id in ("t2", "t4")]
    patches: dict[str, tuple[str, str]] = {}  # cell id -> ("text"|"number", value)
    if mistake == "balance":
        col = rng.choice([c.id for c in fmt.table("t3").leaf_columns if c.id != "total"])
        data.values[f"t3.new.{col}"] = (data.values.get(f"t3.new.{col}") or Decimal(0)) + rng.randint(1, 3)
    elif mistake == "negative":
        data.values[rng.choice([c for c in inputs if not fmt.cell(c).kind.signed])] = Decimal(-rng.randint(1, 5))
    elif mistake == "blank":
        for cell_id in rng.sample(inputs, 3):
            data.values[cell_id] = None
    elif mistake == "narrative":
        total = data.values.get("t3.new.total") or Decimal(0)
        data.narrative["overview.on_request"] = f"{YEAR}年共收到政府信息公开申请{total + 3}件，均已按期答复。"
    elif mistake == "township_rules" and "t2.rules.made" in fmt.cells:
        data.values["t2.rules.made"] = Decimal(1)
        data.values["t2.rules.in_force"] = (data.values.get("t2.rules.in_force") or Decimal(0)) + 1
    elif mistake == "text":
        for cell_id, text in zip(rng.sample(inputs, 3), ("12件", "/", "无")):
            patches[cell_id] = ("text", text)
    elif mistake in ("typed_over_wrong", "typed_over_right"):
        cell_id = rng.choice([c.id for c in fmt.total_cells if c.table.id in ("t3", "t4")])
        right = cell_value(fmt, dict(data.values), cell_id) or Decimal(0)
        patches[cell_id] = ("number", str(right + (rng.randint(1, 9) if mistake == "typed_over_wrong" else 0)))
    path = Path(out_dir) / blank_file_name(unit, YEAR)
    write_workbook(path, fmt, unit=unit, year=YEAR, data=data, generated_at=_FIXED_TIME)
    if patches:
        _patch_cells(path, {addresses[c]: v for c, v in patches.items()})
    return path.name, mistake


def _fixed_time():
    import datetime as dt

    return dt.datetime(2026, 1, 5, 9, 0, 0)


_FIXED_TIME = _fixed_time()


def _patch_cells(path: Path, patches: dict) -> None:
    """Type into cells of a written workbook as Excel saves it: a number over a formula, or text
    (an inline string) into a number cell. Everything else in the file stays as written."""
    with zipfile.ZipFile(path) as zf:
        entries = [(info, zf.read(info.filename)) for info in zf.infolist()]
        workbook = zf.read("xl/workbook.xml").decode()
        rels = zf.read("xl/_rels/workbook.xml.rels").decode()
    targets = {}
    for name, rid in re.findall(r'<sheet [^>]*name="([^"]+)"[^>]*r:id="(rId\d+)"', workbook):
        target = re.search(rf'<Relationship [^>]*Id="{rid}"[^>]*Target="([^"]+)"', rels).group(1)
        targets[name] = "xl/" + target.lstrip("/").removeprefix("xl/")
    by_part: dict[str, list] = {}
    for addr, value in patches.items():
        by_part.setdefault(targets[addr.sheet], []).append((addr.a1, value))
    out = []
    for info, content in entries:
        if info.filename in by_part:
            xml = content.decode()
            for ref, (kind, value) in by_part[info.filename]:
                cell = re.compile(rf'<c r="{ref}"([^>]*?)(?:\s+t="[^"]*")?(?:/>|>.*?</c>)')
                if kind == "text":
                    new = rf'<c r="{ref}"\1 t="inlineStr"><is><t>{value}</t></is></c>'
                else:
                    new = rf'<c r="{ref}"\1><v>{value}</v></c>'
                xml, n = cell.subn(new, xml, count=1)
                if n != 1:
                    raise RuntimeError(f"cell {ref} not found in {info.filename}")
            content = xml.encode()
        out.append((info, content))
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, content in out:
            zf.writestr(info, content, compress_type=zipfile.ZIP_DEFLATED)
    os.replace(tmp, path)


def generate(out_dir: Path, n: int, workers: int = 2) -> dict[str, int]:
    """``n`` returned workbooks and ``roster.csv`` in ``out_dir``; returns mistake -> count."""
    files = out_dir / "returned"
    files.mkdir(parents=True, exist_ok=True)
    units = unit_names(n)
    with open(out_dir / "roster.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["单位名称", "联系人", "联系电话"])
        for i, unit in enumerate(units):
            writer.writerow([unit, "张三", f"0370-{8100000 + i}"])
    counts: dict[str, int] = {}
    jobs = [(i, unit, str(files)) for i, unit in enumerate(units)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for _, mistake in pool.map(_make_one, jobs, chunksize=16):
            counts[mistake] = counts.get(mistake, 0) + 1
    return counts


def replicate(src: Path, dst: Path, n: int) -> Path:
    """A folder of ``n`` workbooks made of hard links (else copies) to the files in ``src``."""
    dst.mkdir(parents=True, exist_ok=True)
    files = sorted(src.glob("*.xlsx"))
    for i in range(n):
        f = files[i % len(files)]
        target = dst / f"{i // len(files):02d}_{f.name}"
        if not target.exists():
            try:
                os.link(f, target)
            except OSError:
                shutil.copyfile(f, target)
    return dst
