// ETTh1 loading and the standard forecasting protocol. The code lives in train/ett_data.h (the
// training engine's data loader uses it too); this header keeps the sample's names.
#pragma once

#include "train/ett_data.h"

namespace qrt::samples {

using train::ChannelStats;
using train::EttSplit;
using train::EttSplits;
using train::EttTable;
using train::kEttChannelNames;
using train::kEttChannels;
using train::kEttHeader;
using train::kOtChannel;
using train::kTestEndRow;
using train::kTrainEndRow;
using train::kValEndRow;
using train::load_ett_csv;
using train::load_ett_splits;
using train::parse_ett_csv;
using train::require_protocol_rows;
using train::split_name;
using train::train_statistics;
using train::WindowedSeries;

}  // namespace qrt::samples
