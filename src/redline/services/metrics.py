"""The station's Prometheus metrics: one registry per station, never the process's global one.

Histograms are observed as things happen in this process (a link test answered, a receipt
recorded, an acknowledgement given). Everything else is a gauge computed when ``/metrics`` is
scraped, from the database (``OperationsQueries.scrape``), so no figure drifts from the truth
after a restart. docs/operations.md lists every metric and what it means.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

# Seconds: from a few milliseconds on loopback to minutes over a degraded path.
LINK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
# Seconds a person takes to acknowledge: from seconds to the longest deadline (a day).
ACK_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 12 * 3600, 24 * 3600)


@dataclass
class Snapshot:
    """The scrape-time gauges, as ``(labels, value)`` per metric name."""

    gauges: dict[str, tuple[str, list[str], list[tuple[list[str], float]]]] = field(default_factory=dict)

    def gauge(self, name: str, documentation: str, labels: list[str]) -> list[tuple[list[str], float]]:
        samples: list[tuple[list[str], float]] = []
        self.gauges[name] = (documentation, labels, samples)
        return samples


class _SnapshotCollector(Collector):
    def __init__(self) -> None:
        self.snapshot = Snapshot()

    def collect(self) -> Iterable[Metric]:
        return list(self._families())

    def _families(self) -> Iterator[Metric]:
        for name, (documentation, labels, samples) in self.snapshot.gauges.items():
            family = GaugeMetricFamily(name, documentation, labels=labels)
            for values, value in samples:
                family.add_metric(values, value)
            yield family


class StationMetrics:
    """A station's registry, its histograms, and the gauges of the last scrape."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._gauges = _SnapshotCollector()
        self.registry.register(self._gauges)
        self.link_test_rtt = Histogram(
            "redline_link_test_rtt_seconds",
            "Round trip of a link test: sent to its reply's arrival",
            ["peer"],
            buckets=LINK_BUCKETS,
            registry=self.registry,
        )
        self.time_to_receipt = Histogram(
            "redline_time_to_receipt_seconds",
            "An outbound envelope's commit (or, after a restart, its dispatch) to the peer's receipt",
            ["peer"],
            buckets=LINK_BUCKETS,
            registry=self.registry,
        )
        self.time_to_ack = Histogram(
            "redline_time_to_ack_seconds",
            "A message's arrival to its acknowledgement: by=us, ours of a received message (from its "
            "arrival); by=peer, the peer's of ours (from our envelope's time to the peer's stamp)",
            ["precedence", "by"],
            buckets=ACK_BUCKETS,
            registry=self.registry,
        )

    def replace_gauges(self, snapshot: Snapshot) -> None:
        self._gauges.snapshot = snapshot
