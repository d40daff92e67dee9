// Every file of the broken-model corpus (tests/data/bad_models, listed in its manifest.txt) is
// rejected with a message that says what is wrong; file-system errors name the path.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <new>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "ir/serialize.h"
#include "tests/format/sample_graphs.h"
#include "tests/format/temp_dir.h"

#ifndef QRT_BAD_MODELS_DIR
#error "QRT_BAD_MODELS_DIR must name tests/data/bad_models"
#endif

namespace qrt {
namespace {

struct ManifestEntry {
  std::string file, expected, what;
};

std::vector<ManifestEntry> read_manifest(const std::filesystem::path& dir) {
  std::ifstream in(dir / "manifest.txt");
  std::vector<ManifestEntry> entries;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    ManifestEntry e;
    std::getline(fields, e.file, '\t');
    std::getline(fields, e.expected, '\t');
    std::getline(fields, e.what);
    entries.push_back(e);
  }
  return entries;
}

TEST_CASE("every model in the corpus is rejected with the expected message") {
  const std::filesystem::path dir = QRT_BAD_MODELS_DIR;
  const auto entries = read_manifest(dir);
  REQUIRE(entries.size() >= 12);
  std::set<std::string> listed;
  for (const ManifestEntry& e : entries) {
    INFO(e.file << ": " << e.what);
    REQUIRE_FALSE(e.expected.empty());
    listed.insert(e.file);
    const std::string path = (dir / e.file).string();
    auto loaded = ir::load_model_file(path);
    REQUIRE_FALSE(loaded.is_ok());
    const std::string& message = loaded.status().message();
    INFO("message: " << loaded.status().to_string());
    CHECK(message.find(e.expected) != std::string::npos);
    CHECK(message.find(path) != std::string::npos);
  }
  // A file nobody described would be a test nobody checks.
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".qrt") continue;
    INFO("unlisted corpus file " << entry.path());
    CHECK(listed.count(entry.path().filename().string()) == 1);
  }
}

TEST_CASE("file-system errors name the path") {
  testing::TempDir dir("bad_paths");
  SUBCASE("missing file") {
    const std::string path = (dir.path() / "missing.qrt").string();
    auto r = ir::load_model_file(path);
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == StatusCode::kIoError);
    CHECK(r.status().message().find(path) != std::string::npos);
  }
  SUBCASE("a directory") {
    const std::string path = dir.path().string();
    auto r = ir::load_model_file(path);
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == StatusCode::kIoError);
    CHECK(r.status().message().find("directory") != std::string::npos);
    CHECK(r.status().message().find(path) != std::string::npos);
  }
  SUBCASE("an empty file") {
    const std::string path = (dir.path() / "empty.qrt").string();
    std::ofstream{path};
    auto r = ir::load_model_file(path);
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == StatusCode::kInvalidModel);
    CHECK(r.status().message().find("empty") != std::string::npos);
    CHECK(r.status().message().find(path) != std::string::npos);
  }
}

TEST_CASE("load_model_from_memory checks the base alignment and null input") {
  const ir::Graph g = testing::tiny_linear_graph(5);
  auto bytes = ir::serialize_model(g);
  REQUIRE(bytes.is_ok());
  const std::size_t n = bytes->size();
  void* block = ::operator new(n + ir::kWeightAlignment, std::align_val_t(ir::kWeightAlignment));
  auto* base = static_cast<std::byte*>(block);
  std::memcpy(base, bytes->data(), n);
  CHECK(ir::load_model_from_memory(base, n, nullptr).is_ok());
  // The same bytes one byte further on: weights would be misaligned, so the loader refuses.
  std::memmove(base + 1, base, n);
  auto shifted = ir::load_model_from_memory(base + 1, n, nullptr);
  REQUIRE_FALSE(shifted.is_ok());
  CHECK(shifted.status().message().find("aligned") != std::string::npos);
  ::operator delete(block, std::align_val_t(ir::kWeightAlignment));

  auto null = ir::load_model_from_memory(nullptr, 100, nullptr);
  REQUIRE_FALSE(null.is_ok());
  CHECK(null.status().message().find("null") != std::string::npos);
}

}  // namespace
}  // namespace qrt
