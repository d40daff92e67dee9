#include "ops/cpu_features.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace qrt::ops {

namespace {

CpuFeatures detect() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  // __builtin_cpu_supports also checks that the OS saves the wider register state (XCR0), which a
  // raw cpuid bit does not.
  __builtin_cpu_init();
  f.avx2 = __builtin_cpu_supports("avx2");
  f.fma = __builtin_cpu_supports("fma");
  f.avx512f = __builtin_cpu_supports("avx512f");
  f.avx512bw = __builtin_cpu_supports("avx512bw");
  f.avx512vl = __builtin_cpu_supports("avx512vl");
  f.avx512vnni = __builtin_cpu_supports("avx512vnni");
  // GCC 12's __builtin_cpu_supports does not know "avxvnni": read CPUID.(EAX=7,ECX=1):EAX[4]. The
  // VEX form uses only ymm state, which avx2 being usable already guarantees.
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (f.avx2 && __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) != 0) {
    f.avxvnni = (eax & (1u << 4)) != 0;
  }
#endif
  return f;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

}  // namespace qrt::ops
