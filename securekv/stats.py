"""Statistics, as INFO reports them. One Stats per tenant (the default tenant's
is the server's); per-command counters are lists indexed by Command.id so the
hot path updates them without hashing."""

from __future__ import annotations


class Stats:
    __slots__ = (
        "total_connections_received", "rejected_connections",
        "expired_keys", "evicted_keys", "keyspace_hits", "keyspace_misses",
        "net_input_bytes", "net_output_bytes", "total_error_replies",
        "client_output_buffer_limit_disconnections", "client_query_buffer_limit_disconnections",
        "expired_stale_perc", "expired_time_cap_reached_count", "total_reads_processed",
        "total_writes_processed", "unexpected_error_replies", "dump_payload_sanitizations",
        "pubsub_messages", "evicted_clients", "total_eviction_exceeded_time",
        "total_active_defrag_time", "io_threaded_reads_processed",
        "io_threaded_writes_processed", "sync_full", "sync_partial_ok", "sync_partial_err",
        "tracking_total_keys", "expire_cycle_cpu_milliseconds",
        "calls", "usec", "rejected_calls", "failed_calls", "errors",
    )

    def __init__(self, ncommands: int = 0) -> None:
        self.reset(ncommands)

    def reset(self, ncommands: int | None = None) -> None:
        """CONFIG RESETSTAT."""
        for name in self.__slots__:
            if name not in ("calls", "usec", "rejected_calls", "failed_calls", "errors"):
                setattr(self, name, 0)
        if ncommands is None:
            ncommands = len(self.calls)
        self.calls = [0] * ncommands
        self.usec = [0] * ncommands
        self.rejected_calls = [0] * ncommands
        self.failed_calls = [0] * ncommands
        self.errors: dict[str, int] = {}

    @property
    def total_commands_processed(self) -> int:
        """Commands executed (derived: the hot path only counts per command)."""
        return sum(self.calls)

    def grow(self, ncommands: int) -> None:
        """Make room for commands registered after this object was created."""
        for name in ("calls", "usec", "rejected_calls", "failed_calls"):
            lst = getattr(self, name)
            if len(lst) < ncommands:
                lst.extend([0] * (ncommands - len(lst)))
