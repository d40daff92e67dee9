// Damaged models must be rejected cleanly or load into a graph that passes ir::verify — never
// crash, hang or read outside the bytes they were given (run under -fsanitize=address,undefined to
// see the last one; each damaged copy sits in an allocation of exactly its size).
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <new>
#include <random>

#include "ir/serialize.h"
#include "tests/format/sample_graphs.h"

namespace qrt {
namespace {

constexpr uint64_t kGraphSeed = 9001;
constexpr uint64_t kFuzzSeed = 0x5eed'f00d;  // QRT_FUZZ_SEED=<n> in the environment replaces it
constexpr int kByteFlips = 40000;
// Truncations past the flatbuffer change only which weights fit; a prime stride samples them.
constexpr std::size_t kWeightRegionStride = 61;

// `size` bytes, 64-byte aligned, and no slack after them for an over-read to hide in.
class ExactBuffer {
 public:
  explicit ExactBuffer(std::size_t size)
      : data_(static_cast<std::byte*>(
            ::operator new(size == 0 ? 1 : size, std::align_val_t(ir::kWeightAlignment)))),
        size_(size) {}
  ExactBuffer(const ExactBuffer&) = delete;
  ExactBuffer& operator=(const ExactBuffer&) = delete;
  ~ExactBuffer() { ::operator delete(data_, std::align_val_t(ir::kWeightAlignment)); }
  std::byte* data() { return data_; }
  std::size_t size() const { return size_; }

 private:
  std::byte* data_;
  std::size_t size_;
};

uint64_t fuzz_seed() {
  const char* env = std::getenv("QRT_FUZZ_SEED");
  return env != nullptr ? std::strtoull(env, nullptr, 0) : kFuzzSeed;
}

struct Outcomes {
  int rejected = 0;
  int loaded = 0;
};

// Loads `size` bytes at `data`; a success must be a verified graph whose weights can be read.
void load_and_check(const std::byte* data, std::size_t size, Outcomes& outcomes) {
  auto loaded = ir::load_model_from_memory(data, size, nullptr);
  if (!loaded.is_ok()) {
    CHECK_FALSE(loaded.status().message().empty());
    ++outcomes.rejected;
    return;
  }
  ++outcomes.loaded;
  const Status s = ir::verify(*loaded);
  INFO(s.to_string());
  CHECK(s.is_ok());
  // Touch every weight byte: an out-of-range buffer would show up under AddressSanitizer.
  unsigned checksum = 0;
  for (const ir::Value& v : loaded->values)
    if (v.is_constant())
      for (std::byte b : v.data->as<std::byte>()) checksum += static_cast<unsigned>(b);
  (void)checksum;
}

std::size_t flatbuffer_end(const std::vector<std::byte>& model) {
  uint32_t prefix = 0;
  std::memcpy(&prefix, model.data(), sizeof prefix);
  return std::size_t{prefix} + 4;
}

TEST_CASE("truncated models are rejected, never crash") {
  MESSAGE("graph seed " << kGraphSeed);
  auto model = ir::serialize_model(testing::every_op_graph(kGraphSeed));
  REQUIRE(model.is_ok());
  const std::size_t header_region = flatbuffer_end(*model);
  Outcomes outcomes;
  auto try_length = [&](std::size_t n) {
    INFO("truncated to " << n << " of " << model->size() << " bytes");
    ExactBuffer buf(n);
    if (n != 0) std::memcpy(buf.data(), model->data(), n);
    load_and_check(buf.data(), n, outcomes);
  };
  for (std::size_t n = 0; n <= header_region; ++n) try_length(n);
  for (std::size_t n = header_region + 1; n < model->size(); n += kWeightRegionStride)
    try_length(n);
  MESSAGE("truncations: " << outcomes.rejected << " rejected, " << outcomes.loaded << " loaded");
  // Only the complete file holds every weight; every cut must be refused.
  CHECK(outcomes.loaded == 0);
  CHECK(outcomes.rejected > static_cast<int>(header_region));
}

TEST_CASE("models with flipped bytes are rejected or verified, never crash") {
  const uint64_t seed = fuzz_seed();
  MESSAGE("graph seed " << kGraphSeed << ", fuzz seed " << seed);
  auto model = ir::serialize_model(testing::every_op_graph(kGraphSeed));
  REQUIRE(model.is_ok());
  const std::size_t header_region = flatbuffer_end(*model);
  ExactBuffer buf(model->size());
  std::memcpy(buf.data(), model->data(), model->size());

  std::mt19937_64 rng(seed);
  // Most damage goes to the flatbuffer, where the structure is; weights are opaque bytes.
  std::uniform_int_distribution<std::size_t> in_header(0, header_region - 1);
  std::uniform_int_distribution<std::size_t> anywhere(0, model->size() - 1);
  std::uniform_int_distribution<int> percent(0, 99);
  std::uniform_int_distribution<int> mask(1, 255);
  std::uniform_int_distribution<int> bytes_per_trial(1, 4);
  // Boundary values make lengths, offsets and enums land just outside their ranges.
  constexpr uint8_t kInteresting[] = {0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff};

  Outcomes outcomes;
  const auto start = std::chrono::steady_clock::now();
  for (int trial = 0; trial < kByteFlips; ++trial) {
    std::size_t positions[4];
    const int count = bytes_per_trial(rng);
    for (int k = 0; k < count; ++k) {
      const std::size_t pos = percent(rng) < 85 ? in_header(rng) : anywhere(rng);
      positions[k] = pos;
      auto& byte = reinterpret_cast<uint8_t&>(buf.data()[pos]);
      if (percent(rng) < 50) {
        byte ^= static_cast<uint8_t>(mask(rng));
      } else {
        byte = kInteresting[static_cast<std::size_t>(percent(rng)) % sizeof kInteresting];
      }
    }
    INFO("trial " << trial << ", first damaged byte at " << positions[0]);
    load_and_check(buf.data(), buf.size(), outcomes);
    for (int k = 0; k < count; ++k) buf.data()[positions[k]] = (*model)[positions[k]];
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  MESSAGE("byte flips: " << outcomes.rejected << " rejected, " << outcomes.loaded
                         << " loaded and verified, in " << seconds << " s");
  CHECK(outcomes.rejected > kByteFlips / 4);
  CHECK(outcomes.loaded > 0);
  // The undamaged bytes still load: the restore loop above put everything back.
  Outcomes last;
  load_and_check(buf.data(), buf.size(), last);
  CHECK(last.loaded == 1);
}

}  // namespace
}  // namespace qrt
