"""What a service's image installs: nothing of the benchmarks' extra is needed, and what
httpcore looks for on every request is there."""

from __future__ import annotations

import subprocess
import sys

#: Each service's entry, as its process imports it.
SERVICES = [
    "services.booking.bootstrap",
    "services.matching.app",
    "services.notify.bootstrap",
    "services.ledger.bootstrap",
    "services.ops.bootstrap",
    "services.partners.bootstrap",
    "services.trust.bootstrap",
]
#: The ``bench`` extra's packages (pyproject.toml).
BENCH_ONLY = ["scipy"]


def test_no_service_imports_what_only_the_benchmarks_need() -> None:
    code = (
        f"import sys\n"
        f"for module in {SERVICES!r}:\n"
        f"    __import__(module)\n"
        f"print(','.join(m for m in {BENCH_ONLY!r} if m in sys.modules))"
    )
    # A fresh interpreter: this one has imported whatever other tests did.
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout.strip()
    assert found == "", f"a service imports {found}"


def test_httpcore_learns_its_async_library_without_searching_the_path() -> None:
    # httpcore asks sniffio on every lock and event it makes; with sniffio missing each ask
    # is a failed import, which searches every entry of sys.path again.
    code = (
        "import asyncio, sys\n"
        "from httpcore._synchronization import current_async_library\n"
        "async def ask():\n"
        "    return current_async_library()\n"
        "print(asyncio.run(ask()), 'sniffio' in sys.modules)"
    )
    answer = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert answer == ["asyncio", "True"]
