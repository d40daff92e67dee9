#include "samples/forecasting/json_report.h"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace qrt::samples {
namespace {

// %.9g round-trips a float and keeps the metrics' significant digits without noise.
std::string number(double v) {
  if (!std::isfinite(v)) return "null";
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.9g", v);
  return buffer;
}

std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buffer[8];
      std::snprintf(buffer, sizeof(buffer), "\\u%04x", c);
      out += buffer;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

std::string report_to_json(const ForecastReport& report) {
  std::ostringstream json;
  json << "{\n  \"dataset\": " << quoted(report.dataset)
       << ",\n  \"device\": " << quoted(report.device) << ",\n  \"horizon\": " << report.horizon
       << ",\n  \"lookback\": " << report.lookback
       << ",\n  \"test_windows\": " << report.test_windows
       << ",\n  \"repeat_baseline\": {\"mse\": " << number(report.repeat_mse)
       << ", \"mae\": " << number(report.repeat_mae) << "},\n  \"results\": [";
  for (std::size_t i = 0; i < report.results.size(); ++i) {
    const PrecisionResult& r = report.results[i];
    json << (i ? ",\n" : "\n") << "    {\"precision\": " << quoted(r.precision)
         << ", \"mse\": " << number(r.mse) << ", \"mae\": " << number(r.mae)
         << ", \"model_bytes\": " << r.model_bytes
         << ", \"activation_bytes\": " << r.activation_bytes
         << ", \"latency_ms\": " << number(r.latency_ms)
         << ", \"latency_b32_ms\": " << number(r.latency_b32_ms);
    if (r.fine_tune_steps > 0) json << ", \"fine_tune_steps\": " << r.fine_tune_steps;
    json << "}";
  }
  json << (report.results.empty() ? "]" : "\n  ]") << "\n}\n";
  return json.str();
}

}  // namespace qrt::samples
