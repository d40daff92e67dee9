// `qrt finetune` end to end on a synthetic ETT file (the protocol's 14400 rows of noisy sines) and
// a small forecasting model: it trains, reports, stops early with --patience, writes a loadable
// model with new weights, and rejects bad input with a one-line error and a non-zero exit code.
// The same file checks load_ett_splits, the data preparation qrt finetune runs.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

#include "ir/serialize.h"
#include "tests/support/random.h"
#include "tests/train/trainer_models.h"
#include "tools/cli.h"
#include "train/ett_data.h"

namespace qrt::train {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kLookback = 12, kHorizon = 4;

struct Fixture {
  fs::path dir;
  std::string model, data;
  Fixture() {
    dir = fs::temp_directory_path() / ("qrt_finetune_cli_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    model = (dir / "model.qrt").string();
    data = (dir / "ett.csv").string();
    auto graph = testing::forecasting_mlp(kLookback, kHorizon, 16, 3);
    REQUIRE(graph.is_ok());
    REQUIRE(ir::save_model_file(*graph, model).is_ok());
    constexpr uint64_t kSeed = 99;
    MESSAGE("data seed " << kSeed);
    const auto noise = qrt::testing::random_normal(kTestEndRow * kEttChannels, kSeed, 0.1f);
    std::ofstream csv(data);
    csv << kEttHeader << "\n";
    for (int64_t r = 0; r < kTestEndRow; ++r) {
      csv << "2016-07-01 00:00:00";
      for (int c = 0; c < kEttChannels; ++c)
        csv << ","
            << 10.0 + 3.0 * std::sin(2.0 * std::numbers::pi * r / (24.0 + 7 * c)) +
                   noise[static_cast<std::size_t>(r * kEttChannels + c)];
      csv << "\n";
    }
  }
  ~Fixture() { fs::remove_all(dir); }
  std::string out(const std::string& name) const { return (dir / name).string(); }
};

int finetune(std::vector<std::string> args) {
  return tools::finetune_command(args);
}

TEST_CASE("qrt finetune trains a model and writes it") {
  Fixture f;
  const std::string out = f.out("trained.qrt");
  const int rc = finetune({f.model,  "--data",    f.data, "-o",       out,  "--lookback",
                           "12",     "--horizon", "4",    "--epochs", "2",  "--max-steps",
                           "40",     "--lr",      "1e-2", "--batch",  "32", "--schedule",
                           "cosine", "--clip",    "1",    "--seed",   "5"});
  REQUIRE(rc == tools::kExitOk);
  auto before = ir::load_model_file(f.model);
  auto after = ir::load_model_file(out);
  REQUIRE((before.is_ok() && after.is_ok()));
  CHECK(after->metadata.count("finetune") == 1);
  const auto w0 = before->values[before->find_value("fc1.weight")].data->as<float>();
  const auto w1 = after->values[after->find_value("fc1.weight")].data->as<float>();
  REQUIRE(w0.size() == w1.size());
  CHECK_FALSE(std::equal(w0.begin(), w0.end(), w1.begin()));

  // Same seed, same model, bit for bit.
  const std::string again = f.out("again.qrt");
  REQUIRE(finetune({f.model,  "--data",    f.data, "-o",       again, "--lookback",
                    "12",     "--horizon", "4",    "--epochs", "2",   "--max-steps",
                    "40",     "--lr",      "1e-2", "--batch",  "32",  "--schedule",
                    "cosine", "--clip",    "1",    "--seed",   "5",   "--no-progress"}) ==
          tools::kExitOk);
  auto second = ir::load_model_file(again);
  REQUIRE(second.is_ok());
  const auto w2 = second->values[second->find_value("fc1.weight")].data->as<float>();
  CHECK(std::equal(w1.begin(), w1.end(), w2.begin()));
}

// The epochs qrt finetune ran, as it records them in the model's metadata.
std::string recorded_run(const std::string& path) {
  auto model = ir::load_model_file(path);
  REQUIRE(model.is_ok());
  return model->metadata.at("finetune");
}

TEST_CASE("qrt finetune --patience stops once the val MSE stops improving") {
  Fixture f;
  const std::string out = f.out("patience.qrt");
  // At lr 0 the weights never change, so every epoch after the first ties the best val MSE: with
  // patience 1 the second epoch is the last.
  const auto run = [&](const std::string& patience) {
    return finetune({f.model, "--data", f.data, "-o", out, "--lookback", "12", "--horizon", "4",
                     "--epochs", "3", "--max-steps", "2", "--lr", "0", "--patience", patience,
                     "--no-progress"});
  };
  REQUIRE(run("1") == tools::kExitOk);
  CHECK(recorded_run(out).find("finetune, 2 epoch(s)") != std::string::npos);
  REQUIRE(run("0") == tools::kExitOk);
  CHECK(recorded_run(out).find("finetune, 3 epoch(s)") != std::string::npos);
  CHECK(run("-1") == tools::kExitUsage);
}

TEST_CASE("load_ett_splits windows the three splits with the train statistics") {
  Fixture f;
  auto splits = load_ett_splits(f.data, kLookback, kHorizon);
  REQUIRE_MESSAGE(splits.is_ok(), splits.status().to_string());
  auto table = load_ett_csv(f.data);
  REQUIRE(table.is_ok());
  auto stats = train_statistics(*table);
  REQUIRE(stats.is_ok());
  CHECK(splits->stats.mean == stats->mean);
  CHECK(splits->stats.std == stats->std);
  const std::pair<EttSplit, const WindowedSeries*> cases[] = {{EttSplit::kTrain, &splits->train},
                                                              {EttSplit::kVal, &splits->val},
                                                              {EttSplit::kTest, &splits->test}};
  for (const auto& [split, series] : cases) {
    INFO(split_name(split));
    auto expected = WindowedSeries::make(*table, *stats, split, kLookback, kHorizon);
    REQUIRE(expected.is_ok());
    REQUIRE(series->window_count() == expected->window_count());
    CHECK(series->lookback() == kLookback);
    CHECK(series->horizon() == kHorizon);
    const int64_t last = expected->window_count() - 1;
    for (const int64_t w : {int64_t{0}, last}) {
      CHECK(std::equal(series->input(w), series->input(w) + kLookback * kEttChannels,
                       expected->input(w)));
      CHECK(std::equal(series->target(w), series->target(w) + kHorizon * kEttChannels,
                       expected->target(w)));
    }
  }
  CHECK_FALSE(load_ett_splits(f.out("missing.csv"), kLookback, kHorizon).is_ok());
  CHECK_FALSE(load_ett_splits(f.data, 0, kHorizon).is_ok());
}

// Quantization-aware fine-tuning: the converted model holds int8 (or NF4) weights and loads.
void check_qat(const std::string& mode, ir::DType quantized) {
  Fixture f;
  auto graph = testing::forecasting_mlp(kLookback, kHorizon, 64, 4, true);
  REQUIRE(graph.is_ok());
  REQUIRE(ir::save_model_file(*graph, f.model).is_ok());
  const std::string out = f.out("qat.qrt");
  REQUIRE(finetune({f.model, "--data", f.data, "-o", out, "--lookback", "12", "--horizon", "4",
                    "--max-steps", "20", "--lr", "3e-3", "--batch", "32", "--qat", mode,
                    "--calib-windows", "64"}) == tools::kExitOk);
  auto converted = ir::load_model_file(out);
  REQUIRE(converted.is_ok());
  bool has_quantized = false;
  for (const ir::Value& v : converted->values) has_quantized |= v.dtype == quantized;
  CHECK(has_quantized);
  for (const ir::Node& n : converted->nodes) CHECK(n.op != ir::OpKind::kFakeQuant);
}

TEST_CASE("qrt finetune --qat int8 writes the static int8 graph") {
  check_qat("int8", ir::DType::kI8);
}

TEST_CASE("qrt finetune --qat nf4 writes the NF4 graph") {
  check_qat("nf4", ir::DType::kNF4);
}

TEST_CASE("qrt finetune --init-seed trains from scratch") {
  Fixture f;
  const std::string out = f.out("scratch.qrt");
  REQUIRE(finetune({f.model, "--data", f.data, "-o", out, "--lookback", "12", "--horizon", "4",
                    "--max-steps", "30", "--lr", "1e-2", "--init-seed", "8"}) == tools::kExitOk);
  auto trained = ir::load_model_file(out);
  REQUIRE(trained.is_ok());
  CHECK(ir::verify(*trained).is_ok());
}

TEST_CASE("qrt finetune rejects bad input") {
  Fixture f;
  const std::string out = f.out("x.qrt");
  // The model's horizon is 4.
  CHECK(finetune({f.model, "--data", f.data, "-o", out, "--lookback", "12"}) == tools::kExitError);
  CHECK(finetune({f.model, "--data", f.data, "-o", out, "--lookback", "13", "--horizon", "4"}) ==
        tools::kExitError);
  CHECK(finetune({f.model, "-o", out}) == tools::kExitUsage);
  CHECK(finetune({f.model, "--data", f.data}) == tools::kExitUsage);
  CHECK(finetune({f.model, "--data", f.data, "-o", out, "--epochs", "0"}) == tools::kExitUsage);
  CHECK(finetune({f.model, "--data", f.data, "-o", out, "--qat", "int4"}) == tools::kExitUsage);
  CHECK(finetune({f.model, "--data", f.data, "-o", out, "--qat", "int8", "--init-seed", "1"}) ==
        tools::kExitUsage);
  CHECK(finetune({f.model, "--data", f.data, "-o", out, "--optimizer", "sgd"}) ==
        tools::kExitUsage);
  // A short data file: the protocol needs 14400 rows.
  const std::string short_csv = f.out("short.csv");
  {
    std::ofstream csv(short_csv);
    csv << kEttHeader << "\n2016-07-01 00:00:00,1,2,3,4,5,6,7\n";
  }
  CHECK(finetune({f.model, "--data", short_csv, "-o", out, "--lookback", "12", "--horizon", "4"}) ==
        tools::kExitError);
  CHECK_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace qrt::train
