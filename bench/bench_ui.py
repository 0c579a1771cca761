"""Desktop responsiveness: start-up, unlock with 100k participants, search as you type, scrolling.

    .venv/bin/python -m bench.bench_ui [--participants 100000] [--quick] [--workspace DIR]

All on the offscreen platform. Four parts, each printed beside a baseline from the same run:

1. Start-up: wall clock from spawning ``python -m ui --workspace W --exit-when-shown`` to the
   unlock screen's first paint, beside ``python -m bench.bare_window`` (QApplication, a
   QMainWindow with a label, quit at its first paint) started the same way. Runs alternate, one
   warm-up of each is not counted (it fills the children's bytecode cache: an installed app
   loads ``.pyc`` files, see ``bench_startup.with_bytecode_cache``). Target: within 1.5x of the
   bare window.
2. Unlock: in a fresh process per run (so page imports are as cold as a person's first unlock),
   the real main window shows its unlock screen; then ``Workspace.open_with_key`` runs on the
   store thread (the "remembered on this device" path, so no Argon2id) and hands the workspace
   to the unlock screen as a passphrase unlock would. Timed to the main window's first paint and
   to the Today page painted with its figures. Baseline: the same on an empty workspace. The
   Argon2id derive of the strong profile, which a passphrase unlock adds, is timed on its own.
3. Search: ParticipantsPage on the big workspace; 1-4 letter prefixes of real names typed with
   ``QTest.keyClicks`` over a selected search box. Timed from the debounce timer firing, and from
   the last keystroke (so including the 150 ms pause), to the table's first paint after the
   model's reset. Baseline: the same first page read straight from the store (the page paints
   it before counting; the count, capped, follows in a job of its own). The page starts that
   read at each keystroke (``ParticipantsModel.read_ahead``), so it overlaps the pause and
   "store reads" in the breakdown is near zero when it has finished by then.
   Target: under 50 ms from the timer (so under 200 ms from the keystroke).
4. Scroll: the whole register listed; the scroll bar moved to the bottom, timed to the next page
   inserted and painted (``fetchMore``), near the top and again with ~all rows loaded.
   Baseline: the same page read straight from the store.

Targets are printed, never asserted. ``--profile`` adds cProfile listings of the search.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import math
import os
import pstats
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.bench_startup import make_workspace, time_once, with_bytecode_cache

ROOT = Path(__file__).resolve().parent.parent
PASSPHRASE = "bench passphrase 2026"  # the one bench_startup.make_workspace uses
START_TARGET_RATIO = 1.5
SEARCH_TARGET_MS = 50.0
UNLOCK_TARGET_RATIO = 1.5
PARTS = ("start", "unlock", "search", "scroll")
UNLOCK_MARK = "VRP_UNLOCK "


# -- small helpers ----------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0-100); NaN for no values."""
    clean = sorted(v for v in values if not math.isnan(v))
    if not clean:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(clean)))
    return clean[rank - 1]


def median(values: list[float]) -> float:
    clean = [v for v in values if not math.isnan(v)]
    return statistics.median(clean) if clean else math.nan


def fmt_ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:,.0f} ms"


def fmt_ratio(figure: float, baseline: float) -> str:
    if math.isnan(figure) or math.isnan(baseline) or baseline <= 0:
        return "-"
    return f"{figure / baseline:.2f}x"


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str, str, str]] = []

    def add(
        self,
        figure: str,
        value: str,
        baseline: str = "-",
        ratio: str = "-",
        target: str = "-",
        verdict: str = "info",
    ) -> None:
        self.rows.append((figure, value, baseline, ratio, target, verdict))

    def print(self) -> None:
        head = ("Figure", "Measured", "Baseline", "Ratio", "Target", "")
        widths = [max(len(r[i]) for r in [head, *self.rows]) for i in range(6)]
        line = "  ".join(f"{{:<{w}}}" for w in widths)
        print(line.format(*head))
        print("  ".join("-" * w for w in widths))
        for row in self.rows:
            print(line.format(*row))


def verdict(ok: bool | None) -> str:
    return "info" if ok is None else ("OK" if ok else "MISS")


# -- the workspace ----------------------------------------------------------------------------


def prepare_workspace(args: argparse.Namespace, tmp: Path) -> tuple[Path, str, str]:
    """(folder, username, passphrase) of the big workspace: given, or made here with the demo."""
    if args.workspace:
        passphrase = os.environ.get("VRP_PASSPHRASE", PASSPHRASE)
        return Path(args.workspace), args.user, passphrase
    from vrp_desktop.services import demo
    from vrp_desktop.workspace import Workspace

    folder = tmp / "big"
    ws, _code = Workspace.create(
        folder,
        provider_code="BENCH",
        provider_name="Bench provider",
        username="bench",
        passphrase=PASSPHRASE,
    )
    started = time.perf_counter()
    with ws:
        demo.generate(ws, participants=args.participants, sessions=args.sessions, seed=args.seed)
    print(
        f"  (made a demo workspace of {args.participants:,} participants and "
        f"{args.sessions:,} sessions in {time.perf_counter() - started:.0f} s; not a figure)"
    )
    return folder, "bench", PASSPHRASE


def master_key(folder: Path, username: str, passphrase: str) -> bytes:
    from vrp_desktop.workspace import Workspace

    ws = Workspace.open(folder, username, passphrase)
    try:
        return ws.master_key
    finally:
        ws.close()


def argon2id_seconds(runs: int) -> list[float]:
    """The strong profile's derive, which a passphrase unlock adds before anything else."""
    import secrets

    from vrp_desktop.crypto import kdf

    params = kdf.KdfParams(algorithm=kdf.ALGORITHM, salt=secrets.token_bytes(16), **kdf.STRONG)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        kdf.derive(PASSPHRASE, params)
        times.append(time.perf_counter() - started)
    return times


# -- part 1: start-up -------------------------------------------------------------------------


def startup(env: dict[str, str], workspace: Path, runs: int) -> dict[str, list[float]]:
    commands = {
        "app": [sys.executable, "-m", "ui", "--workspace", str(workspace), "--exit-when-shown"],
        "bare": [sys.executable, "-m", "bench.bare_window"],
    }
    for command in commands.values():  # warm-up: file cache, font cache
        time_once(command, env)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            times[name].append(time_once(command, env))
    return times


# -- part 2: unlock (run in a child process per measurement) ----------------------------------


def unlock_once(env: dict[str, str], folder: Path, username: str, key: bytes) -> dict[str, float]:
    command = [
        sys.executable,
        "-m",
        "bench.bench_ui",
        "--unlock-child",
        str(folder),
        "--user",
        username,
    ]
    done = subprocess.run(
        command, env=env, input=key.hex() + "\n", capture_output=True, text=True, timeout=300
    )
    for line in done.stdout.splitlines():
        if line.startswith(UNLOCK_MARK):
            return json.loads(line[len(UNLOCK_MARK) :])
    raise RuntimeError(f"unlock run exited {done.returncode}:\n{done.stderr[-3000:]}")


def unlock_child(folder: Path, username: str) -> int:
    """One unlock, timed from handing the key to the store thread; prints ``VRP_UNLOCK {json}``."""
    key = bytes.fromhex(sys.stdin.readline().strip())
    from PySide6.QtCore import QCoreApplication, QEvent, QObject, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    QCoreApplication.setOrganizationName("VRP")
    QCoreApplication.setApplicationName("VRP Desktop")
    app = QApplication(sys.argv[:1])
    from ui import theme
    from ui.main_window import MainWindow
    from ui.worker import StoreRunner
    from vrp_desktop.workspace import Workspace

    theme.apply(app)
    settings = QSettings(
        str(Path(tempfile.mkdtemp(prefix="vrp-ui-")) / "w.ini"), QSettings.Format.IniFormat
    )
    runner = StoreRunner()
    window = MainWindow(folder, runner=runner, settings=settings)
    window.resize(1366, 768)
    marks: dict[str, float] = {}
    today_paints: list[float] = []

    class Watch(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                now = time.perf_counter()
                if "unlock_painted" not in marks and obj is window.unlock_screen:
                    marks["unlock_painted"] = now
                elif "t0" in marks and "main" not in marks and _within(window.main_area, obj):
                    marks["main"] = now
                page = window.pages.get("today")
                ready = page is not None and getattr(page, "data", None) is not None
                if ready and _within(page, obj):
                    today_paints.append(now)
            return False

    watch = Watch(app)
    app.installEventFilter(watch)
    original = window._show_attention

    def attention(counts: dict[str, int]) -> None:
        marks.setdefault("attention", time.perf_counter())
        original(counts)

    window._show_attention = attention  # bound per instance at submit time
    window.show()
    _spin(lambda: "unlock_painted" in marks, 30)
    _spin(lambda: False, 0.3)  # let the unlock screen settle

    def opened(ws: Workspace) -> None:
        marks["open"] = time.perf_counter()
        window.unlock_screen._done(ws)  # what a passphrase unlock does next

    marks["t0"] = time.perf_counter()
    runner.submit(Workspace.open_with_key, folder, key, username, on_done=opened, on_error=print)

    def settled() -> bool:  # today painted with its figures and quiet for 300 ms
        return bool(today_paints) and time.perf_counter() - today_paints[-1] > 0.3

    _spin(lambda: settled() and "attention" in marks, 120)
    t0 = marks["t0"]
    result = {
        "open": marks.get("open", math.nan) - t0,
        "main": marks.get("main", math.nan) - t0,
        "today": (today_paints[-1] if today_paints else math.nan) - t0,
        "attention": marks.get("attention", math.nan) - t0,
    }
    print(UNLOCK_MARK + json.dumps(result), flush=True)
    app.removeEventFilter(watch)
    window.shutdown()
    QTimer.singleShot(0, app.quit)
    app.exec()
    return 0


def _within(ancestor, obj) -> bool:
    from PySide6.QtWidgets import QWidget

    return isinstance(obj, QWidget) and (obj is ancestor or ancestor.isAncestorOf(obj))


def _spin(predicate: Callable[[], bool], seconds: float) -> bool:
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    deadline = time.perf_counter() + seconds
    while not predicate():
        if time.perf_counter() >= deadline:
            return False
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        time.sleep(0.002)
    return True


# -- parts 3 and 4: search and scroll, in this process ----------------------------------------


class PaintProbe:
    """Times a page's search: debounce fired, model reset/rows inserted, list painted."""

    def __init__(self, page) -> None:
        from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer

        self.page = page
        self.marks: dict[str, float] = {}
        self.loop = QEventLoop()
        self.waiting_for = ""
        probe = self

        class Filter(QObject):
            def eventFilter(self, obj, event) -> bool:
                if event.type() == QEvent.Type.Paint:
                    probe._painted()
                return False

        self.filter = Filter()
        self.timeout = QTimer()  # one timer, so an old wait's time limit never ends a new wait
        self.timeout.setSingleShot(True)
        self.timeout.timeout.connect(self.loop.quit)
        page.table.viewport().installEventFilter(self.filter)
        page.empty.installEventFilter(self.filter)
        # mark the debounce firing before the page's own slot runs (slots run in connection order)
        page._timer.timeout.disconnect(page.run_search)
        page._timer.timeout.connect(lambda: self.mark("fire"))
        page._timer.timeout.connect(page.run_search)
        page.model.modelReset.connect(lambda: self.mark("changed"))
        page.model.rowsInserted.connect(lambda *_a: self.mark("changed"))

    def mark(self, name: str) -> None:
        self.marks.setdefault(name, time.perf_counter())

    def _painted(self) -> None:
        if "changed" in self.marks and "painted" not in self.marks:
            self.marks["painted"] = time.perf_counter()
            if self.loop.isRunning():
                self.loop.quit()

    def reset(self) -> None:
        self.marks = {}

    def wait_painted(self, seconds: float = 20) -> bool:
        if "painted" not in self.marks:
            self.timeout.start(int(seconds * 1000))
            self.loop.exec()
            self.timeout.stop()
        return "painted" in self.marks


def _quiet_offscreen_warnings() -> None:
    """The offscreen platform warns on every dialog-like resize; keep the table readable."""
    from PySide6.QtCore import qInstallMessageHandler

    def handler(_mode, _context, message: str) -> None:
        if "propagateSizeHints" not in message:
            print(message, file=sys.stderr)

    qInstallMessageHandler(handler)


def sample_prefixes(runner, ws, count: int, rng: random.Random) -> list[str]:
    """1-4 letter prefixes of real first and last names, from across the register."""
    from vrp_desktop.services import participants

    total = on_store(runner, participants.count_participants, ws, "")
    names: list[str] = []
    for _ in range(10):
        offset = rng.randrange(max(1, total - 100))
        rows = on_store(runner, participants.list_participants, ws, "", offset=offset, limit=100)
        names += [r[k] for r in rows for k in ("first_name", "last_name") if r[k]]
    prefixes = []
    for _ in range(count):
        name = rng.choice(names)
        letters = "".join(c for c in name if c.isalpha()) or name
        prefixes.append(letters[: rng.randint(1, min(4, len(letters)))].lower())
    return prefixes


def on_store(runner, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``fn`` on the store thread and return its answer, events flowing meanwhile (the
    bench, like the window, never blocks the GUI thread on the store)."""
    box: dict[str, Any] = {}
    runner.submit(
        fn,
        *args,
        on_done=lambda result: box.setdefault("done", result),
        on_error=lambda exc: box.setdefault("error", exc),
        **kwargs,
    )
    _spin(lambda: bool(box), 600)
    if "error" in box:
        raise box["error"]
    if "done" not in box:
        raise RuntimeError(f"{getattr(fn, '__name__', fn)} did not answer in 600 s")
    return box["done"]


def timed_on_store(runner, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> float:
    """Seconds ``fn`` takes on the store thread itself (no hand-over to or from it)."""

    def timed() -> float:
        started = time.perf_counter()
        fn(*args, **kwargs)
        return time.perf_counter() - started

    return on_store(runner, timed)


def wait_store(runner) -> None:
    """Let every job queued on the store thread so far finish (events keep flowing)."""
    done: list[bool] = []
    runner.submit(lambda: None, on_done=lambda _r: done.append(True))
    _spin(lambda: bool(done), 30)


def _idle(seconds: float = 0.05) -> None:
    _spin(lambda: False, seconds)


def search_and_scroll(
    folder: Path, username: str, key: bytes, queries: int, scrolls: int, seed: int, profile: bool
) -> dict[str, Any]:
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    QCoreApplication.setOrganizationName("VRP")
    QCoreApplication.setApplicationName("VRP Desktop")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    _quiet_offscreen_warnings()
    from ui import theme
    from ui.context import AppContext
    from ui.models import paging
    from ui.pages.participants import ParticipantsPage
    from ui.worker import StoreRunner
    from vrp_desktop.services import participants
    from vrp_desktop.workspace import Workspace

    theme.apply(app)
    runner = StoreRunner()
    ws = on_store(runner, Workspace.open_with_key, folder, key, username)
    ctx = AppContext(ws, runner)
    page = ParticipantsPage(ctx)
    page.resize(1366, 768)
    page.show()
    _idle(0.5)
    probe = PaintProbe(page)
    rng = random.Random(seed)
    prefixes = sample_prefixes(runner, ws, queries, rng)
    out: dict[str, Any] = {"fire": [], "key": [], "store_part": [], "view_part": [], "base": []}

    def search(prefix: str) -> None:
        page.search.setFocus()
        page.search.selectAll()
        probe.reset()
        QTest.keyClicks(page.search, prefix[:-1])
        key_at = time.perf_counter()
        QTest.keyClick(page.search, prefix[-1])
        if not probe.wait_painted():
            raise RuntimeError(f"no results painted for {prefix!r}")
        m = probe.marks
        out["fire"].append(m["painted"] - m["fire"])
        out["key"].append(m["painted"] - key_at)
        out["store_part"].append(m["changed"] - m["fire"])
        out["view_part"].append(m["painted"] - m["changed"])
        _idle(0.03)

    for prefix in prefixes[:3]:  # warm-up: caches, first-use imports
        search(prefix)
    for key_name in out:
        out[key_name].clear()
    for prefix in prefixes:
        search(prefix)
        wait_store(runner)  # the page's count, queued after its rows were painted, runs first
        # the page paints its first page before counting: that read, on the store thread, is
        # the base
        out["base"].append(
            timed_on_store(
                runner,
                participants.list_participants,
                ws,
                prefix,
                offset=0,
                limit=getattr(page.model, "first_page_size", page.model.page_size),
            )
        )
    if prefixes:
        out["matches"] = statistics.median(
            on_store(runner, participants.count_participants, ws, p) for p in prefixes[:20]
        )

    if profile and prefixes:
        out["profile"] = profile_search(page, runner, ws, prefixes[:30], search)

    out["total"] = on_store(runner, participants.count_participants, ws, "")
    if not scrolls:
        page.close()
        on_store(runner, ws.close)
        runner.shutdown()
        return out
    # scroll: the whole register, scroll bar to the bottom, next page inserted and painted
    page.search.clear()
    page.run_search()
    _idle(0.3)
    total = page.model.total
    bar = page.table.verticalScrollBar()

    def scroll_once() -> tuple[float, float]:
        start = page.model.rowCount()
        probe.reset()
        started = time.perf_counter()
        bar.setValue(bar.maximum())
        if not probe.wait_painted():
            return math.nan, math.nan
        shown = probe.marks["painted"] - started
        base = timed_on_store(
            runner, participants.list_participants, ws, "", offset=start, limit=paging.PAGE_SIZE
        )
        _idle(0.03)
        return shown, base

    shallow = [scroll_once() for _ in range(scrolls)]
    # load nearly everything in big pages (not timed), then time the last pages
    depth_goal = max(page.model.rowCount(), total - (scrolls + 1) * paging.PAGE_SIZE)
    while page.model.rowCount() < depth_goal:
        page.model.page_size = min(25_000, depth_goal - page.model.rowCount())
        probe.reset()
        page.model.fetchMore()
        probe.wait_painted(120)
    page.model.page_size = paging.PAGE_SIZE
    _idle(0.3)
    deep_start = page.model.rowCount()
    deep = [scroll_once() for _ in range(scrolls)]
    out.update(
        total=total,
        scroll_shallow=[s for s, _ in shallow],
        scroll_shallow_base=[b for _, b in shallow],
        scroll_deep=[s for s, _ in deep],
        scroll_deep_base=[b for _, b in deep],
        deep_start=deep_start,
    )
    page.close()
    on_store(runner, ws.close)
    runner.shutdown()
    return out


def profile_search(page, runner, ws, prefixes: list[str], search: Callable[[str], None]) -> str:
    """cProfile of the GUI thread over the searches, then of the store calls they make."""
    from vrp_desktop.services import participants

    report = io.StringIO()
    gui = cProfile.Profile()
    gui.enable()
    for prefix in prefixes:
        search(prefix)
    gui.disable()
    report.write(f"-- GUI thread, {len(prefixes)} searches (store work shows as waiting) --\n")
    pstats.Stats(gui, stream=report).sort_stats("cumulative").print_stats(18)

    store = cProfile.Profile()

    def store_calls() -> None:
        store.enable()
        for prefix in prefixes:
            participants.count_participants(ws, prefix)
            participants.list_participants(ws, prefix, offset=0, limit=page.model.page_size)
        store.disable()

    on_store(runner, store_calls)
    report.write(f"-- store thread, the same {len(prefixes)} count + first-page reads --\n")
    pstats.Stats(store, stream=report).sort_stats("cumulative").print_stats(18)
    return report.getvalue()


# -- the run ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=None, help="default 100000")
    parser.add_argument("--sessions", type=int, default=None, help="default participants / 5")
    parser.add_argument("--quick", action="store_true", help="smoke run: 10k people, few runs")
    parser.add_argument("--workspace", type=Path, help="use this demo workspace (not made here)")
    parser.add_argument("--user", default="demo", help="its user (with --workspace)")
    parser.add_argument("--runs", type=int, help="start-up runs (default 9, quick 3)")
    parser.add_argument("--unlocks", type=int, help="unlock runs per workspace (default 5)")
    parser.add_argument("--queries", type=int, help="search queries (default 100, quick 20)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="cProfile the searches")
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help=f"which parts to run, comma-separated (default all: {','.join(PARTS)})",
    )
    parser.add_argument("--unlock-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.unlock_child:
        return unlock_child(args.unlock_child, args.user)
    args.participants = args.participants or (10_000 if args.quick else 100_000)
    args.sessions = args.sessions if args.sessions is not None else args.participants // 5
    runs = args.runs or (3 if args.quick else 9)
    unlocks = args.unlocks or (2 if args.quick else 5)
    queries = args.queries or (20 if args.quick else 100)
    scrolls = 5 if args.quick else 15
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    if parts - set(PARTS):
        parser.error(f"unknown parts {sorted(parts - set(PARTS))}: choose from {PARTS}")

    with tempfile.TemporaryDirectory(prefix="vrp-bench-ui-") as tmp_name:
        tmp = Path(tmp_name)
        os.environ.update(
            QT_QPA_PLATFORM="offscreen",
            VRP_FAST_KDF="1",
            VRP_STATE_DIR=str(tmp / "state"),
            VRP_DATA_DIR=str(tmp / "data"),
            XDG_CONFIG_HOME=str(tmp / "config"),
        )
        env = with_bytecode_cache(
            dict(
                os.environ,
                PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            ),
            tmp,
        )
        print(
            f"UI benchmark (offscreen), load average {os.getloadavg()[0]:.1f}, "
            f"{os.cpu_count()} cores"
        )
        folder, username, passphrase = prepare_workspace(args, tmp)
        key = master_key(folder, username, passphrase)
        empty = make_workspace(tmp / "empty")
        empty_key = master_key(empty, "bench", PASSPHRASE)

        start: dict[str, list[float]] = {}
        big_runs: list[dict[str, float]] = []
        empty_runs: list[dict[str, float]] = []
        argon: list[float] = []
        found: dict[str, Any] = {}
        if "start" in parts:
            print(f"  1/4 start-up: {runs} runs of each ...", flush=True)
            start = startup(env, folder, runs)
        if "unlock" in parts:
            print(f"  2/4 unlock: {unlocks} runs on each workspace ...", flush=True)
            unlock_once(env, folder, username, key)  # warm-up: file cache
            unlock_once(env, empty, "bench", empty_key)
            for _ in range(unlocks):
                big_runs.append(unlock_once(env, folder, username, key))
                empty_runs.append(unlock_once(env, empty, "bench", empty_key))
            argon = argon2id_seconds(3)
        if parts & {"search", "scroll"}:
            print(f"  3/4 search: {queries} queries; 4/4 scroll ...", flush=True)
            found = search_and_scroll(
                folder,
                username,
                key,
                queries if "search" in parts else 0,
                scrolls if "scroll" in parts else 0,
                args.seed,
                args.profile,
            )

    table = Table()
    if start:
        app_t, bare_t = start["app"], start["bare"]
        for label, fn in (("median", median), ("p95", lambda v: percentile(v, 95))):
            a, b = fn(app_t), fn(bare_t)
            table.add(
                f"Start to unlock screen, {label}",
                f"{a:.2f} s",
                f"bare window {b:.2f} s",
                fmt_ratio(a, b),
                f"<= {START_TARGET_RATIO}x",
                verdict(a / b <= START_TARGET_RATIO),
            )
    n = f"{found['total']:,}" if "total" in found else f"{args.participants:,} made"
    for key_name, label in (
        ("open", "open_with_key"),
        ("main", "Unlock to main window painted"),
        ("today", "Unlock to Today populated"),
        ("attention", "Unlock to attention count in status bar"),
    ):
        if not big_runs:
            break
        a = median([r[key_name] for r in big_runs])
        b = median([r[key_name] for r in empty_runs])
        ok = None if key_name not in ("today", "attention") else a <= UNLOCK_TARGET_RATIO * b
        table.add(
            f"{label}, median ({n})",
            fmt_ms(a),
            f"empty ws {fmt_ms(b)}",
            fmt_ratio(a, b),
            f"<= {UNLOCK_TARGET_RATIO}x" if ok is not None else "-",
            verdict(ok),
        )
    if argon:
        table.add("Argon2id derive, strong profile, median", fmt_ms(median(argon)))
    if found.get("fire"):
        for label, p in (("p50", 50), ("p95", 95)):
            a = percentile(found["fire"], p)
            table.add(
                f"Search: debounce fired to results painted, {label}",
                fmt_ms(a),
                f"store alone {fmt_ms(percentile(found['base'], p))}",
                fmt_ratio(a, percentile(found["base"], p)),
                f"< {SEARCH_TARGET_MS:.0f} ms",
                verdict(a * 1000 < SEARCH_TARGET_MS),
            )
        for label, p in (("p50", 50), ("p95", 95)):
            a = percentile(found["key"], p)
            table.add(
                f"Search: keystroke to results painted (150 ms pause), {label}",
                fmt_ms(a),
                target=f"< {SEARCH_TARGET_MS + 150:.0f} ms",
                verdict=verdict(a * 1000 < SEARCH_TARGET_MS + 150),
            )
    if found.get("scroll_shallow"):
        for part, label in (
            ("scroll_shallow", "rows 200+"),
            ("scroll_deep", f"row {found['deep_start']:,}+"),
        ):
            for plabel, p in (("p50", 50), ("p95", 95)):
                a, b = percentile(found[part], p), percentile(found[part + "_base"], p)
                table.add(
                    f"Scroll: next page shown, {label}, {plabel}",
                    fmt_ms(a),
                    f"store alone {fmt_ms(b)}",
                    fmt_ratio(a, b),
                )
    print()
    table.print()
    if found.get("fire"):
        print(
            f"\nSearch breakdown (median): store reads {fmt_ms(median(found['store_part']))}, "
            f"view update {fmt_ms(median(found['view_part']))}; store alone "
            f"{fmt_ms(median(found['base']))}; median matches per prefix "
            f"{found['matches']:,.0f}. {len(found['fire'])} queries."
        )
    if "profile" in found:
        print("\n" + found["profile"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
