"""Who used the machine's cores during a phase of a benchmark.

Per process: its CPU time (all its threads, ``/proc/<pid>/stat``) and how long its threads
waited, runnable, for a CPU (``/proc/<pid>/task/*/schedstat``; threads alive at the end);
and the whole machine's busy time (``/proc/stat``), which also counts processes outside the
benchmark. From construction to :meth:`CpuUse.lines`. On two shared cores a figure missed
for lack of CPU shows here: the cores busy, and the processes waiting for them."""

from __future__ import annotations

import os
import time
from pathlib import Path

HZ = os.sysconf("SC_CLK_TCK")


def _ticks(stat: Path) -> int | None:
    """utime + stime of a process's or thread's ``stat`` file; None when it is gone."""
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])


def _cpu_s(pid: int) -> float | None:
    ticks = _ticks(Path(f"/proc/{pid}/stat"))
    return None if ticks is None else ticks / HZ


def _waited_s(pid: int) -> float:
    total = 0
    for task in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        try:
            total += int(task.read_text().split()[1])
        except (OSError, ValueError, IndexError):
            pass  # a thread that ended meanwhile
    return total / 1e9


def compiler_s(pid: int) -> float:
    """CPU seconds the JVM's JIT compiler threads of ``pid`` used (``C1``/``C2
    CompilerThread``): a broker just started compiles its hot paths for minutes, on the
    cores the benchmark measures; 0 for a process that is not a JVM."""
    total = 0
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            if not (task / "comm").read_text().startswith(("C1 Compiler", "C2 Compiler")):
                continue
        except OSError:
            continue  # a thread that ended meanwhile
        total += _ticks(task / "stat") or 0
    return total / HZ


def _machine() -> tuple[float, float]:
    """(busy, all) CPU seconds of the whole machine since boot (steal counted as busy)."""
    user, nice, system, idle, iowait, irq, softirq, steal = (
        int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9])
    busy = user + nice + system + irq + softirq + steal
    return busy / HZ, (busy + idle + iowait) / HZ


class CpuUse:
    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.t0 = time.monotonic()
        self.cpu0 = {name: _cpu_s(pid) for name, pid in pids.items()}
        self.wait0 = {name: _waited_s(pid) for name, pid in pids.items()}
        self.jit0 = compiler_s(pids["broker"]) if "broker" in pids else None
        self.machine0 = _machine()

    def lines(self, phase: str) -> str:
        wall = time.monotonic() - self.t0
        busy1, all1 = _machine()
        busy, total = busy1 - self.machine0[0], all1 - self.machine0[1]
        cores = total / wall if wall else 0.0
        used, waited = [], []
        for name, pid in self.pids.items():
            start, end = self.cpu0[name], _cpu_s(pid)
            if start is None or end is None:
                continue
            used.append(f"{name} {(end - start) / wall:.2f}")
            waited.append(f"{name} {_waited_s(pid) - self.wait0[name]:.1f} s")
        if self.jit0 is not None:
            jit = compiler_s(self.pids["broker"]) - self.jit0
            used.append(f"(the broker's JIT compiler {jit / wall:.2f})")
        return (f"cores used,         {phase}: {', '.join(used)}; the machine {busy / wall:.2f} of "
                f"{cores:.0f} (all its processes) in {wall:.1f} s\n"
                f"                    their threads waited for a CPU (thread-seconds): {', '.join(waited)}")


def resident_bytes(pid: int) -> int | None:
    """The process's resident memory now (``VmRSS``); None when it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return next((int(line.split()[1]) * 1024 for line in status.splitlines()
                 if line.startswith("VmRSS:")), None)
