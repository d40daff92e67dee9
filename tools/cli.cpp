#include "tools/cli.h"

#include <cstdio>

namespace qrt::tools {

const char* usage_text() {
  return R"(usage: qrt <command> [arguments]

commands:
  inspect MODEL            print a model's header, inputs, outputs, nodes and weight sizes
  run MODEL --input NAME=FILE.npy [--input ...] --output-dir DIR [--device cpu|cuda] [--strict]
                           run a model on float32 .npy inputs and write DIR/<output>.npy
                           per graph output (DIR is created if missing)
  quantize MODEL -o OUT --mode fp16|bf16|w8|dynamic|static|nf4 [options]
                           convert a float model, fuse activations into the Linears that feed
                           them, save it to OUT and print each weighted layer's precision and
                           reason, and the size before and after
  compare A.qrt B.qrt --input NAME=FILE.npy [--input ...]
                           run both models on the same inputs and print, per activation
                           (paired by value name), SQNR dB, cosine and max abs error of B vs A
  finetune MODEL --data FILE.csv -o OUT [--epochs N] [--lr X] [--batch B] [--seed S]
                           [--qat int8|nf4] [options]
                           train a forecasting model on ETT data (ETTh1 protocol), print the
                           train/val loss per epoch and the test MSE/MAE (qrt finetune --help)

options of run:
  --input NAME=FILE.npy    value of graph input NAME (float32, C order); repeat per input
  --output-dir DIR         where the outputs go
  --device cpu|cuda        backend (default cpu); nodes without a kernel there run on the cpu
  --strict                 fail, naming the node, instead of falling back to the cpu

options of quantize:
  -o, --output OUT         the converted model
  --mode MODE              fp16, bf16 (weights downcast), w8 (int8 weights, float activations),
                           dynamic (int8 weights and per-row int8 activations at run time),
                           static (int8 weights and calibrated per-tensor int8 activations),
                           nf4 (4-bit NormalFloat weights)
  --keep LIST              layers kept in fp16: first,last (default), none, or a comma list of
                           first, last, auto and node-name patterns ('*' matches any run of
                           characters); auto (needs --calib) quantizes one layer at a time on the
                           calibration inputs and keeps the most sensitive layers in fp16 until
                           the model output meets --target-error
  --target-error E         auto: model-output relative MSE vs fp32, sum (y_q - y)^2 / sum y^2
                           (default 1e-3, output SQNR 30 dB)
  --min-in-features N      keep (fp32) Linear layers with fewer input features (default 0)
  --threshold T            dynamic: LLM.int8() outlier threshold, 0 disables (default 6.0)
  --block-size B           nf4: block size, a power of two from 32 to 4096 (default 64)
  --calib FILE.npy         static, auto: calibration inputs [N, ...] for the model's single input
  --calib-batch N          static, auto: rows of FILE.npy per calibration run (default 32)
  --method METHOD          static: minmax (default), ema, percentile, mse or entropy
  --no-fuse                keep each activation a node of its own (default: a Linear whose
                           output only an activation reads applies it in its own kernel)

  qrt --help               this text
)";
}

int report_error(const std::string& message, int exit_code) {
  std::string line = message;
  for (char& c : line)
    if (c == '\n' || c == '\r') c = ' ';
  std::fprintf(stderr, "qrt: error: %s\n", line.c_str());
  return exit_code;
}

std::string load_error(const std::string& path, const Status& status) {
  const std::string& m = status.message();
  if (m.find(path) != std::string::npos) return "cannot load model: " + m;
  return "cannot load model '" + path + "': " + m;
}

int report_error(const Status& status, int exit_code) {
  return report_error(status.message(), exit_code);
}

}  // namespace qrt::tools
