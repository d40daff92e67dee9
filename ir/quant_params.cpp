#include "ir/quant_params.h"

namespace qrt::ir {

const char* quant_scheme_name(QuantScheme s) {
  switch (s) {
    case QuantScheme::kNone:
      return "none";
    case QuantScheme::kSymmetricPerTensor:
      return "symmetric-per-tensor";
    case QuantScheme::kSymmetricPerChannel:
      return "symmetric-per-channel";
    case QuantScheme::kAffinePerTensor:
      return "affine-per-tensor";
    case QuantScheme::kAffinePerChannel:
      return "affine-per-channel";
    case QuantScheme::kNF4Block:
      return "nf4-block";
  }
  return "invalid";
}

}  // namespace qrt::ir
