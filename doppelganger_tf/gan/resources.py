"""What a generation will need against what the machine has: ``generate`` refuses a result
larger than the memory available, ``generate_to`` one larger than the free space where it
writes, before any work, naming both numbers (a run of 10**9 samples would otherwise work for
hours and then fail)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Optional


class NotEnoughMemory(MemoryError):
    """The result would not fit in the memory available."""


class NotEnoughDisk(OSError):
    """The files would not fit on the filesystem."""


def size_text(num_bytes: float) -> str:
    """``num_bytes`` in the largest binary unit that keeps it >= 1 (e.g. "12.3 GiB")."""
    value = float(num_bytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def available_memory() -> Optional[int]:
    """Bytes of memory a new allocation can take without swapping (Linux' MemAvailable; the
    free physical pages elsewhere), or None where the system does not tell."""
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def free_disk(path) -> int:
    """Free bytes on the filesystem that would hold ``path`` (its nearest existing folder)."""
    folder = Path(path).absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        folder = folder.parent
    return shutil.disk_usage(folder).free


def check_memory(needed: int, what: str, fix: str) -> None:
    """Raise :class:`NotEnoughMemory` when ``needed`` bytes exceed the memory available."""
    available = available_memory()
    if available is not None and needed > available:
        raise NotEnoughMemory(f"{what} needs about {size_text(needed)} of memory for its "
                              f"result, and {size_text(available)} is available: {fix}")


def check_disk(path, needed: int, what: str) -> None:
    """Raise :class:`NotEnoughDisk` when ``needed`` bytes exceed the free space at ``path``."""
    free = free_disk(path)
    if needed > free:
        raise NotEnoughDisk(f"{what} would write about {size_text(needed)} to {path}, and "
                            f"its filesystem has {size_text(free)} free: free some space, "
                            "write elsewhere, or generate fewer samples (or in shards, "
                            "shard=/num_shards=, on several disks)")
