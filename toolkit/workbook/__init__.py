"""Workbooks: write the blank standard workbook, read returned ones, annotate copies."""
