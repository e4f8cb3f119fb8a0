//! Prometheus metrics, served on the admin listener at `/metrics`. One registry per gateway (not a
//! global recorder), so several gateways in one test process keep their counts apart.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: &'static str,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: &'static str,
}

type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: LatencyFamily,
    pub invoices_created: Counter,
    pub invoices_settled: Counter,
    pub zap_receipts_queued: Counter,
    pub zap_receipts_sent: Counter,
    pub zap_receipts_failed: Counter,
    pub webhook_deliveries: Counter,
    pub webhook_delivery_failures: Counter,
    pub webhook_queue_depth: Gauge,
    pub webhook_oldest_pending_seconds: Gauge,
    /// Millisatoshis a credit or refund found no account for (`lnaddr_orphaned_msat_total`):
    /// parked for the operator, each also logged at error level.
    pub orphaned_msat: Counter,
}

fn latency_histogram() -> Histogram {
    // 100 µs .. ~3 s
    Histogram::new(exponential_buckets(0.0001, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("lnaddr");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: LatencyFamily = Family::new_with_constructor(latency_histogram);
        let invoices_created = Counter::default();
        let invoices_settled = Counter::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        registry.register(
            "invoices_created",
            "Invoices issued by LNURL-pay callbacks",
            invoices_created.clone(),
        );
        registry.register(
            "invoices_settled",
            "Settled invoices credited to an account",
            invoices_settled.clone(),
        );
        let zap_receipts_queued = Counter::default();
        let zap_receipts_sent = Counter::default();
        let zap_receipts_failed = Counter::default();
        registry.register(
            "zap_receipts_queued",
            "Zap receipts queued by credited zap invoices (NIP-57)",
            zap_receipts_queued.clone(),
        );
        registry.register(
            "zap_receipts_sent",
            "Zap receipts accepted by at least one relay",
            zap_receipts_sent.clone(),
        );
        registry.register(
            "zap_receipts_failed",
            "Zap receipts given up without any relay accepting them",
            zap_receipts_failed.clone(),
        );
        let webhook_deliveries = Counter::default();
        let webhook_delivery_failures = Counter::default();
        let webhook_queue_depth = Gauge::default();
        let webhook_oldest_pending_seconds = Gauge::default();
        registry.register(
            "webhook_deliveries",
            "Webhook events delivered (the receiver answered 2xx)",
            webhook_deliveries.clone(),
        );
        registry.register(
            "webhook_delivery_failures",
            "Webhook delivery attempts that failed (error, timeout or non-2xx); each is retried",
            webhook_delivery_failures.clone(),
        );
        registry.register(
            "webhook_queue_depth",
            "Webhook events not yet delivered to every webhook (whole store)",
            webhook_queue_depth.clone(),
        );
        registry.register(
            "webhook_oldest_pending_seconds",
            "Age of the oldest webhook event not yet delivered (0 when none)",
            webhook_oldest_pending_seconds.clone(),
        );
        let orphaned_msat = Counter::default();
        registry.register(
            "orphaned_msat",
            "Millisatoshis of credits or refunds whose account was removed (see the error log)",
            orphaned_msat.clone(),
        );
        Metrics {
            registry: Arc::new(registry),
            webhook_deliveries,
            webhook_delivery_failures,
            webhook_queue_depth,
            webhook_oldest_pending_seconds,
            requests,
            latency,
            invoices_created,
            invoices_settled,
            zap_receipts_queued,
            zap_receipts_sent,
            zap_receipts_failed,
            orphaned_msat,
        }
    }
}

impl Metrics {
    pub fn observe_request(&self, route: &'static str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels { route, status })
            .inc();
        self.latency
            .get_or_create(&RouteLabels { route })
            .observe(seconds);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
