"""Spreadsheet exports that cannot run formulas: every CSV the admin writes is escaped.

A cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which
spreadsheets skip before reading one of those) is taken for a formula when the file is
opened in Excel, LibreOffice or Google Sheets: ``=HYPERLINK(…)`` in a story title or an
interest name becomes a link or a request in the social manager's spreadsheet. Such a
cell gets a leading ``'`` (the OWASP "CSV injection" rule), which spreadsheets show as
text.

Every CSV export in the admin — ours (subscribers, the voice report, the engagement
reports) and Wagtail's own reports (aging pages, locked pages, site history…) — goes
through ``SpreadsheetExportMixin.preprocess_field_value``; Wagtail leaves escaping to
the reader of the file (its security policy, "CSV export security considerations"),
so ``install()`` wraps that one method at start-up (``cms.apps``). XLSX exports need
nothing: Wagtail already stores formula-looking cells as strings there.

Why not a library: defusedcsv wraps the ``csv`` module's writers, which Wagtail creates
itself, and escapes a different set of characters (``|`` and ``%``, not tab or CR).
"""

from wagtail.admin.views.mixins import SpreadsheetExportMixin

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value):
    """``value`` with a leading ``'`` when it is text a spreadsheet would run; numbers,
    dates and other values as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return f"'{value}"
    return value


def install() -> None:
    """Escape every CSV cell of every admin export (idempotent)."""
    original = SpreadsheetExportMixin.preprocess_field_value
    if getattr(original, "escapes_formulas", False):
        return

    def preprocess_field_value(self, field, value, export_format):
        value = original(self, field, value, export_format)
        return escape_formula(value) if export_format == self.FORMAT_CSV else value

    preprocess_field_value.escapes_formulas = True
    SpreadsheetExportMixin.preprocess_field_value = preprocess_field_value
