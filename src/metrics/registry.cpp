#include "claudegate/metrics/registry.hpp"

#include <charconv>
#include <cmath>

namespace claudegate::metrics {
namespace {

// Label values: backslash, double quote and line feed are escaped (exposition format spec).
void AppendEscaped(std::string& out, std::string_view value) {
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

// HELP text: backslash and line feed escaped.
void AppendHelp(std::string& out, std::string_view help) {
  for (const char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

}  // namespace

std::string FormatValue(double value) {
  if (std::isnan(value)) {
    return "NaN";
  }
  if (std::isinf(value)) {
    return value > 0 ? "+Inf" : "-Inf";
  }
  std::array<char, 32> buffer{};
  const auto [ptr, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  return std::string(buffer.data(), ptr);
}

std::string Family::LabelText(const LabelValues& values, std::string_view extra_name,
                              std::string_view extra_value) const {
  if (label_names_.empty() && extra_name.empty()) {
    return {};
  }
  std::string out = "{";
  for (std::size_t i = 0; i < label_names_.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    out += label_names_[i];
    out += "=\"";
    AppendEscaped(out, i < values.size() ? values[i] : std::string_view{});
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!label_names_.empty()) {
      out += ',';
    }
    out += extra_name;
    out += "=\"";
    AppendEscaped(out, extra_value);
    out += '"';
  }
  out += '}';
  return out;
}

void Family::RenderHeader(std::string& out, std::string_view type) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  AppendHelp(out, help_);
  out += "\n# TYPE ";
  out += name_;
  out += ' ';
  out += type;
  out += '\n';
}

void CounterFamily::Add(const LabelValues& labels, double value) {
  const std::lock_guard lock(mutex_);
  values_[labels] += value;
}

void CounterFamily::Set(const LabelValues& labels, double value) {
  const std::lock_guard lock(mutex_);
  values_[labels] = value;
}

double CounterFamily::Value(const LabelValues& labels) const {
  const std::lock_guard lock(mutex_);
  const auto it = values_.find(labels);
  return it == values_.end() ? 0.0 : it->second;
}

void CounterFamily::Render(std::string& out) const {
  RenderHeader(out, "counter");
  const std::lock_guard lock(mutex_);
  for (const auto& [labels, value] : values_) {
    out += name_ + LabelText(labels) + ' ' + FormatValue(value) + '\n';
  }
}

void GaugeFamily::Set(const LabelValues& labels, double value) {
  const std::lock_guard lock(mutex_);
  values_[labels] = value;
}

void GaugeFamily::Add(const LabelValues& labels, double delta) {
  const std::lock_guard lock(mutex_);
  values_[labels] += delta;
}

void GaugeFamily::Clear() {
  const std::lock_guard lock(mutex_);
  values_.clear();
}

double GaugeFamily::Value(const LabelValues& labels) const {
  const std::lock_guard lock(mutex_);
  const auto it = values_.find(labels);
  return it == values_.end() ? 0.0 : it->second;
}

void GaugeFamily::Render(std::string& out) const {
  RenderHeader(out, "gauge");
  const std::lock_guard lock(mutex_);
  for (const auto& [labels, value] : values_) {
    out += name_ + LabelText(labels) + ' ' + FormatValue(value) + '\n';
  }
}

void HistogramFamily::Observe(const LabelValues& labels, double value) {
  const std::lock_guard lock(mutex_);
  auto& series = series_[labels];
  if (series.buckets.empty()) {
    series.buckets.assign(bounds_.size(), 0);
  }
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    if (value <= bounds_[i]) {
      ++series.buckets[i];
      break;
    }
  }
  ++series.count;
  series.sum += value;
}

std::uint64_t HistogramFamily::Count(const LabelValues& labels) const {
  const std::lock_guard lock(mutex_);
  const auto it = series_.find(labels);
  return it == series_.end() ? 0 : it->second.count;
}

void HistogramFamily::Render(std::string& out) const {
  RenderHeader(out, "histogram");
  const std::lock_guard lock(mutex_);
  for (const auto& [labels, series] : series_) {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < bounds_.size(); ++i) {
      cumulative += series.buckets[i];
      out += name_ + "_bucket" + LabelText(labels, "le", FormatValue(bounds_[i])) + ' ' +
             std::to_string(cumulative) + '\n';
    }
    out += name_ + "_bucket" + LabelText(labels, "le", "+Inf") + ' ' +
           std::to_string(series.count) + '\n';
    out += name_ + "_sum" + LabelText(labels) + ' ' + FormatValue(series.sum) + '\n';
    out += name_ + "_count" + LabelText(labels) + ' ' + std::to_string(series.count) + '\n';
  }
}

CounterFamily& Registry::Counter(std::string name, std::string help,
                                 std::vector<std::string> labels) {
  auto family =
      std::make_unique<CounterFamily>(std::move(name), std::move(help), std::move(labels));
  auto& ref = *family;
  families_.push_back(std::move(family));
  return ref;
}

GaugeFamily& Registry::Gauge(std::string name, std::string help, std::vector<std::string> labels) {
  auto family = std::make_unique<GaugeFamily>(std::move(name), std::move(help), std::move(labels));
  auto& ref = *family;
  families_.push_back(std::move(family));
  return ref;
}

HistogramFamily& Registry::Histogram(std::string name, std::string help,
                                     std::vector<std::string> labels, std::vector<double> bounds) {
  auto family = std::make_unique<HistogramFamily>(std::move(name), std::move(help),
                                                  std::move(labels), std::move(bounds));
  auto& ref = *family;
  families_.push_back(std::move(family));
  return ref;
}

std::string Registry::Render() const {
  std::string out;
  out.reserve(8192);
  for (const auto& family : families_) {
    family->Render(out);
  }
  return out;
}

}  // namespace claudegate::metrics
