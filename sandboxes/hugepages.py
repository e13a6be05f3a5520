"""Huge pages under the memory that every trial child shares with the zygote.

Why: each clone copies the zygote's page-table entries (about 4,000 small
pages of Python heap with numpy loaded) and each child's exit tears its
copies down again, a large share of a trial's CPU on the 2-core VMs this is
built on. The same memory in 2 MiB pages is a handful of entries. A child
that writes into one splits only its own mapping of it (a few microseconds)
and then copies the 4 KiB page it wrote, as it would have anyway.

The zygote turns its heap into huge pages once, before it clones anything
(MADV_COLLAPSE, Linux 6.1 and later; elsewhere nothing changes). That needs
aligned 2 MiB runs of memory. malloc's heap is one; Python's small objects
live in 1 MiB arenas that the kernel places wherever it likes, so the C
module (`_zygote.c`) hands the server arenas from one aligned reserve, from
its first line (`evoforge.forkserver_launch`) until `seal`, which comes
before the trials' limits are computed: arenas a trial makes are ordinary
mappings its address-space limit counts, and what the reserve keeps mapped
is only what the server filled. Without the C module none of this happens;
trials are only slower.
"""

from __future__ import annotations

from types import ModuleType

Span = tuple[int, int]


def heap_start() -> int | None:
    """Where malloc's heap begins: read from /proc, so only while the full filesystem is visible."""
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                if line.rstrip().endswith("[heap]"):
                    return int(line.split("-", 1)[0], 16)
    except OSError:
        pass
    return None


def seal(native: ModuleType | None, heap: int | None) -> list[Span]:
    """Stop filling the reserve; the spans the zygote should back by huge pages.

    The heap's end is left open (0): it is read in the zygote itself, where
    it has stopped growing.
    """
    if native is None:
        return []
    start, end = native.seal_arenas()
    spans = [(start, end)] if end > start else []
    if heap is not None:
        spans.append((heap, 0))
    return spans


def back_shared_memory(native: ModuleType | None, spans: list[Span]) -> None:
    """In the zygote: collapse `spans` into huge pages (the bench reports how much became one)."""
    if native is None:
        return
    for start, end in spans:
        native.collapse(start, end or native.program_break())
