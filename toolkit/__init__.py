"""年报工具箱: standard workbooks, checks and report drafts for 政府信息公开工作年度报告."""

__version__ = "0.1.0"
