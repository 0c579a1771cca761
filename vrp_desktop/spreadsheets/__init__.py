"""Spreadsheet import: the template the app makes, a streaming reader, and the importer."""
