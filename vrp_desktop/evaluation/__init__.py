"""Impact and evaluation for the oversight group: paired change with intervals, reliable and
meaningful change, band movement, attrition, dose and inequalities, per intervention, provider,
intervention type and in total, with the partnership's small-number rule applied.

Modules, one job each: ``period`` (which dates), ``definitions`` (measure norms and evidence
strands as data), ``data`` (the SQL), ``stats`` and ``inequality`` (scipy.stats), ``protect``
(the one door to disclosure control), ``build`` (figures into protected tables) and ``pack``
(the workbook). Qt-free: the PDF is drawn by ``ui/evaluation_pdf.py`` when asked for.
"""
