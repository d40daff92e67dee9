// load_model_file maps the file and lends its bytes to the Graph: no weight is copied, every weight
// is 64-byte aligned, and the mapping lives exactly as long as some Graph (or copy) refers to it.
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "ir/serialize.h"
#include "tests/format/sample_graphs.h"
#include "tests/format/temp_dir.h"

namespace qrt {
namespace {

constexpr uint64_t kSeed = 77031;

struct AddressRange {
  std::uintptr_t begin = 0, end = 0;
  bool contains(const void* p, std::size_t size) const {
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    return a >= begin && a + size <= end;
  }
};

// The address ranges this process has mapped from `path`, read from /proc/self/maps (Linux), an
// account of the mapping independent of the loader.
std::vector<AddressRange> mappings_of(const std::filesystem::path& path) {
  const std::string wanted = std::filesystem::canonical(path).string();
  std::vector<AddressRange> ranges;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    std::istringstream fields(line);
    std::string range, perms, offset, dev, inode, name;
    fields >> range >> perms >> offset >> dev >> inode;
    std::getline(fields >> std::ws, name);
    if (name != wanted) continue;
    const auto dash = range.find('-');
    ranges.push_back({std::stoull(range.substr(0, dash), nullptr, 16),
                      std::stoull(range.substr(dash + 1), nullptr, 16)});
  }
  return ranges;
}

bool inside_any(const std::vector<AddressRange>& ranges, const void* p, std::size_t size) {
  for (const auto& r : ranges)
    if (r.contains(p, size)) return true;
  return false;
}

TEST_CASE("weights of a loaded file point into the mapping, 64-byte aligned") {
  MESSAGE("seed " << kSeed);
  testing::TempDir dir("zero_copy");
  const auto path = dir.path() / "model.qrt";
  const ir::Graph original = testing::every_op_graph(kSeed);
  REQUIRE(ir::save_model_file(original, path.string()).is_ok());

  std::optional<ir::Graph> copy;
  {
    auto loaded = ir::load_model_file(path.string());
    INFO(loaded.status().to_string());
    REQUIRE(loaded.is_ok());
    const auto ranges = mappings_of(path);
    REQUIRE_FALSE(ranges.empty());
    int non_empty_weights = 0;
    for (const ir::Value& v : loaded->values) {
      if (!v.is_constant() || v.data->size() == 0) continue;
      INFO("constant '" << v.name << "'");
      CHECK(reinterpret_cast<std::uintptr_t>(v.data->data()) % ir::kWeightAlignment == 0);
      CHECK(inside_any(ranges, v.data->data(), v.data->size()));
      ++non_empty_weights;
    }
    CHECK(non_empty_weights >= 7);
    copy = *loaded;  // copies share the weights (and so the mapping)
  }
  // The Graph that did the loading is gone; the copy keeps the mapping alive.
  REQUIRE(copy.has_value());
  const auto ranges = mappings_of(path);
  CHECK_FALSE(ranges.empty());
  testing::check_graphs_equal(original, *copy);
  for (const ir::Value& v : copy->values)
    if (v.is_constant() && v.data->size() != 0)
      CHECK(inside_any(ranges, v.data->data(), v.data->size()));

  // The last reference gone, the file is unmapped.
  copy.reset();
  CHECK(mappings_of(path).empty());
}

TEST_CASE("load_model_from_memory borrows the caller's bytes") {
  MESSAGE("seed " << kSeed);
  const ir::Graph g = testing::tiny_linear_graph(kSeed);
  auto bytes = ir::serialize_model(g);
  REQUIRE(bytes.is_ok());
  // Over-allocate and align by hand, so the test does not depend on the allocator's alignment.
  std::vector<std::byte> storage(bytes->size() + ir::kWeightAlignment);
  const auto base = reinterpret_cast<std::uintptr_t>(storage.data());
  std::byte* aligned = storage.data() + (ir::kWeightAlignment - base % ir::kWeightAlignment);
  std::copy(bytes->begin(), bytes->end(), aligned);

  auto loaded = ir::load_model_from_memory(aligned, bytes->size(), nullptr);
  INFO(loaded.status().to_string());
  REQUIRE(loaded.is_ok());
  const AddressRange range{reinterpret_cast<std::uintptr_t>(aligned),
                           reinterpret_cast<std::uintptr_t>(aligned) + bytes->size()};
  for (const ir::Value& v : loaded->values) {
    if (!v.is_constant()) continue;
    INFO("constant '" << v.name << "'");
    CHECK(range.contains(v.data->data(), v.data->size()));
  }
  testing::check_graphs_equal(g, *loaded);
}

}  // namespace
}  // namespace qrt
