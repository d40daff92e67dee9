// A small hand-written SVG line chart (axes with ticks, grid, legend): enough to show a forecast
// against the truth without a plotting library.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace qrt::samples {

struct PlotLine {
  std::string label;   // legend text
  std::string color;   // any SVG colour, e.g. "#1f77b4"
  double x_start = 0;  // x of values[0]; later values step by 1
  std::vector<double> values;
  bool dashed = false;
};

struct PlotSpec {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<PlotLine> lines;
  std::optional<double> marker_x;  // a dashed vertical line, e.g. where the forecast starts
  int width = 960;
  int height = 440;
};

// Returns a standalone SVG document. Non-finite values are skipped (they break the polyline).
std::string render_line_plot_svg(const PlotSpec& spec);

}  // namespace qrt::samples
