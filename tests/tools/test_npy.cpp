// .npy reading and writing: round trips, hand-made version 2.0 headers, rejection of everything
// that is not little-endian float32 in C order, and (when NumPy is installed) files NumPy itself
// wrote.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include "tests/support/random.h"
#include "tools/npy.h"

using namespace qrt;
using tools::encode_npy;
using tools::parse_npy;

namespace {

std::vector<std::byte> bytes_of(const std::string& s) {
  std::vector<std::byte> b(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) b[i] = static_cast<std::byte>(s[i]);
  return b;
}

// A .npy file with a hand-written header dict and `data_bytes` bytes of payload.
std::vector<std::byte> npy_with_header(const std::string& dict, std::size_t data_bytes,
                                       int major = 1) {
  std::string header = dict;
  const std::size_t prelude = major == 1 ? 10 : 12;
  while ((prelude + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string file = std::string("\x93NUMPY", 6) + static_cast<char>(major) + '\0';
  const std::size_t len = header.size();
  file += static_cast<char>(len & 0xff);
  file += static_cast<char>((len >> 8) & 0xff);
  if (major != 1) file += std::string(2, '\0');
  file += header;
  file += std::string(data_bytes, '\0');
  return bytes_of(file);
}

std::string error_of(const std::vector<std::byte>& bytes) {
  auto r = parse_npy(bytes, "'test.npy'");
  return r.is_ok() ? std::string("(accepted)") : r.status().message();
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("npy: encode then parse gives back the shape and the data") {
  const uint64_t seed = 17;
  MESSAGE("seed " << seed);
  for (ir::Shape shape : {ir::Shape{}, ir::Shape{1}, ir::Shape{5}, ir::Shape{3, 7},
                          ir::Shape{2, 1, 13}, ir::Shape{0, 4}}) {
    INFO("shape " << ir::shape_to_string(shape));
    const auto data = testing::random_floats(static_cast<std::size_t>(ir::numel(shape)), seed);
    auto bytes = encode_npy(shape, data);
    REQUIRE(bytes.is_ok());
    const std::size_t header_end = bytes->size() - data.size() * sizeof(float);
    CHECK(header_end % 64 == 0);  // data starts aligned, as NumPy writes it
    CHECK(static_cast<char>((*bytes)[header_end - 1]) == '\n');
    auto t = parse_npy(*bytes, "round trip");
    REQUIRE_MESSAGE(t.is_ok(), t.status().to_string());
    CHECK(t->shape() == shape);
    CHECK(t->dtype() == ir::DType::kF32);
    auto got = t->span<float>();
    CHECK(std::vector<float>(got.begin(), got.end()) == data);
  }
  const std::vector<float> five(5, 1.0f);
  auto one_dim = encode_npy({5}, five);
  REQUIRE(one_dim.is_ok());
  const std::string text(reinterpret_cast<const char*>(one_dim->data()), 64);
  CHECK(contains(text, "'shape': (5,)"));  // a one-element Python tuple keeps its comma
}

TEST_CASE("npy: encode rejects data that does not match the shape") {
  const std::vector<float> three(3, 0.0f);
  CHECK_FALSE(encode_npy({2, 2}, three).is_ok());
}

TEST_CASE("npy: version 2.0 headers and key order are accepted") {
  auto v2 = npy_with_header("{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4'}", 24, 2);
  auto t = parse_npy(v2, "v2");
  REQUIRE_MESSAGE(t.is_ok(), t.status().to_string());
  CHECK(t->shape() == ir::Shape{2, 3});
}

TEST_CASE("npy: malformed files and unsupported arrays are rejected with a reason") {
  const std::string good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  CHECK(error_of(npy_with_header(good, 24)) == "(accepted)");

  CHECK(contains(error_of(bytes_of("PK\x03\x04 not numpy at all")), "not a .npy file"));
  CHECK(contains(error_of({}), "not a .npy file"));
  CHECK(contains(error_of(npy_with_header(good, 24, 3)), "version 3.0"));
  CHECK(contains(error_of(npy_with_header(good, 20)), "truncated"));
  CHECK(contains(error_of(npy_with_header(good, 28)), "trailing bytes"));
  CHECK(contains(
      error_of(npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", 48)),
      "dtype '<f8' is not supported"));
  CHECK(contains(
      error_of(npy_with_header("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", 24)),
      "dtype '>f4'"));
  CHECK(contains(
      error_of(npy_with_header("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 24)),
      "Fortran-order"));
  CHECK(contains(
      error_of(npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", 24)),
      "non-negative"));
  CHECK(contains(error_of(npy_with_header("{'descr': '<f4', 'shape': (2, 3), }", 24)),
                 "needs 'descr', 'fortran_order' and 'shape'"));
  CHECK(contains(error_of(npy_with_header("not a dict", 24)), "malformed .npy header"));
  CHECK(contains(
      error_of(npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, "
                               "99999999999), }",
                               0)),
      "'test.npy'"));

  // A header length that points past the end of the file.
  auto lying = npy_with_header(good, 0);
  lying[8] = std::byte{0xff};
  lying[9] = std::byte{0xff};
  CHECK(contains(error_of(lying), "exceeds the file"));
}

TEST_CASE("npy: read_npy names missing files and directories") {
  auto missing = tools::read_npy("/nonexistent/dir/x.npy");
  REQUIRE_FALSE(missing.is_ok());
  CHECK(contains(missing.status().message(), "/nonexistent/dir/x.npy"));
  auto dir = tools::read_npy(std::filesystem::temp_directory_path().string());
  REQUIRE_FALSE(dir.is_ok());
  CHECK(contains(dir.status().message(), "directory"));
}

TEST_CASE("npy: files written by NumPy are read, ours are read by NumPy") {
  if (std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) {
    MESSAGE("SKIPPED: /usr/bin/python3 with numpy is not available");
    return;
  }
  const auto dir =
      std::filesystem::temp_directory_path() / ("qrt_test_npy_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string theirs = (dir / "theirs.npy").string();
  const std::string f64 = (dir / "f64.npy").string();
  const std::string fortran = (dir / "fortran.npy").string();
  const std::string ours = (dir / "ours.npy").string();
  const std::string script =
      "/usr/bin/python3 -c \"import numpy as np; "
      "a = (np.arange(3*5, dtype=np.float32) * 0.5 - 2).reshape(3, 5); "
      "np.save('" +
      theirs + "', a); np.save('" + f64 +
      "', a.astype(np.float64)); "
      "np.save('" +
      fortran + "', np.asfortranarray(a))\"";
  REQUIRE(std::system(script.c_str()) == 0);

  auto t = tools::read_npy(theirs);
  REQUIRE_MESSAGE(t.is_ok(), t.status().to_string());
  CHECK(t->shape() == ir::Shape{3, 5});
  auto got = t->span<float>();
  for (int i = 0; i < 15; ++i) CHECK(got[i] == static_cast<float>(i) * 0.5f - 2.0f);
  auto wide = tools::read_npy(f64);
  REQUIRE_FALSE(wide.is_ok());
  CHECK(contains(wide.status().message(), "'<f8'"));
  auto fortran_order = tools::read_npy(fortran);
  REQUIRE_FALSE(fortran_order.is_ok());
  CHECK(contains(fortran_order.status().message(), "Fortran-order"));

  const auto data = testing::random_floats(2 * 1 * 7, 99);
  REQUIRE(tools::write_npy(ours, {2, 1, 7}, data).is_ok());
  std::string expected = "[";
  for (float x : data) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9g,", static_cast<double>(x));
    expected += buf;
  }
  expected += "]";
  const std::string check =
      "/usr/bin/python3 -c \"import numpy as np; a = np.load('" + ours +
      "'); assert a.dtype == np.float32 and a.shape == (2, 1, 7), (a.dtype, a.shape); "
      "assert (a.ravel() == np.array(" +
      expected + ", dtype=np.float32)).all()\"";
  CHECK(std::system(check.c_str()) == 0);
  std::filesystem::remove_all(dir);
}
