"""``nianbao demo``: run the county's job on the built-in samples."""

from __future__ import annotations

from pathlib import Path

import typer

from toolkit.cli.root import app
from toolkit.cli.common import fail


@app.command("demo")
def demo_command(
    directory: Path = typer.Argument(Path("nianbao-demo"), help="演示文件写到这个文件夹（默认 ./nianbao-demo）。"),
) -> None:
    """例：nianbao demo（写到 ./nianbao-demo）

    例：nianbao demo 演示文件夹
    """
    from rich.console import Console

    from toolkit.demo import run_demo

    console = Console(highlight=False, soft_wrap=True)
    try:
        result = run_demo(directory, console=console)
    except OSError as exc:
        fail(f"无法写入 {directory}：{exc.strerror or exc}")
    console.print(f"演示文件已写入：{result.out_dir.resolve()}")
    from toolkit.demo.steps import DEMO_YEAR, ROSTER_COPY

    out = result.out_dir
    archive, roster = out / "round" / "nianbao.db", out / ROSTER_COPY
    if archive.exists() and roster.exists():
        console.print(f"在浏览器里继续（网上报送平台）：nianbao serve --archive {archive} --roster {roster} "
                      f"--year {DEMO_YEAR}，然后打开 http://127.0.0.1:8765/")
    raise typer.Exit(0 if result.ok else 1)
