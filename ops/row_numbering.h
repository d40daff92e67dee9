// How a kernel names the rows of one call in run-time errors ("NaN at row 115, column 5") when
// the call covers only some rows of a larger tensor, possibly gathered from several places: the
// call's rows come in runs of `run` consecutive rows of the caller's tensor, the first run starting
// at row `first` and each next one `run_stride` rows further. A Linear passes the default (row m
// is row m); an LSTM projecting steps t0 .. t0+S-1 of every batch row of its [B·T, C] input passes
// {t0, S, T}, and step t of every batch row {t, 1, T}.
#pragma once

#include <cstdint>
#include <limits>

namespace qrt::ops {

struct RowNumbering {
  int64_t first = 0;
  int64_t run = std::numeric_limits<int64_t>::max();
  int64_t run_stride = 0;

  int64_t operator()(int64_t m) const { return first + m / run * run_stride + m % run; }
};

}  // namespace qrt::ops
