"""Quarterly returns: aggregation in SQL, small-number suppression, the return workbook and the
record-level export."""
