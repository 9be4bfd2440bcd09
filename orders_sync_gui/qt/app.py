"""Start-up: arguments, logging (pane + rotating file), crash hook, demo or configured mode.

`orders-sync-gui --smoke` opens the full window on the demo data, waits for the customer
list, prints one JSON line and exits 0; `--screenshot PATH` saves the window once loaded.
"""

from __future__ import annotations

import argparse
import faulthandler
import gc
import json
import logging
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QMessageLogContext,
    QSettings,
    QSize,
    QTimer,
    QtMsgType,
    qInstallMessageHandler,
)
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from .. import __version__
from ..paths import config_dir, data_dir, default_db_path, log_dir
from ..resources import resource_path
from ..settings import DB_URL_ENV, SettingsError, file_problems, load_settings
from .log_pane import SignalLogHandler
from .single_instance import SingleInstance, instance_key

if TYPE_CHECKING:
    from ..services.demo_sandbox import LaunchedSandbox
    from .main_window import MainWindow

log = logging.getLogger("orders_sync_gui.gui")
SMOKE_TIMEOUT_MS = 180_000
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="orders-sync-gui", description="The orders-sync desktop application."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="open on the demo database and the local monday.com sandbox",
    )
    parser.add_argument("--db", metavar="URL", help="database URL (not with --demo)")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="open, wait for the customer list, print one JSON line, exit",
    )
    parser.add_argument(
        "--screenshot",
        metavar="PATH",
        type=Path,
        help="save a PNG of the window once the customer list is loaded",
    )
    return parser.parse_args(argv)


def qt_message(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    """Qt's own warnings go to the log (and so to the log file), not only to stderr."""
    level = {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.INFO,
        QtMsgType.QtWarningMsg: logging.WARNING,
    }.get(kind, logging.ERROR)
    logging.getLogger("qt").log(level, "%s", message)


def install_crash_logs(directory: Path) -> None:
    """faulthandler's dump of a hard crash (a segfault in Qt) into the log folder, and Qt's
    messages into the log."""
    stream = (directory / "faulthandler.log").open("a", encoding="utf-8")  # open for life
    faulthandler.enable(stream, all_threads=True)
    qInstallMessageHandler(qt_message)


def database_key(args: argparse.Namespace) -> str:
    """The database this start works on, as one instance per database names it."""
    if wants_demo(args):
        return str(default_db_path())
    from ..services.context import resolve_db_url  # sqlalchemy: not before the first paint

    url, _embedded = resolve_db_url(args.db)
    return url if isinstance(url, str) else url.render_as_string(hide_password=True)


def one_instance(args: argparse.Namespace) -> SingleInstance | None:
    """This start's claim on its database; None (after saying so) when a window on it is
    open already, which comes forward instead."""
    guard = SingleInstance(instance_key(database_key(args)), data_dir())
    if guard.acquire():
        return guard
    log.warning("orders-sync is already open on this database: that window comes forward")
    QMessageBox.information(
        None,
        "orders-sync is already open",
        "orders-sync is already open on this database; that window has been brought "
        "forward. One window per database: two would push the same batches.",
    )
    return None


def setup_logging() -> tuple[SignalLogHandler, Path]:
    root = logging.getLogger()
    root.setLevel(logging.DEBUG)
    directory = log_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "orders-sync.log"
    file_handler = RotatingFileHandler(path, maxBytes=2_000_000, backupCount=5, encoding="utf-8")
    file_handler.setLevel(logging.DEBUG)
    file_handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s")
    )
    pane = SignalLogHandler()
    pane.setLevel(logging.DEBUG)
    for handler in (file_handler, pane):
        root.addHandler(handler)
    for noisy in ("urllib3", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return pane, path


def wants_demo(args: argparse.Namespace) -> bool:
    """--demo, or a first run: no database in the settings, none on the command line."""
    if args.demo:
        return True
    if args.db or os.environ.get(DB_URL_ENV):
        return False
    try:
        return not (load_settings().get("database") or {})
    except SettingsError:  # refused: the settings dialog says why (main), not the demo
        return False


def install_crash_hook(window: MainWindow, log_file: Path, *, interactive: bool) -> None:
    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        log.critical("unexpected error: %s", "".join(traceback.format_exception(kind, exc, tb)))
        if interactive:
            from .dialogs import show_crash

            show_crash(window, f"{kind.__name__}: {exc}", str(log_file))

    sys.excepthook = hook


def make_window(
    args: argparse.Namespace,
    handler: SignalLogHandler,
    *,
    demo: bool,
    launched: LaunchedSandbox | None = None,
) -> MainWindow:
    # The window's modules (pandas, SQLAlchemy...) load here, once the demo's sandbox is
    # launched: its child boots on another core meanwhile.
    from ..secrets import monday_token_key
    from .main_window import MainWindow
    from .session import Session, open_configured_session, open_demo_session

    opener: Callable[[], Session]
    if demo:

        def opener() -> Session:
            return open_demo_session(launched)

    else:

        def opener() -> Session:
            from .settings_dialog import session_secret

            url = (load_settings().get("monday") or {}).get("url") or ""
            return open_configured_session(
                args.db, token=lambda: session_secret(monday_token_key(url)) if url else None
            )

    settings = QSettings(str(config_dir() / "window.ini"), QSettings.Format.IniFormat)
    return MainWindow(opener, handler, settings, demo=demo)


def bring_forward(window: MainWindow) -> None:
    window.showNormal()
    window.raise_()
    window.activateWindow()


def app_icon() -> QIcon:
    """The application icon: one PNG per size from resources/icons/ (render_icons.py makes
    them), so small sizes are the pixel-fitted drawings and no SVG plugin is needed."""
    icon = QIcon()
    for size in ICON_SIZES:
        icon.addFile(str(resource_path(f"icons/orders-sync-{size}.png")), QSize(size, size))
    return icon


# The interpreter lets a busy thread run 5 ms before another may take over; the window's
# thread waiting behind a push worker then misses frames. 1 ms keeps it responsive
# (bench_gui.py: worst stall 302 -> ~125 ms during a 1,000-order push) at no visible cost.
SWITCH_INTERVAL_SECONDS = 0.001


def tune_interpreter() -> None:
    """Keep the interpreter from pausing the window: a short thread switch interval, and the
    objects of start-up (about 110,000: the modules of Qt, pandas, SQLAlchemy...) moved out
    of the garbage collector's reach. They live as long as the process anyway, and a full
    collection walked them all, holding the interpreter 60-90 ms whichever thread ran it
    (bench_gui.py: the worst stall of a push, 92 ms, was one). Call it once everything is
    imported and the window is built."""
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    gc.collect()  # what start-up left as garbage is freed, not frozen
    gc.freeze()


# Start-up makes hundreds of thousands of objects that live as long as the process (the
# modules, the first count's rows); the collector walking them again and again cost about
# 0.2 s of the start. It is off until the customer list shows, then tune_interpreter
# collects once and freezes them (or after this long, if the list never comes).
START_GC_OFF_MS = 60_000
SETTLE_AFTER_MS = 200


def begin(window: MainWindow, *, fix_settings_first: bool) -> None:
    """Open the session; a refused settings file: the dialog shows why first."""
    if not fix_settings_first:
        window.start()
        return

    def fix_then_start() -> None:
        window.open_settings()
        window.start()

    QTimer.singleShot(0, fix_then_start)


def make_app() -> QApplication:
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("orders-sync")
    app.setApplicationVersion(__version__)
    app.setWindowIcon(app_icon())
    return app


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.smoke:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    problems = file_problems()
    if problems and (args.smoke or args.screenshot):
        print(json.dumps({"error": "; ".join(problems)}), flush=True)
        return 1
    gc.disable()
    demo = wants_demo(args)
    launched = None
    if demo:
        from ..services.demo_sandbox import launch_demo_sandbox

        launched = launch_demo_sandbox()  # boots while the window's modules load
    app = make_app()
    handler, log_file = setup_logging()
    install_crash_logs(log_file.parent)
    guard = None
    if not (args.smoke or args.screenshot):
        guard = one_instance(args)
        if guard is None:
            if launched is not None:
                launched.stop()  # the demo sandbox booted for nothing: the other window has one
            return 0
    window = make_window(args, handler, demo=demo, launched=launched)
    if guard is not None:
        guard.activated.connect(lambda: bring_forward(window))
    window.offer_resume = not (args.smoke or args.screenshot)
    install_crash_hook(window, log_file, interactive=not (args.smoke or args.screenshot))
    exit_code = 0

    def settle() -> None:
        if not gc.isenabled():
            tune_interpreter()
            gc.enable()

    QTimer.singleShot(START_GC_OFF_MS, settle)

    def loaded(count: int) -> None:
        QTimer.singleShot(SETTLE_AFTER_MS, settle)  # once the list is painted
        # Run after the job that emitted `loaded` has finished: the window is idle then,
        # and closing has nothing left to ask about.
        QTimer.singleShot(0, lambda: finish(count))

    def finish(count: int) -> None:
        if args.screenshot:
            args.screenshot.parent.mkdir(parents=True, exist_ok=True)
            window.grab().save(str(args.screenshot))
            log.info("screenshot saved to %s", args.screenshot)
        if args.smoke:
            print(json.dumps({"customers": count, "title": window.windowTitle()}), flush=True)
        if args.smoke or args.screenshot:
            window.close()
            app.quit()

    def timed_out() -> None:
        nonlocal exit_code
        print(json.dumps({"error": "the customer list did not load in time"}), flush=True)
        exit_code = 1
        window.close()
        app.quit()

    window.loaded.connect(loaded)
    if args.screenshot:
        window.resize(1440, 880)  # the offscreen screen is small; pictures show the real size
    if args.smoke or args.screenshot:
        QTimer.singleShot(SMOKE_TIMEOUT_MS, timed_out)
    window.show()
    begin(window, fix_settings_first=bool(problems))
    code = app.exec()
    gc.enable()
    if guard is not None:
        guard.release()
    return exit_code or code
