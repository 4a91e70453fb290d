"""``nianbao formats``: list the official formats the toolkit knows."""

from __future__ import annotations

import typer

from toolkit.cli.root import app
from toolkit.cli.common import json_option, print_json


@app.command("formats")
def formats_command(
    as_json: bool = json_option(),
) -> None:
    from toolkit.formats import all_formats

    formats = all_formats()
    if as_json:
        print_json([
            {"id": f.id, "name": f.name, "year_from": f.year_from, "year_to": f.year_to,
             "cells": len(f.cells), "rules": [r.id for r in f.rules]}
            for f in formats
        ])
        return
    for f in formats:
        years = f"{f.year_from}–{f.year_to}" if f.year_to else f"{f.year_from}年起"
        typer.echo(f"{f.id}\t{f.name}\t适用年度：{years}\t单元格{len(f.cells)}个\t规则{len(f.rules)}条")
