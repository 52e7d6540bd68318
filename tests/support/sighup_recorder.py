"""A stand-in for keepalived in hook tests: writes its pid file, and records each SIGHUP as the
CLOCK_MONOTONIC time it arrived (comparable across processes on Linux), one line each."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType


def main() -> None:
    pidfile, log = Path(sys.argv[1]), Path(sys.argv[2])

    def hup(_signum: int, _frame: FrameType | None) -> None:
        with log.open("a", encoding="ascii") as stream:
            stream.write(f"{time.monotonic()}\n")

    signal.signal(signal.SIGHUP, hup)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    log.touch()
    pidfile.write_text(f"{os.getpid()}\n", encoding="ascii")
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
