// Run-time detection of the x86-64 instruction-set extensions the optimized CPU kernels use. The
// build never assumes any of them (no -march=native): each optimized kernel is compiled for its
// ISA with a function-level target attribute and chosen only when this CPU reports it.
#pragma once

namespace qrt::ops {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512vnni = false;  // vpdpbusd on 512-bit registers (EVEX)
  bool avxvnni = false;     // vpdpbusd on 256-bit registers (VEX, Alder Lake / Zen 5)
};

// Features of the CPU running this process. Computed once (the answer cannot change while the
// process runs) and returned by const reference; on non-x86 builds every flag is false.
const CpuFeatures& cpu_features();

}  // namespace qrt::ops
