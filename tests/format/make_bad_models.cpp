// Writes the broken-model corpus tests/data/bad_models/: one .qrt file per defect, plus
// manifest.txt with, per file, the substring the loader's error must contain and what is wrong.
//
//   cmake --build build --target make_bad_models && build/tests/format/make_bad_models
//   tests/data/bad_models
//
// Not part of the test run: the generated files are committed, so that a change to the writer
// cannot silently change what the loader is tested against. The models are written with the
// flatbuffers API directly (not ir::serialize_model, which refuses invalid graphs), one small
// defect each, on top of x [?, 4] -> Linear(fc.weight [3, 4], fc.bias [3]) -> Relu -> y. After
// writing, each file is loaded back and its error checked against the manifest line; the program
// fails if one does not match.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "ir/schema/qrt_generated.h"
#include "ir/serialize.h"

namespace {

using Bytes = std::vector<uint8_t>;

constexpr uint64_t kSeed = 4242;  // weight values
constexpr uint64_t kAlign = 64;

uint64_t align_up(uint64_t n) {
  return (n + kAlign - 1) / kAlign * kAlign;
}

// What may differ from the valid tiny model.
struct Spec {
  const char* identifier = "QRT1";
  uint32_t format_version = 1;
  uint8_t weight_dtype = static_cast<uint8_t>(qrt::fb::DType::F32);
  std::vector<int64_t> weight_shape = {3, 4};
  std::optional<std::vector<float>> weight_scales;  // symmetric per-channel int8 when set
  int32_t fc_weight_index = 1;
  bool cyclic = false;  // fc reads the Relu's output instead of x
  uint16_t act_op = static_cast<uint16_t>(qrt::fb::OpKind::Relu);
  bool act_with_lstm_attrs = false;
  std::optional<int64_t> act_fake_quant_bits;  // act becomes a FakeQuant with these bits
  std::optional<uint8_t> fc_fused_activation;  // fc stores LinearAttrs with this raw activation
  std::optional<uint64_t> weight_offset;       // replaces the laid-out offset of fc.weight
  int64_t weight_offset_shift = 0;             // added to the laid-out offset of fc.weight
};

Bytes weight_bytes(std::size_t n) {
  std::mt19937_64 rng(kSeed);
  std::uniform_int_distribution<int> byte(0, 255);
  Bytes b(n);
  for (auto& x : b) x = static_cast<uint8_t>(byte(rng));
  return b;
}

Bytes build(const Spec& s, const std::vector<uint64_t>& offsets,
            const std::vector<Bytes>& weights) {
  namespace fb = qrt::fb;
  flatbuffers::FlatBufferBuilder fbb;
  auto tensor = [&](const char* name, uint8_t dtype, std::vector<int64_t> shape, int32_t buffer,
                    flatbuffers::Offset<fb::QuantParams> quant = 0) {
    return fb::CreateTensor(fbb, fbb.CreateString(name), static_cast<fb::DType>(dtype),
                            fbb.CreateVector(shape), buffer, quant);
  };
  flatbuffers::Offset<fb::QuantParams> quant = 0;
  if (s.weight_scales) {
    quant = fb::CreateQuantParams(fbb, fb::QuantScheme::SymmetricPerChannel, 0,
                                  fbb.CreateVector(*s.weight_scales));
  }
  const uint8_t f32 = static_cast<uint8_t>(fb::DType::F32);
  std::vector<flatbuffers::Offset<fb::Tensor>> tensors = {
      tensor("x", f32, {-1, 4}, -1),
      tensor("fc.weight", s.weight_dtype, s.weight_shape, 0, quant),
      tensor("fc.bias", f32, {3}, 1),
      tensor("fc", f32, {-1, 3}, -1),
      tensor("act", f32, {-1, 3}, -1),
  };
  const std::vector<int32_t> fc_inputs = {s.cyclic ? 4 : 0, s.fc_weight_index, 2};
  auto fc_attrs_type = fb::Attrs::NONE;
  flatbuffers::Offset<void> fc_attrs = 0;
  if (s.fc_fused_activation) {
    fc_attrs_type = fb::Attrs::LinearAttrs;
    fc_attrs = fb::CreateLinearAttrs(fbb, static_cast<fb::FusedActivation>(*s.fc_fused_activation))
                   .Union();
  }
  auto fc = fb::CreateNode(fbb, fbb.CreateString("fc"), fb::OpKind::Linear, fc_attrs_type, fc_attrs,
                           fbb.CreateVector(fc_inputs), fbb.CreateVector(std::vector<int32_t>{3}));
  auto act_attrs_type = s.act_with_lstm_attrs ? fb::Attrs::LstmAttrs : fb::Attrs::NONE;
  auto act_attrs = s.act_with_lstm_attrs ? fb::CreateLstmAttrs(fbb, 3, 1).Union() : 0;
  if (s.act_fake_quant_bits) {
    act_attrs_type = fb::Attrs::FakeQuantAttrs;
    act_attrs =
        fb::CreateFakeQuantAttrs(fbb, fb::FakeQuantMode::Integer, *s.act_fake_quant_bits).Union();
  }
  auto act = fb::CreateNode(fbb, fbb.CreateString("act"), static_cast<fb::OpKind>(s.act_op),
                            act_attrs_type, act_attrs, fbb.CreateVector(std::vector<int32_t>{3}),
                            fbb.CreateVector(std::vector<int32_t>{4}));
  auto graph = fb::CreateGraph(fbb, fbb.CreateVector(tensors), fbb.CreateVector({fc, act}),
                               fbb.CreateVector(std::vector<int32_t>{0}),
                               fbb.CreateVector(std::vector<int32_t>{4}));
  std::vector<flatbuffers::Offset<fb::Buffer>> buffers;
  for (std::size_t k = 0; k < weights.size(); ++k)
    buffers.push_back(fb::CreateBuffer(fbb, offsets[k], weights[k].size()));
  auto model = fb::CreateModel(fbb, s.format_version, fbb.CreateString("make_bad_models"), graph,
                               fbb.CreateVector(buffers));
  fbb.FinishSizePrefixed(model, s.identifier);
  return Bytes(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

// The tiny model with `s` applied: flatbuffer, then each weight at the next 64-byte boundary
// (the same two-pass layout as the writer: the flatbuffer's size does not depend on the offsets).
Bytes make_model(const Spec& s) {
  const std::size_t weight_size =
      s.weight_dtype == static_cast<uint8_t>(qrt::fb::DType::I8) ? 12 : 48;
  const std::vector<Bytes> weights = {weight_bytes(weight_size), weight_bytes(12)};
  std::vector<uint64_t> offsets(weights.size(), kAlign);
  Bytes fb = build(s, offsets, weights);
  uint64_t cursor = fb.size();
  for (std::size_t k = 0; k < weights.size(); ++k) {
    offsets[k] = align_up(cursor);
    cursor = offsets[k] + weights[k].size();
  }
  const uint64_t file_size = cursor;
  std::vector<uint64_t> stored = offsets;
  if (s.weight_offset) stored[0] = *s.weight_offset;
  stored[0] = static_cast<uint64_t>(static_cast<int64_t>(stored[0]) + s.weight_offset_shift);
  fb = build(s, stored, weights);
  Bytes file(file_size, 0);
  std::memcpy(file.data(), fb.data(), fb.size());
  for (std::size_t k = 0; k < weights.size(); ++k)
    std::memcpy(file.data() + offsets[k], weights[k].data(), weights[k].size());
  return file;
}

Bytes valid_model() {
  return make_model(Spec{});
}

struct Case {
  std::string file;
  std::string expected;  // substring of the loader's error message
  std::string what;      // what is wrong, for people
  std::function<Bytes()> make;
};

std::vector<Case> cases() {
  const uint64_t two_pow_31 = uint64_t{1} << 31;
  const int64_t two_pow_40 = int64_t{1} << 40;
  return {
      {"empty.qrt", "is empty", "a zero-byte file", [] { return Bytes{}; }},
      {"too_small.qrt", "at least 12", "7 bytes, shorter than the 12-byte header",
       [] {
         Bytes b = valid_model();
         b.resize(7);
         return b;
       }},
      {"truncated.qrt", "truncated", "cut to 60 bytes, in the middle of the flatbuffer",
       [] {
         Bytes b = valid_model();
         b.resize(60);
         return b;
       }},
      {"truncated_weights.qrt", "runs past the end of the file",
       "cut 20 bytes into the last weight (an interrupted copy)",
       [] {
         Bytes b = valid_model();
         b.resize(b.size() - 20);
         return b;
       }},
      {"wrong_identifier.qrt", "not a qrt model", "file identifier \"ONNX\" instead of \"QRT1\"",
       [] {
         Spec s;
         s.identifier = "ONNX";
         return make_model(s);
       }},
      {"newer_major_version.qrt", "major version '2'",
       "file identifier \"QRT2\": a future incompatible format",
       [] {
         Spec s;
         s.identifier = "QRT2";
         return make_model(s);
       }},
      {"flipped_bytes.qrt", "flatbuffer is corrupt",
       "two bytes of the root table offset flipped (XOR 0xff), pointing outside the buffer",
       [] {
         Bytes b = valid_model();
         b[6] ^= 0xff;
         b[7] ^= 0xff;
         return b;
       }},
      {"tensor_index_out_of_range.qrt", "input #1 refers to tensor 42",
       "node 'fc' reads tensor 42; the model has 5 tensors",
       [] {
         Spec s;
         s.fc_weight_index = 42;
         return make_model(s);
       }},
      {"negative_dimension.qrt", "negative dimension -3", "fc.weight has shape [-3, 4]",
       [] {
         Spec s;
         s.weight_shape = {-3, 4};
         return make_model(s);
       }},
      {"dynamic_constant.qrt", "constant has a dynamic dimension",
       "fc.weight (a constant) has a dynamic dimension: shape [-1, 4]",
       [] {
         Spec s;
         s.weight_shape = {-1, 4};
         return make_model(s);
       }},
      {"huge_dimension.qrt", "byte size overflows",
       "fc.weight has shape [2^31, 2^31]: 2^62 f32 elements, a byte size past 2^64",
       [two_pow_31] {
         Spec s;
         s.weight_shape = {static_cast<int64_t>(two_pow_31), static_cast<int64_t>(two_pow_31)};
         return make_model(s);
       }},
      {"huge_element_count.qrt", "too many elements",
       "fc.weight has shape [2^40, 2^40]: the element count overflows int64",
       [two_pow_40] {
         Spec s;
         s.weight_shape = {two_pow_40, two_pow_40};
         return make_model(s);
       }},
      {"buffer_past_end.qrt", "runs past the end of the file",
       "fc.weight's buffer starts 128 bytes after the end of the file",
       [] {
         const uint64_t end = valid_model().size();
         Spec s;
         s.weight_offset = align_up(end) + 128;
         return make_model(s);
       }},
      {"misaligned_buffer.qrt", "is not a multiple of 64",
       "fc.weight's buffer offset is 4 bytes past a 64-byte boundary",
       [] {
         Spec s;
         s.weight_offset_shift = 4;
         return make_model(s);
       }},
      {"buffer_overlaps_flatbuffer.qrt", "overlaps the flatbuffer",
       "fc.weight's buffer has offset 0, inside the flatbuffer",
       [] {
         Spec s;
         s.weight_offset = 0;
         return make_model(s);
       }},
      {"buffer_size_mismatch.qrt", "needs 60",
       "fc.weight has shape [3, 5] (60 bytes of f32) but its buffer holds 48 bytes",
       [] {
         Spec s;
         s.weight_shape = {3, 5};
         return make_model(s);
       }},
      {"unknown_dtype.qrt", "unknown dtype 9", "fc.weight has dtype 9 (the schema has 0..6)",
       [] {
         Spec s;
         s.weight_dtype = 9;
         return make_model(s);
       }},
      {"cyclic_graph.qrt", "cycle", "fc reads act's output and act reads fc's: a cycle",
       [] {
         Spec s;
         s.cyclic = true;
         return make_model(s);
       }},
      {"unknown_op_kind.qrt", "unknown op kind 200",
       "node 'act' has op kind 200 (the schema has 0..16)",
       [] {
         Spec s;
         s.act_op = 200;
         return make_model(s);
       }},
      {"wrong_attributes.qrt", "attributes of LstmAttrs, expected none",
       "node 'act' (Relu) carries LstmAttrs",
       [] {
         Spec s;
         s.act_with_lstm_attrs = true;
         return make_model(s);
       }},
      {"nan_quant_scale.qrt", "quantization scale #1 is NaN",
       "fc.weight is int8 per-channel with scales [0.1, NaN, 0.2]",
       [] {
         Spec s;
         s.weight_dtype = static_cast<uint8_t>(qrt::fb::DType::I8);
         s.weight_scales = {0.1f, std::numeric_limits<float>::quiet_NaN(), 0.2f};
         return make_model(s);
       }},
      {"fake_quant_bad_bits.qrt", "bits 12 outside 2..8",
       "node 'act' is a FakeQuant with bits 12 (format version 3)",
       [] {
         Spec s;
         s.format_version = 3;
         s.act_op = static_cast<uint16_t>(qrt::fb::OpKind::FakeQuant);
         s.act_fake_quant_bits = 12;
         return make_model(s);
       }},
      {"fused_activation_out_of_range.qrt", "node 'fc' (Linear): unknown fused activation 7",
       "node 'fc' (Linear) stores LinearAttrs with fused activation 7 (the schema has 0..6; "
       "format version 5)",
       [] {
         Spec s;
         s.format_version = 5;
         s.fc_fused_activation = 7;
         return make_model(s);
       }},
      {"newer_format_version.qrt", "format version 6",
       "Model.format_version is 6; this reader knows 5",
       [] {
         Spec s;
         s.format_version = 6;
         return make_model(s);
       }},
  };
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " OUTPUT_DIR   (e.g. tests/data/bad_models)\n";
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);

  // The unbroken model must load, or every case below would pass for the wrong reason.
  {
    const auto path = dir / "valid.qrt.tmp-check";
    const Bytes b = valid_model();
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    auto g = qrt::ir::load_model_file(path.string());
    std::filesystem::remove(path);
    if (!g.is_ok()) {
      std::cerr << "the unbroken tiny model does not load: " << g.status().to_string() << "\n";
      return 1;
    }
  }

  std::ofstream manifest(dir / "manifest.txt");
  manifest << "# file<TAB>substring the loader's error must contain<TAB>what is wrong\n"
           << "# generated by tests/format/make_bad_models.cpp; checked by tests/format\n";
  int failures = 0;
  for (const Case& c : cases()) {
    const Bytes b = c.make();
    const auto path = dir / c.file;
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    manifest << c.file << '\t' << c.expected << '\t' << c.what << '\n';
    auto g = qrt::ir::load_model_file(path.string());
    if (g.is_ok()) {
      std::cerr << c.file << ": loaded, expected an error containing \"" << c.expected << "\"\n";
      ++failures;
    } else if (g.status().message().find(c.expected) == std::string::npos) {
      std::cerr << c.file << ": error \"" << g.status().message() << "\" lacks \"" << c.expected
                << "\"\n";
      ++failures;
    } else {
      std::cout << c.file << ": " << g.status().to_string() << "\n";
    }
  }
  return failures == 0 ? 0 : 1;
}
