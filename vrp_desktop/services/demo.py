"""A realistic synthetic workspace for demos, training and benchmarks.

Eighteen months of work up to today across four interventions (one per built-in framework):
young people aged 10-25 with plausible ethnicity and referral mixes, weekly group sessions
with registers drawn from who is enrolled, 1:1 mentoring and navigator contacts, and baseline
and exit questionnaires. Every name is made up; the seed makes it repeatable.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from vrp_desktop.ids import uuid7
from vrp_desktop.services import bulk, interventions
from vrp_desktop.services import frameworks as fw_service
from vrp_desktop.services.pseudonyms import new_reference
from vrp_desktop.store.engine import bulk_cache

FIRST_NAMES = [
    "Aaliyah",
    "Abdi",
    "Adam",
    "Aisha",
    "Alfie",
    "Amara",
    "Amir",
    "Ava",
    "Ayaan",
    "Bilal",
    "Caleb",
    "Chloe",
    "Daniel",
    "Deja",
    "Dylan",
    "Ebony",
    "Eli",
    "Emily",
    "Ethan",
    "Fatima",
    "Finley",
    "Grace",
    "Hamza",
    "Hannah",
    "Harvey",
    "Ibrahim",
    "Imani",
    "Isaac",
    "Isla",
    "Jamal",
    "Jayden",
    "Jordan",
    "Kai",
    "Kayla",
    "Keanu",
    "Leah",
    "Leon",
    "Liam",
    "Lily",
    "Malik",
    "Maya",
    "Mohammed",
    "Nia",
    "Noah",
    "Olivia",
    "Omar",
    "Priya",
    "Reece",
    "Riley",
    "Rosa",
    "Ruby",
    "Ryan",
    "Sami",
    "Sienna",
    "Tariq",
    "Tyler",
    "Vanessa",
    "Yusuf",
    "Zara",
    "Zain",
]
LAST_NAMES = [
    "Ahmed",
    "Ali",
    "Baker",
    "Begum",
    "Brown",
    "Campbell",
    "Clarke",
    "Davies",
    "Edwards",
    "Evans",
    "Francis",
    "Green",
    "Hall",
    "Hassan",
    "Hughes",
    "Hussain",
    "Iqbal",
    "Jackson",
    "James",
    "Johnson",
    "Jones",
    "Kaur",
    "Khan",
    "Lewis",
    "Mahmood",
    "Martin",
    "Mensah",
    "Mohamed",
    "Morgan",
    "Murphy",
    "Nguyen",
    "Okafor",
    "Osei",
    "Patel",
    "Reid",
    "Roberts",
    "Robinson",
    "Shah",
    "Singh",
    "Smith",
    "Taylor",
    "Thomas",
    "Thompson",
    "Walker",
    "Ward",
    "White",
    "Williams",
    "Wilson",
    "Wright",
    "Yusuf",
]
STREETS = ["Church Road", "High Street", "Park Lane", "Station Road", "Victoria Road", "Mill Lane"]
DISTRICTS = [
    "B1",
    "B4",
    "B5",
    "B6",
    "B7",
    "B8",
    "B9",
    "B10",
    "B11",
    "B12",
    "B16",
    "B18",
    "B19",
    "B20",
    "B21",
    "B23",
    "B33",
    "B36",
    "B44",
]
#: weights loosely shaped on an urban VRP cohort (over-represents groups over-referred)
ETHNICITY_WEIGHTS = {
    "white_british": 34,
    "black_caribbean": 10,
    "black_african": 9,
    "mixed_white_black_caribbean": 9,
    "asian_pakistani": 11,
    "asian_bangladeshi": 4,
    "asian_indian": 3,
    "mixed_other": 3,
    "white_other": 4,
    "other_arab": 2,
    "black_other": 2,
    "asian_other": 2,
    "other_any": 2,
    "mixed_white_asian": 1,
    "white_irish": 1,
    "white_gypsy_irish_traveller": 1,
    "not_stated": 2,
}
GENDER_WEIGHTS = {"male": 72, "female": 25, "non_binary": 1, "prefer_not_to_say": 1, "not_known": 1}

PROGRAMMES = (
    ("Friday Football, Ladywood", "sports_diversion", "community", "Ladywood"),
    ("Trusted Mentors", "mentoring", "community", "City-wide"),
    ("A&E Navigators, City Hospital", "reachable_moment", "hospital", "City Hospital"),
    ("Detached Team, City Centre", "detached_outreach", "street", "City centre"),
)

Progress = Callable[[str, int, int], None]


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _code(entries) -> list[str]:
    return [e.code for e in entries]


#: young people per part written to the store (with their enrolments and questionnaires)
PEOPLE_PART = 5000
#: sessions per part (whole days only, so one day's double-booking is checked in one part)
SESSIONS_PART = 5000


def generate(
    ws,
    *,
    participants: int = 300,
    sessions: int = 2000,
    seed: int = 1,
    progress: Progress | None = None,
    end: dt.datetime | None = None,
) -> dict[str, int]:
    """Add a synthetic dataset to an open workspace through the bulk path.

    Rows are made and written in parts inside one unit (one transaction, one audit event), so
    memory stays flat whatever the size: a part of people with their enrolments and
    questionnaires at a time, then the sessions day by day. What is kept across parts is one
    small tuple per enrolment (who, from when, until when). The seed makes it repeatable.
    """
    ws.require("record")
    rng = random.Random(seed)
    end = end or dt.datetime.now().replace(second=0, microsecond=0) - dt.timedelta(hours=2)
    start = end - dt.timedelta(days=548)
    existing = {i["framework_id"]: i for i in interventions.list_interventions(ws)}
    programmes = []
    for name, framework_id, setting, area in PROGRAMMES:
        row = existing.get(framework_id) or interventions.create_intervention(
            ws, name=name, framework_id=framework_id, setting=setting, area=area
        )
        with ws.read() as session:
            programmes.append((row, fw_service.get(session, framework_id)))

    with ws.unit() as session, bulk_cache(session.connection()):
        writer = bulk.BulkWriter(ws, session, progress=progress)
        #: per programme: (start, end, participant id) of each enrolment
        spans: dict[str, list[tuple[dt.date, dt.date | None, str]]] = {
            row["id"]: [] for row, _ in programmes
        }
        used_references: set[str] = set()
        for first in range(0, participants, PEOPLE_PART):
            count = min(PEOPLE_PART, participants - first)
            people, enrolments = _people(rng, programmes, count, start, end, used_references)
            for e in enrolments:
                spans[e["intervention_id"]].append(
                    (e["start_date"], e["end_date"], e["participant_id"])
                )
            responses = _responses(rng, programmes, enrolments, end.date())
            writer.add(participants=people, enrolments=enrolments, responses=responses)
        for part in _sessions(rng, programmes, spans, sessions, start, end):
            writer.add(sessions=part[0], attendances=part[1])
        writer.finish("demo.generate")
    return writer.counts


def _people(rng, programmes, count, start, end, used_references):
    """``count`` young people, each with one enrolment."""
    people, enrolments = [], []
    for _ in range(count):
        row, framework = programmes[rng.choices(range(4), weights=(35, 25, 15, 25))[0]]
        ages = framework.eligible_ages
        referral = start.date() + dt.timedelta(days=rng.randrange(0, 540))
        begin = min(referral + dt.timedelta(days=rng.randint(0, 21)), end.date())
        age = rng.randint(max(ages.min, 10), min(ages.max, 25))
        # born so that they are exactly ``age`` on the day they start
        anniversary = begin.replace(year=begin.year - age, day=min(begin.day, 28))
        dob = anniversary - dt.timedelta(days=rng.randint(1, 360))
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        pid = uuid7()
        people.append(
            {
                "id": pid,
                "reference": _fresh_reference(used_references),
                "first_name": first,
                "last_name": last,
                "preferred_name": None,
                "date_of_birth": dob,
                "gender": _weighted(rng, GENDER_WEIGHTS),
                "ethnicity": _weighted(rng, ETHNICITY_WEIGHTS),
                "postcode_district": rng.choice(DISTRICTS),
                "address": f"{rng.randint(1, 220)} {rng.choice(STREETS)}",
                "phone": f"07{rng.randint(100000000, 999999999)}",
                "email": f"{first.lower()}.{last.lower()}{rng.randint(1, 99)}@example.org",
                "consent_status": "given" if rng.random() < 0.95 else "not_asked",
                "consent_date": referral,
            }
        )
        if people[-1]["consent_status"] != "given":
            people[-1]["consent_date"] = None
        finished = begin + dt.timedelta(days=rng.randint(42, 300))
        exited = finished < end.date() and rng.random() < 0.7
        enrolment = {
            "id": uuid7(),
            "participant_id": pid,
            "intervention_id": row["id"],
            "referral_source": rng.choice(_code(framework.referral_sources)),
            "referral_date": referral,
            "start_date": begin,
            "end_date": finished if exited else None,
            "exit_reason": rng.choice(
                ["completed", "completed", "completed", "disengaged", "moved_away"]
            )
            if exited
            else None,
            "exit_detail": None,
        }
        if enrolment["exit_reason"] and enrolment["exit_reason"] not in _code(
            framework.exit_reasons
        ):
            enrolment["exit_reason"] = _code(framework.exit_reasons)[0]
        enrolments.append(enrolment)
    return people, enrolments


def _pick_free(
    rng: random.Random,
    active: list[tuple[dt.date, dt.date | None, str]],
    wanted: int,
    booked: set[str],
) -> list[str]:
    """Up to ``wanted`` people from ``active`` not already at a session that day.

    Draws and rejects rather than filtering the whole list, so a million sessions over tens of
    thousands of enrolled people stays linear.
    """
    chosen: dict[str, None] = {}
    for _ in range(wanted * 4):
        if len(chosen) == wanted or not active:
            break
        pid = active[rng.randrange(len(active))][2]
        if pid not in booked:
            chosen[pid] = None
    booked.update(chosen)
    return list(chosen)


def _fresh_reference(used: set[str]) -> str:
    """A reference not yet used in this run (random references collide at 100k people)."""
    while (reference := new_reference()) in used:
        pass
    used.add(reference)
    return reference


def _sessions(rng, programmes, spans, total, start, end):
    """Sessions with their registers, day by day, in parts of whole days.

    Each programme's share of ``total`` is spread evenly over the days; who can attend on a
    day is kept as a running list of open enrolments (enrolments sorted by start are let in
    as their day comes, ended ones dropped), so no day re-reads every enrolment.
    """
    shares = (0.45, 0.25, 0.1, 0.2)
    days = (end.date() - start.date()).days + 1
    plans = []
    for (row, framework), share in zip(programmes, shares, strict=True):
        count = max(1, int(total * share)) if total else 0
        waiting = sorted(spans[row["id"]], key=lambda span: span[0])
        plans.append((row, framework, count, waiting, [0], []))
    sessions: list[dict[str, Any]] = []
    attendances: list[dict[str, Any]] = []
    for index in range(days):
        day = start.date() + dt.timedelta(days=index)
        booked: set[str] = set()  # one session a day each: no double-booking
        for row, framework, count, waiting, next_up, active in plans:
            todays = (index + 1) * count // days - index * count // days
            if not todays:
                continue
            while next_up[0] < len(waiting) and waiting[next_up[0]][0] <= day:
                active.append(waiting[next_up[0]])
                next_up[0] += 1
            active[:] = [span for span in active if span[1] is None or span[1] >= day]
            types = framework.session_types
            dur = framework.duration_minutes
            for _ in range(todays):
                when = dt.datetime.combine(
                    day, dt.time(rng.choice((10, 13, 16, 17, 18, 19)), rng.choice((0, 30)))
                )
                if when > end or when < start:
                    continue
                if "group" in types and (
                    framework.id in ("sports_diversion",) or rng.random() < 0.3
                ):
                    kind = "group"
                elif "one_to_one" in types:
                    kind = "one_to_one"
                else:
                    kind = types[0]
                wanted = rng.randint(4, 14) if kind == "group" else 1
                who = _pick_free(rng, active, wanted, booked)
                if not who:
                    continue
                sid = uuid7()
                sessions.append(
                    {
                        "id": sid,
                        "intervention_id": row["id"],
                        "starts_at": when,
                        "duration_minutes": max(
                            dur.min, min(dur.max, rng.choice((45, 60, 90, 120)))
                        ),
                        "session_type": kind,
                        "mode": framework.modes[0],
                        "location_type": rng.choice(_code(framework.location_types)),
                        "staff": ["demo"],
                        "status": "delivered",
                        "notes": None,
                        "activities": rng.sample(_code(framework.activities), 2),
                    }
                )
                for pid in who:
                    attendances.append(
                        {
                            "id": uuid7(),
                            "session_id": sid,
                            "participant_id": pid,
                            "status": "attended" if rng.random() < 0.9 else "late",
                        }
                    )
        if len(sessions) >= SESSIONS_PART:
            yield sessions, attendances
            sessions, attendances = [], []
    if sessions:
        yield sessions, attendances


def _responses(rng, programmes, enrolments, today: dt.date) -> list[dict[str, Any]]:
    frameworks = {row["id"]: fw for row, fw in programmes}
    rows = []
    for e in enrolments:
        framework = frameworks[e["intervention_id"]]
        if not framework.measures or rng.random() < 0.15:
            continue
        use = framework.measures[0]
        measure = fw_service.measure(use.measure_id)
        values = measure.allowed_values
        for timepoint, anchor in (("baseline", e["start_date"]), ("exit", e["end_date"])):
            if anchor is None or timepoint not in [t.timepoint for t in use.timepoints]:
                continue
            on = min(anchor + dt.timedelta(days=rng.randint(0, 7)), today)
            lean = 0.15 if timepoint == "exit" else 0.0
            answers = [
                values[min(len(values) - 1, int(rng.random() * len(values) + lean))]
                for _ in measure.items
            ]
            rows.append(
                {
                    "id": uuid7(),
                    "participant_id": e["participant_id"],
                    "enrolment_id": e["id"],
                    "measure_id": measure.id,
                    "timepoint": timepoint,
                    "completed_on": on,
                    "answers": answers,
                }
            )
    return rows
