"""``nianbao compare``: a unit's report beside its previous year's (issue 16).

:func:`compare_reports` does the work on two :class:`~toolkit.model.ReportData`;
:func:`load_side` reads one side from a file or the archive; :mod:`toolkit.compare.html` and
:mod:`toolkit.compare.xlsx` write the outputs.
"""

from toolkit.compare.core import (CellChange, Comparison, Flag, compare_reports, compare_template,
                                  cross_year_rule_ids, load_flags)
from toolkit.compare.county import CountyView, county_view
from toolkit.compare.county_outputs import write_county
from toolkit.compare.outputs import OUTPUT_SUFFIXES, write_comparison
from toolkit.compare.sides import CompareInputError, archive_sides, load_side

__all__ = ["OUTPUT_SUFFIXES", "write_comparison", "CountyView", "county_view", "write_county", "CellChange", "Comparison", "CompareInputError", "Flag", "archive_sides", "compare_reports",
           "compare_template", "cross_year_rule_ids", "load_flags", "load_side"]
