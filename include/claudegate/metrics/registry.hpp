/// @file registry.hpp
/// A small Prometheus registry: counter, gauge and histogram families with labels, rendered in the
/// text exposition format (version 0.0.4). Hand-written because the format is small and no
/// Debian-packaged C++ client fits (prometheus-cpp is not in bookworm).
///
/// Thread-safe: every family guards its label map with a mutex; updates are a lookup plus an add,
/// which at a few per request costs nothing next to an upstream call.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace claudegate::metrics {

/// Label values in the family's label-name order.
using LabelValues = std::vector<std::string>;

/// Common part of every family: name, help, label names.
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names)
      : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}
  virtual ~Family() = default;
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  /// Appends `# HELP`, `# TYPE` and every sample.
  virtual void Render(std::string& out) const = 0;
  [[nodiscard]] const std::string& name() const { return name_; }

 protected:
  /// `{a="x",b="y"}` (empty string when there are no labels), values escaped per the format.
  [[nodiscard]] std::string LabelText(const LabelValues& values, std::string_view extra_name = {},
                                      std::string_view extra_value = {}) const;
  void RenderHeader(std::string& out, std::string_view type) const;

  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
};

/// Monotonic counter (`_total` by convention in the name).
class CounterFamily final : public Family {
 public:
  using Family::Family;
  void Add(const LabelValues& labels, double value = 1.0);
  /// Mirrors a count kept elsewhere (it must only grow, as counters do).
  void Set(const LabelValues& labels, double value);
  [[nodiscard]] double Value(const LabelValues& labels) const;
  void Render(std::string& out) const override;

 private:
  mutable std::mutex mutex_;
  std::map<LabelValues, double> values_;
};

/// Gauge: set to a value.
class GaugeFamily final : public Family {
 public:
  using Family::Family;
  void Set(const LabelValues& labels, double value);
  void Add(const LabelValues& labels, double delta);
  /// Removes every sample (for state gauges that are replaced wholesale).
  void Clear();
  [[nodiscard]] double Value(const LabelValues& labels) const;
  void Render(std::string& out) const override;

 private:
  mutable std::mutex mutex_;
  std::map<LabelValues, double> values_;
};

/// Histogram with fixed upper bounds (seconds for durations).
class HistogramFamily final : public Family {
 public:
  HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                  std::vector<double> bounds)
      : Family(std::move(name), std::move(help), std::move(label_names)),
        bounds_(std::move(bounds)) {}
  void Observe(const LabelValues& labels, double value);
  [[nodiscard]] std::uint64_t Count(const LabelValues& labels) const;
  void Render(std::string& out) const override;

 private:
  struct Series {
    std::vector<std::uint64_t> buckets;  // cumulative counts rendered; stored per bucket
    std::uint64_t count = 0;
    double sum = 0;
  };
  std::vector<double> bounds_;
  mutable std::mutex mutex_;
  std::map<LabelValues, Series> series_;
};

/// Owns families and renders them in registration order.
class Registry {
 public:
  CounterFamily& Counter(std::string name, std::string help, std::vector<std::string> labels);
  GaugeFamily& Gauge(std::string name, std::string help, std::vector<std::string> labels);
  HistogramFamily& Histogram(std::string name, std::string help, std::vector<std::string> labels,
                             std::vector<double> bounds);
  /// The whole exposition.
  [[nodiscard]] std::string Render() const;

 private:
  std::vector<std::unique_ptr<Family>> families_;
};

/// Formats a sample value as Prometheus expects (`+Inf`, `NaN`, shortest round-trip otherwise).
[[nodiscard]] std::string FormatValue(double value);

}  // namespace claudegate::metrics
