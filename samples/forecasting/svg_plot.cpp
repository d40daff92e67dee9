#include "samples/forecasting/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

namespace qrt::samples {
namespace {

// Plot area margins in pixels: room for tick labels (left, bottom), the title (top), legend
// (right).
constexpr double kMarginLeft = 70;
constexpr double kMarginRight = 170;
constexpr double kMarginTop = 40;
constexpr double kMarginBottom = 55;
constexpr int kTargetTicks = 6;

std::string escape_xml(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string fmt(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.2f", v);
  return buffer;
}

std::string tick_label(double v, double step) {
  char buffer[32];
  const int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step)));
  std::snprintf(buffer, sizeof(buffer), "%.*f", decimals, std::abs(v) < step * 1e-9 ? 0.0 : v);
  return buffer;
}

// A "nice" tick step (1, 2 or 5 × 10^k) giving about kTargetTicks ticks over `range` (Heckbert,
// "Nice numbers for graph labels", Graphics Gems 1990).
double nice_step(double range) {
  const double raw = range / kTargetTicks;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double fraction = raw / magnitude;
  const double nice = fraction < 1.5 ? 1 : fraction < 3.5 ? 2 : fraction < 7.5 ? 5 : 10;
  return nice * magnitude;
}

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void include(double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  // Widens an empty or zero-width range so that ticks and scaling stay defined.
  void make_usable() {
    if (!(lo <= hi)) lo = 0, hi = 1;
    if (hi - lo < 1e-12) lo -= 0.5, hi += 0.5;
  }
};

}  // namespace

std::string render_line_plot_svg(const PlotSpec& spec) {
  Range xr, yr;
  for (const PlotLine& line : spec.lines) {
    for (std::size_t i = 0; i < line.values.size(); ++i) {
      if (!std::isfinite(line.values[i])) continue;
      xr.include(line.x_start + static_cast<double>(i));
      yr.include(line.values[i]);
    }
  }
  xr.make_usable();
  yr.make_usable();
  const double y_step = nice_step(yr.hi - yr.lo);
  yr.lo = std::floor(yr.lo / y_step) * y_step;
  yr.hi = std::ceil(yr.hi / y_step) * y_step;
  const double x_step = nice_step(xr.hi - xr.lo);

  const double plot_w = spec.width - kMarginLeft - kMarginRight;
  const double plot_h = spec.height - kMarginTop - kMarginBottom;
  auto px = [&](double x) { return kMarginLeft + (x - xr.lo) / (xr.hi - xr.lo) * plot_w; };
  auto py = [&](double y) { return kMarginTop + (yr.hi - y) / (yr.hi - yr.lo) * plot_h; };

  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << spec.width << "\" height=\""
      << spec.height << "\" viewBox=\"0 0 " << spec.width << ' ' << spec.height
      << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  svg << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg << "<text x=\"" << spec.width / 2 << "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">"
      << escape_xml(spec.title) << "</text>\n";

  // Grid and ticks.
  svg << "<g stroke=\"#e0e0e0\" stroke-width=\"1\">\n";
  for (double y = yr.lo; y <= yr.hi + y_step * 1e-6; y += y_step) {
    svg << "<line x1=\"" << fmt(kMarginLeft) << "\" y1=\"" << fmt(py(y)) << "\" x2=\""
        << fmt(kMarginLeft + plot_w) << "\" y2=\"" << fmt(py(y)) << "\"/>\n";
  }
  const double x_first = std::ceil(xr.lo / x_step) * x_step;
  for (double x = x_first; x <= xr.hi + x_step * 1e-6; x += x_step) {
    svg << "<line x1=\"" << fmt(px(x)) << "\" y1=\"" << fmt(kMarginTop) << "\" x2=\"" << fmt(px(x))
        << "\" y2=\"" << fmt(kMarginTop + plot_h) << "\"/>\n";
  }
  svg << "</g>\n<g fill=\"#333\">\n";
  for (double y = yr.lo; y <= yr.hi + y_step * 1e-6; y += y_step) {
    svg << "<text x=\"" << fmt(kMarginLeft - 8) << "\" y=\"" << fmt(py(y) + 4)
        << "\" text-anchor=\"end\">" << tick_label(y, y_step) << "</text>\n";
  }
  for (double x = x_first; x <= xr.hi + x_step * 1e-6; x += x_step) {
    svg << "<text x=\"" << fmt(px(x)) << "\" y=\"" << fmt(kMarginTop + plot_h + 18)
        << "\" text-anchor=\"middle\">" << tick_label(x, x_step) << "</text>\n";
  }
  svg << "</g>\n";

  // Axes and their labels.
  svg << "<g stroke=\"#333\" stroke-width=\"1.2\">\n"
      << "<line x1=\"" << fmt(kMarginLeft) << "\" y1=\"" << fmt(kMarginTop) << "\" x2=\""
      << fmt(kMarginLeft) << "\" y2=\"" << fmt(kMarginTop + plot_h) << "\"/>\n"
      << "<line x1=\"" << fmt(kMarginLeft) << "\" y1=\"" << fmt(kMarginTop + plot_h) << "\" x2=\""
      << fmt(kMarginLeft + plot_w) << "\" y2=\"" << fmt(kMarginTop + plot_h) << "\"/>\n</g>\n";
  svg << "<text x=\"" << fmt(kMarginLeft + plot_w / 2) << "\" y=\"" << spec.height - 12
      << "\" text-anchor=\"middle\">" << escape_xml(spec.x_label) << "</text>\n";
  svg << "<text transform=\"translate(18 " << fmt(kMarginTop + plot_h / 2)
      << ") rotate(-90)\" text-anchor=\"middle\">" << escape_xml(spec.y_label) << "</text>\n";

  if (spec.marker_x && *spec.marker_x >= xr.lo && *spec.marker_x <= xr.hi) {
    svg << "<line x1=\"" << fmt(px(*spec.marker_x)) << "\" y1=\"" << fmt(kMarginTop) << "\" x2=\""
        << fmt(px(*spec.marker_x)) << "\" y2=\"" << fmt(kMarginTop + plot_h)
        << "\" stroke=\"#888\" stroke-dasharray=\"4 4\"/>\n";
  }

  // Data lines, then the legend.
  for (const PlotLine& line : spec.lines) {
    svg << "<polyline fill=\"none\" stroke=\"" << escape_xml(line.color)
        << "\" stroke-width=\"1.8\"" << (line.dashed ? " stroke-dasharray=\"6 3\"" : "")
        << " points=\"";
    for (std::size_t i = 0; i < line.values.size(); ++i) {
      if (!std::isfinite(line.values[i])) continue;
      svg << fmt(px(line.x_start + static_cast<double>(i))) << ',' << fmt(py(line.values[i]))
          << ' ';
    }
    svg << "\"/>\n";
  }
  const double legend_x = kMarginLeft + plot_w + 16;
  for (std::size_t i = 0; i < spec.lines.size(); ++i) {
    const double y = kMarginTop + 12 + 22 * static_cast<double>(i);
    svg << "<line x1=\"" << fmt(legend_x) << "\" y1=\"" << fmt(y) << "\" x2=\""
        << fmt(legend_x + 26) << "\" y2=\"" << fmt(y) << "\" stroke=\""
        << escape_xml(spec.lines[i].color) << "\" stroke-width=\"2.5\""
        << (spec.lines[i].dashed ? " stroke-dasharray=\"6 3\"" : "") << "/>\n";
    svg << "<text x=\"" << fmt(legend_x + 32) << "\" y=\"" << fmt(y + 4) << "\">"
        << escape_xml(spec.lines[i].label) << "</text>\n";
  }
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace qrt::samples
