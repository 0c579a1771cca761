"""Disclosure control for everything the partnership publishes about a period.

A *release* is every published table of every workbook for one period (a provider's return,
the partnership return, later the evaluation pack) seen as one system of linear constraints
over counts of people (``release``): each count is keyed by what it counts, so a margin printed
in several tables, or by two workbooks, is one unknown; totals are sums of their parts, or lie
between the largest part and the sum where one person can be in several parts.

The partnership's rule (``rule``; data in the framework pack) hides counts from 1 to
threshold - 1 (primary suppression). An attacker who knows the rule treats such a cell as an
integer in 1..threshold-1 and any complementary (``[c]``) cell as an integer >= 0, and solves
for each hidden cell's smallest and largest value (``intervals``). Complementary suppressions
(``protect``) are added until no hidden cell's feasible range is narrower than the rule
promises: a ``<5`` must still be anywhere from 1 to 4, and every hidden cell at least that wide.

Why this method: it is the established audit-and-repair approach to cell suppression (the
"feasibility interval" check behind tau-Argus's audit, with a greedy repair rather than the
optimal Fischetti–Salazar model), built on a maintained solver already in the project
(HiGHS through ``scipy.optimize.milp``). Unlike the bridge test it replaces, it reasons with
the bounds an attacker knows, across tables and across workbooks; and it checks with an integer
program, so a protected release is protected against an integer attack, not only a linear one.
The repair is greedy, so it may hide a few more cells than an optimal model would; it is
deterministic, so a provider and the partnership working from the same figures choose the same
cells.

Speed: every answer about a hidden cell is exact, but it is found the cheapest way that settles
it (``intervals``: earlier solutions, propagation, the linear relaxation, then integer programs
one end at a time), over a release written once as a sparse matrix (``solutions``). Only the
choice of complementary cells on a very large model (or, with ``quick_repair``, on any but a
small one) is a linear program rounded up (``protect.complements``), which may hide a little
more; the check after it is exact again. A large release made of parts (the evaluation pack's
units) is protected part by part first and then whole, from what the parts hid
(``hidden_from_start``).

Public API (stable; the evaluation pack calls it)::

    release = Release(); release.grid(...); release.relate(...)
    protection = protect(release, rule, already_published=(earlier_protection, ...))
    protection.mark(key) / protection.shown(key) / protection.ranges
"""

from vrp_desktop.disclosure.intervals import groups, ranges
from vrp_desktop.disclosure.protect import Protection, deficit, protect
from vrp_desktop.disclosure.release import Key, Relation, Release, ReleaseError
from vrp_desktop.disclosure.rule import DEFAULT_THRESHOLD, SECONDARY_MARK, Rule

__all__ = [
    "DEFAULT_THRESHOLD",
    "SECONDARY_MARK",
    "Key",
    "Protection",
    "Relation",
    "Release",
    "ReleaseError",
    "Rule",
    "deficit",
    "groups",
    "protect",
    "ranges",
]
