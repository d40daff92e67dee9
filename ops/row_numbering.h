// How a kernel names the rows of one call in run-time errors ("NaN at row 115, column 5") when
// the call covers only some rows of a larger tensor: row m of the call is row first + m·stride of
// the caller's tensor. A Linear passes {0, 1}; an LSTM projecting steps t0.. of batch row b of its
// [B·T, C] input passes {b·T + t0, 1}, and step t of every batch row {t, T}.
#pragma once

#include <cstdint>

namespace qrt::ops {

struct RowNumbering {
  int64_t first = 0;
  int64_t stride = 1;

  int64_t operator()(int64_t m) const { return first + m * stride; }
};

}  // namespace qrt::ops
