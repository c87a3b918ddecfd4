import CoreMetrics
import Prometheus
import StationModels

/// `GET /metrics`: the station's metrics in Prometheus' text format, from a registry of its own (swift-prometheus).
/// The gauges are set from the station's status at each scrape; the counters and the histogram count as
/// things happen.
package final class PrometheusExposition: Sendable {
    package let registry = PrometheusCollectorRegistry()
    package let metrics: StationMetrics
    let version: String
    let commit: String

    package init(version: String, commit: String) {
        self.version = version
        self.commit = commit
        metrics = StationMetrics(factory: DescribedPrometheusFactory(registry: registry))
    }

    /// The text a scrape gets, once the gauges are set from `status`.
    package func scrape(_ status: StationStatus, residentBytes: Int?) -> String {
        metrics.observe(status, residentBytes: residentBytes, version: version, commit: commit)
        return registry.emitToString()
    }

    /// `text/plain; version=0.0.4`, the format's media type.
    package static let contentType = "text/plain; version=0.0.4; charset=utf-8"
}

/// swift-metrics into the registry, each metric with its help text and buckets from `StationMetrics.families`.
/// Written here because swift-prometheus' own factory registers every metric without help text, which
/// `promtool check metrics` refuses, and a metric registered twice with different help stops the process.
struct DescribedPrometheusFactory: MetricsFactory {
    let registry: PrometheusCollectorRegistry
    let families: [String: StationMetrics.Family]

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        families = Dictionary(uniqueKeysWithValues: StationMetrics.families.map { ($0.name, $0) })
    }

    /// The name as it is (the family's name already carries its unit) with the family's help.
    private func descriptor(_ label: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: label, unitName: "", helpText: families[label]?.help ?? label)
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        guard case .histogram(let buckets)? = families[label]?.kind else {
            return registry.makeDurationHistogram(descriptor: descriptor(label), labels: dimensions, buckets: [.seconds(1)])
        }
        return registry.makeDurationHistogram(descriptor: descriptor(label), labels: dimensions, buckets: buckets)
    }

    // The station's metrics live as long as the daemon: nothing is unregistered.
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyMeter(_ handler: any MeterHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}
