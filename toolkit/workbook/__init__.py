"""Workbooks: write the blank standard workbook, read returned ones, annotate copies."""

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".et", ".ods", ".xlsb", ".ett", ".xltx", ".xltm")
"""The suffixes of the workbook files the toolkit reads (:func:`toolkit.workbook.reader.read_workbook`)."""
